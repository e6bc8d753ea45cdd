package txpool

import (
	"testing"

	"github.com/accord-chain/accord/crypto"
)

// FuzzSubmit feeds arbitrary bytes to Submit: it must answer without
// panicking, admit only what decodes, verifies and fits, and keep its
// bookkeeping straight.
func FuzzSubmit(f *testing.F) {
	key := keyFor(f, crypto.Ed25519, "fuzz")
	f.Add(signTx(f, key, 0).Raw)
	f.Add(signTx(f, key, 3, withArgs([]byte("args"))).Raw)
	f.Add(flipped(f, signTx(f, key, 0)).Raw)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00})
	newPool := func() *Pool {
		p, err := New(Config{Workers: 1, MaxTxs: 4}, testChain, crypto.SHA256, newState(), clock)
		if err != nil {
			f.Fatal(err)
		}
		return p
	}
	p := newPool()
	f.Fuzz(func(t *testing.T, raw []byte) {
		if p.Len() == 4 {
			p = newPool() // Workers: 1 starts no goroutine; nothing to close
		}
		before := p.Len()
		r := p.Submit([][]byte{raw})[0]
		if r.Err == nil {
			if r.ID.IsZero() || p.Len() != before+1 {
				t.Fatalf("admitted with id %s, Len %d -> %d", r.ID, before, p.Len())
			}
		} else if p.Len() != before {
			t.Fatalf("rejected (%v) but Len %d -> %d", r.Err, before, p.Len())
		}
		if err := checkInvariants(p); err != nil {
			t.Fatal(err)
		}
	})
}
