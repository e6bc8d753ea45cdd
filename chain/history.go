package chain

import (
	"encoding/hex"

	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// historyAttrs are the event attributes that name an account whose
// history a transaction belongs in, beside its sender: the token's
// from and to, the pay contract's payer (a refund's; a payment's payer is
// its sender) and to or owner (a merchant's owner).
var historyAttrs = [...]string{"from", "to", "payer", "owner"}

// historyOf lists, for the store's account history index, the accounts
// each transaction of a block names: its sender, and every account its
// events name in historyAttrs. A failed or invalid transaction has no
// events, so only its sender sees it.
func historyOf(txs []*types.Tx, receipts []*pb.Receipt) []store.HistoryEntry {
	out := make([]store.HistoryEntry, 0, 3*len(txs))
	for i, tx := range txs {
		if tx == nil || tx.Body == nil || i >= len(receipts) {
			continue
		}
		e := store.HistoryEntry{Index: uint32(i), TxID: store.Hash(tx.ID), Contract: tx.Body.Contract, Method: tx.Body.Method, Status: uint8(receipts[i].Status)}
		if len(e.Contract) > 255 || len(e.Method) > 255 {
			continue // cannot be a valid call; nothing worth indexing
		}
		first := len(out)
		add := func(a types.Address) {
			for _, o := range out[first:] {
				if o.Account == a {
					return
				}
			}
			e.Account = a
			out = append(out, e)
		}
		add(tx.Sender)
		for _, ev := range receipts[i].Events {
			for _, at := range ev.Attributes {
				if !named(at.Key) || len(at.Value) != 2*len(types.Address{}) {
					continue
				}
				var a types.Address
				if _, err := hex.Decode(a[:], []byte(at.Value)); err == nil {
					add(a)
				}
			}
		}
	}
	return out
}

func named(key string) bool {
	for _, k := range historyAttrs {
		if k == key {
			return true
		}
	}
	return false
}
