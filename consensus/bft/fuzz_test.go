package bft

import (
	"bytes"
	"errors"
	"testing"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// Every decoder of bytes from outside has a fuzz target (listed in
// .ci/run): what it accepts re-encodes to the same bytes, and what it
// refuses, it refuses with ErrBadMessage.

func FuzzDecodeMessage(f *testing.F) {
	for _, raw := range append(sampleMessages(f), sampleSyncMessages(f)...) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(EncodeMessage(m), b) {
			t.Fatal("accepted message does not re-encode to its bytes")
		}
	})
}

func FuzzDecodeBlock(f *testing.F) {
	for _, raw := range sampleMessages(f) {
		if m, _ := DecodeMessage(raw); m.GetProposal() != nil {
			f.Add(EncodeBlock(m.GetProposal().Block))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := DecodeBlock(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(EncodeBlock(blk), b) {
			t.Fatal("accepted block does not re-encode to its bytes")
		}
	})
}

func FuzzDecodeSafetyState(f *testing.F) {
	for _, raw := range sampleMessages(f) {
		if m, _ := DecodeMessage(raw); m.GetTimeout() != nil {
			f.Add(EncodeSafetyState(&pb.SafetyState{Version: WireVersion, LastVotedRound: 4, HighQc: m.GetTimeout().HighQc}))
		}
	}
	f.Add(types.EncodeCanonical(&pb.SafetyState{Version: 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := DecodeSafetyState(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(EncodeSafetyState(st), b) {
			t.Fatal("accepted state does not re-encode to its bytes")
		}
	})
}

// FuzzStep feeds whatever decodes into a core: it must not panic, and a
// message that breaks no rule but is refused must say why.
func FuzzStep(f *testing.F) {
	for _, raw := range sampleMessages(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		c, err := New(Config{ID: "n1", ChainID: "sim", Signer: fakeKey{"n1"}, Verifier: fakeVerifier{},
			Validators: fakeSet(ids(4))}, genesis(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Ready()
		c.Advance()
		if err := c.Step("n2", m); err != nil && !errors.Is(err, ErrBadMessage) {
			t.Fatalf("Step: %v", err)
		}
		if c.HasReady() {
			c.Ready()
			c.Advance()
		}
	})
}
