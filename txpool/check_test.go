package txpool

import (
	"errors"
	"testing"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

func TestCheckRefusesBeforeVerification(t *testing.T) {
	errNo := errors.New("not allowed")
	p := newTestPool(t, Config{}, newState())
	p.SetCheck(func(tx *types.Tx) error {
		if tx.Body.Method == "forbidden" {
			return errNo
		}
		return nil
	})
	k := keyFor(t, crypto.Ed25519, "checked")
	res := p.Submit(raws(signTx(t, k, 0, withMethod("forbidden")), signTx(t, k, 0)))
	if !errors.Is(res[0].Err, errNo) {
		t.Fatalf("refused tx: got %v, want the check's error", res[0].Err)
	}
	if res[1].Err != nil {
		t.Fatalf("allowed tx: %v", res[1].Err)
	}
	st := p.Stats()
	if st.Rejected[ReasonPolicy] != 1 || st.Verified != 1 {
		t.Fatalf("stats: policy rejections %d, verified %d; want 1 and 1 (the refused tx is never verified)", st.Rejected[ReasonPolicy], st.Verified)
	}
}

func TestNextNonceCountsPooledRun(t *testing.T) {
	st := newState()
	p := newTestPool(t, Config{}, st)
	k := keyFor(t, crypto.Ed25519, "nn")
	a := addrOf(k)
	if _, ok := p.NextNonce(a); ok {
		t.Fatal("unknown sender reported")
	}
	st.set(a, 4)
	for _, r := range p.Submit(raws(signTx(t, k, 4), signTx(t, k, 5), signTx(t, k, 7))) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if n, ok := p.NextNonce(a); !ok || n != 6 {
		t.Fatalf("NextNonce = %d, %v; want 6 (4 and 5 pooled, 6 missing)", n, ok)
	}
}
