package chain

import (
	"testing"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// TestHistoryOf: a transaction is in its sender's history and in that of
// every account its events name as from, to, payer or owner, once each; a
// failed one only in its sender's.
func TestHistoryOf(t *testing.T) {
	a := exectest.NewAccount(crypto.Ed25519, 1, "c", crypto.SHA256)
	b := exectest.NewAccount(crypto.Ed25519, 2, "c", crypto.SHA256)
	c := exectest.NewAccount(crypto.Ed25519, 3, "c", crypto.SHA256)
	txs := []*types.Tx{a.Tx("pay", "pay", nil), b.Tx("token", "transfer", nil)}
	attr := func(k string, v types.Address) *pb.Attribute { return &pb.Attribute{Key: k, Value: v.String()} }
	receipts := []*pb.Receipt{
		{Events: []*pb.Event{
			{Contract: "token", Name: "transfer", Attributes: []*pb.Attribute{attr("from", a.Address), attr("to", c.Address), {Key: "amount", Value: "5"}}},
			{Contract: "pay", Name: "pay", Attributes: []*pb.Attribute{attr("payer", a.Address), attr("to", c.Address), {Key: "merchant", Value: "m"}}},
		}},
		{Status: pb.TxStatus_TX_STATUS_FAILED, Message: "insufficient balance"},
	}
	got := historyOf(txs, receipts)
	want := []struct {
		acct  types.Address
		index uint32
	}{{a.Address, 0}, {c.Address, 0}, {b.Address, 1}}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if g := got[i]; g.Account != w.acct || g.Index != w.index || g.TxID != txs[w.index].ID || g.Contract != txs[w.index].Body.Contract {
			t.Errorf("entry %d = %+v, want account %s at index %d", i, g, w.acct, w.index)
		}
	}
	if got[2].Status != uint8(pb.TxStatus_TX_STATUS_FAILED) {
		t.Errorf("the failed transaction's status is %d", got[2].Status)
	}
}
