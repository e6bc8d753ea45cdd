package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Evidence is two conflicting messages (two proposals or two votes for one
// round) signed by one validator. A and B are the encoded
// accord.bft.v1.Message, in hex.
type Evidence struct {
	Validator string `json:"validator"`
	Round     uint64 `json:"round"`
	A         string `json:"a"`
	B         string `json:"b"`
}

// ErrNoEvidence is returned by Evidence from a node that keeps none: it
// does not run BFT consensus.
var ErrNoEvidence = errors.New("the node keeps no evidence: it does not run bft consensus")

// Evidence reads the equivocations a BFT node has seen (GET /v1/evidence):
// pairs of conflicting messages signed by one validator for one round.
func (c *Client) Evidence(ctx context.Context) ([]Evidence, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.url, "/")+"/v1/evidence", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, ErrNoEvidence
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/evidence: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var out struct {
		Evidence []Evidence `json:"evidence"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /v1/evidence: a bad answer: %w", err)
	}
	return out.Evidence, nil
}
