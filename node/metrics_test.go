package node_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/node/nodetest"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// TestCommitLatencyCountsCommittedTxs checks that the commit latency
// histogram observes every committed transaction this node admitted.
func TestCommitLatencyCountsCommittedTxs(t *testing.T) {
	res, err := provision.Init(provision.Options{Home: t.TempDir(), ChainID: "metrics-test"})
	if err != nil {
		t.Fatal(err)
	}
	url := nodetest.Start(t, res.Nodes[0].Home, nil)
	ks, err := keystore.Open(res.KeysDir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Get(provision.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	to, _ := crypto.GenerateKey(crypto.Ed25519, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := sdk.New(url)
	const n = 3
	for i := 0; i < n; i++ {
		id, err := c.Mint(ctx, admin.Private, types.AddressOf(to.Scheme(), to.Public().Bytes()), 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	count := regexp.MustCompile(`(?m)^accord_tx_commit_latency_seconds_count (\d+)$`)
	var got int
	for ctx.Err() == nil {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := count.FindSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no accord_tx_commit_latency_seconds_count:\n%s", body)
		}
		if got, _ = strconv.Atoi(string(m[1])); got >= n {
			return
		}
		time.Sleep(20 * time.Millisecond) // poll until the pipeline has observed the blocks
	}
	t.Fatalf("accord_tx_commit_latency_seconds_count is %d after %d committed transactions; want %d", got, n, n)
}
