package wasm

import (
	"bytes"
	"errors"
	"testing"
)

func TestApprovalsRoundTrip(t *testing.T) {
	in := []Approval{{"org1", "admin"}, {"", ""}, {"org2", "client"}}
	out, err := DecodeApprovals(EncodeApprovals(in))
	if err != nil || len(out) != 3 || out[0] != in[0] || out[1] != in[1] || out[2] != in[2] {
		t.Fatalf("round trip = %v, %v; want %v", out, err, in)
	}
	for _, bad := range [][]byte{{1}, {1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0, 5, 0, 0, 0, 'a'}} {
		if _, err := DecodeApprovals(bad); !errors.Is(err, ErrBadApprovals) {
			t.Errorf("decode %v: %v; want ErrBadApprovals", bad, err)
		}
	}
}

// FuzzDecodeApprovals: a contract's approvals encoding must never crash the
// host, and what decodes must re-encode to the same bytes.
func FuzzDecodeApprovals(f *testing.F) {
	f.Add(EncodeApprovals([]Approval{{"org1", "admin"}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		as, err := DecodeApprovals(b)
		if err != nil {
			return
		}
		if out := EncodeApprovals(as); !bytes.Equal(out, b) {
			t.Fatalf("re-encoding %x gave %x", b, out)
		}
	})
}
