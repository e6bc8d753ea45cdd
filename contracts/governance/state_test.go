package governance

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	govpb "github.com/accord-chain/accord/contracts/governance/pb"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
)

// TestStateDecodersRefuseOtherEncodings: what the contract reads back from
// state is its own version of its own messages; anything else is
// corruption, reported as such.
func TestStateDecodersRefuseOtherEncodings(t *testing.T) {
	p := &Proposal{ID: 1, Change: (&Change{Kind: KindRemoveOrg, Org: "a"}).Encode(), Deadline: 9, Proposer: "ab", Created: 3}
	if got, err := getProposal(bytesGetter(p.encode()), 1); err != nil || got.Deadline != 9 || got.Proposer != "ab" {
		t.Fatalf("getProposal(encode) = %+v, %v", got, err)
	}
	unknown := protowire.AppendVarint(protowire.AppendTag(p.encode(), 99, protowire.VarintType), 1)
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"json, as before": {[]byte(`{"id":1,"deadline":9}`), "not a valid Proposal"},
		"newer version":   {types.EncodeCanonical(&govpb.Proposal{Version: 2, Id: 1}), "Proposal version 2, this node knows 1"},
		"unknown field":   {unknown, "does not know"},
	} {
		_, err := getProposal(bytesGetter(tc.b), 1)
		if !errors.Is(err, execution.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("proposal %s: %v, want ErrCorrupt saying %q", name, err, tc.want)
		}
	}
	if _, err := decodeParams(types.EncodeCanonical(&govpb.Params{Version: 2})); !errors.Is(err, execution.ErrCorrupt) {
		t.Errorf("params of version 2: %v, want ErrCorrupt", err)
	}
	if _, err := govcall.DecodeNodes(types.EncodeCanonical(&govpb.Nodes{Version: 2})); !errors.Is(err, types.ErrNotCanonical) {
		t.Errorf("nodes of version 2: %v, want ErrNotCanonical", err)
	}
}
