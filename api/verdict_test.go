package api

import (
	"errors"
	"fmt"
	"testing"

	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// TestVerdictRoundTrip: every refusal the API classifies reaches a
// forwarding node's client with the code and reason the leader gave it,
// through Accord's reasons on the wire.
func TestVerdictRoundTrip(t *testing.T) {
	errs := []error{errors.New("something unexpected")}
	for _, r := range reasons {
		errs = append(errs, fmt.Errorf("wrapped: %w", r.err))
	}
	for _, err := range errs {
		code, reason := Classify(err)
		w := WireReason(err)
		if w == p2ppb.Reason_REASON_ADMITTED {
			t.Fatalf("%v: sent as admitted", err)
		}
		got, derr := Refusal(w, err.Error())
		if derr != nil {
			t.Fatalf("%v: %v", err, derr)
		}
		if got.Code != code || got.Reason != reason || got.Msg != err.Error() {
			t.Errorf("%v: leader classified it %v %q, the client gets %v %q %q", err, code, reason, got.Code, got.Reason, got.Msg)
		}
	}
	for v := range p2ppb.Reason_name {
		r := p2ppb.Reason(v)
		if r == p2ppb.Reason_REASON_ADMITTED {
			continue
		}
		e, err := Refusal(r, "m")
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if back := WireReason(e); back != r {
			t.Errorf("%s reads back as %s", r, back)
		}
	}
	if _, err := Refusal(p2ppb.Reason(999), "m"); !errors.Is(err, p2ppb.ErrMalformed) {
		t.Errorf("an unknown reason: %v, want ErrMalformed", err)
	}
}
