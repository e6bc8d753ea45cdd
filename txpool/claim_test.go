package txpool

import (
	"errors"
	"slices"
	"testing"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

func mustInvariants(t *testing.T, p *Pool) {
	t.Helper()
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

// Another leader's block carries a0 and a1: this pool must not reap them,
// may reap a2 after them, and gets them back when that block is abandoned.
func TestClaimKeepsBlockedTxsFromReap(t *testing.T) {
	a, b := keyFor(t, crypto.Ed25519, "alice"), keyFor(t, crypto.Ed25519, "bob")
	st := newState()
	p := newTestPool(t, Config{}, st)
	a0, a1, a2, b0 := signTx(t, a, 0), signTx(t, a, 1), signTx(t, a, 2), signTx(t, b, 0)
	mustAdmit(t, p, a0, a1, a2, b0)
	p.Claim(ids([]*types.Tx{a0, a1}))
	mustInvariants(t, p)
	if n, _ := p.ReadyLen(); n != 2 {
		t.Fatalf("after Claim: %d ready, want a2 and b0", n)
	}
	got := p.Reap(10, 1<<20)
	if !slices.Equal(ids(got), ids([]*types.Tx{a2, b0})) {
		t.Fatalf("reaped nonces %v, want a2 then b0", nonces(got))
	}
	// The claiming block is abandoned, and so is this pool's a2 block:
	// everything comes back, alice's in nonce order.
	p.Unclaim(ids([]*types.Tx{a0, a1, a2, b0}))
	mustInvariants(t, p)
	got = p.Reap(10, 1<<20)
	if len(got) != 4 || !slices.Equal(nonces(slices.DeleteFunc(slices.Clone(got), func(tx *types.Tx) bool { return tx.Sender != a0.Sender })), []uint64{0, 1, 2}) {
		t.Fatalf("reaped nonces %v after Unclaim, want all four, alice's in order", nonces(got))
	}
}

// Unclaiming one block leaves what another block on its way carries
// claimed; a claimed transaction commits and goes.
func TestUnclaimOnlyWhatItNames(t *testing.T) {
	a := keyFor(t, crypto.Ed25519, "alice")
	st := newState()
	p := newTestPool(t, Config{}, st)
	a0, a1, a2 := signTx(t, a, 0), signTx(t, a, 1), signTx(t, a, 2)
	mustAdmit(t, p, a0, a1, a2)
	p.Claim(ids([]*types.Tx{a0}))
	p.Claim(ids([]*types.Tx{a1}))
	p.Unclaim(ids([]*types.Tx{a1}))
	mustInvariants(t, p)
	got := p.Reap(10, 1<<20)
	if !slices.Equal(ids(got), ids([]*types.Tx{a1, a2})) {
		t.Fatalf("reaped nonces %v, want 1 and 2 (0 stays claimed)", nonces(got))
	}
	commit(p, st, []*types.Tx{a0, a1, a2}, nil)
	mustInvariants(t, p)
	if p.Len() != 0 {
		t.Fatalf("Len %d after the commit, want 0", p.Len())
	}
}

// A transaction claimed before it arrives (the block came first) is
// pooled as claimed: not reapable, its successor is; a client's second
// copy is a duplicate. Update forgets the claim.
func TestClaimBeforeArrival(t *testing.T) {
	a := keyFor(t, crypto.Ed25519, "alice")
	st := newState()
	p := newTestPool(t, Config{}, st)
	a0, a1 := signTx(t, a, 0), signTx(t, a, 1)
	p.Claim(ids([]*types.Tx{a0}))
	mustAdmit(t, p, a0, a1)
	mustInvariants(t, p)
	got := p.Reap(10, 1<<20)
	if !slices.Equal(ids(got), ids([]*types.Tx{a1})) {
		t.Fatalf("reaped nonces %v, want only 1", nonces(got))
	}
	if err := submitOne(p, a0); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second copy of a claimed tx: %v, want ErrDuplicate", err)
	}
	commit(p, st, []*types.Tx{a0, a1}, nil)
	mustInvariants(t, p)
	if p.Len() != 0 || len(p.claimed) != 0 {
		t.Fatalf("after the commit: Len %d, %d remembered claims; want none", p.Len(), len(p.claimed))
	}
	// A claim forgotten by Unclaim leaves a later copy ready.
	a2 := signTx(t, a, 2)
	p.Claim(ids([]*types.Tx{a2}))
	p.Unclaim(ids([]*types.Tx{a2}))
	mustAdmit(t, p, a2)
	if n, _ := p.ReadyLen(); n != 1 {
		t.Fatalf("after Unclaim and arrival: %d ready, want 1", n)
	}
}
