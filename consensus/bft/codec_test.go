package bft

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// sampleMessages returns real messages of a short simulation, of every
// kind.
func sampleMessages(t testing.TB) [][]byte {
	o := defaultSimOpts(1)
	o.n, o.ticks, o.calmTicks, o.crashP = 4, 120, 0, 0
	o.noLive = true
	s := newSim(t, 1, o, nil)
	s.collect = true
	s.run()
	kinds := map[string]bool{}
	var out [][]byte
	for _, raw := range s.sent {
		m, err := DecodeMessage(raw)
		if err != nil {
			t.Fatalf("a sent message does not decode: %v", err)
		}
		if k := msgType(m); !kinds[k] {
			kinds[k] = true
			out = append(out, raw)
		}
	}
	if len(kinds) != 5 {
		t.Fatalf("the sample has message kinds %v, want all five", kinds)
	}
	return out
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, raw := range sampleMessages(t) {
		m, err := DecodeMessage(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(EncodeMessage(m), raw) {
			t.Fatal("a decoded message does not encode to its bytes")
		}
		if p := m.GetProposal(); p != nil {
			b, err := DecodeBlock(EncodeBlock(p.Block))
			if err != nil || !bytes.Equal(EncodeBlock(b), EncodeBlock(p.Block)) {
				t.Fatalf("block round trip: %v", err)
			}
		}
	}
	st := &pb.SafetyState{Version: WireVersion, LastVotedRound: 3, HighTimeoutRound: 2, Epoch: 1}
	back, err := DecodeSafetyState(EncodeSafetyState(st))
	if err != nil || back.LastVotedRound != 3 || back.Epoch != 1 {
		t.Fatalf("safety state round trip: %v %v", back, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	var vote []byte
	for _, raw := range sampleMessages(t) {
		if m, _ := DecodeMessage(raw); m.GetVote() != nil {
			vote = raw
		}
	}
	m, _ := DecodeMessage(vote)
	mut := func(f func(*pb.Message)) []byte {
		c := cloneMsg(m)
		f(c)
		return types.EncodeCanonical(c)
	}
	cases := map[string][]byte{
		"empty":           nil,
		"garbage":         []byte{0xff, 0xff, 0xff},
		"newer version":   mut(func(c *pb.Message) { c.Version = 2 }),
		"no version":      mut(func(c *pb.Message) { c.Version = 0 }),
		"unknown field":   protowire.AppendBytes(protowire.AppendTag(bytes.Clone(vote), 99, protowire.BytesType), []byte("x")),
		"no body":         mut(func(c *pb.Message) { c.Body = nil }),
		"short hash":      mut(func(c *pb.Message) { c.GetVote().Data.Block = []byte{1} }),
		"no signature":    mut(func(c *pb.Message) { c.GetVote().Sig = nil }),
		"no voter":        mut(func(c *pb.Message) { c.GetVote().Voter = nil }),
		"fetch of none":   types.EncodeCanonical(&pb.Message{Version: 1, Body: &pb.Message_FetchRequest{FetchRequest: &pb.FetchRequest{Hash: make([]byte, 32)}}}),
		"bitmap mismatch": types.EncodeCanonical(&pb.Message{Version: 1, Body: &pb.Message_Timeout{Timeout: &pb.Timeout{Round: 2, Voter: []byte("n1"), Sig: []byte{1}, HighQc: &pb.QC{Data: m.GetVote().Data, Signers: []byte{7}, Sigs: [][]byte{{1}}}}}}),
		"not canonical":   append(bytes.Clone(vote), vote[:2]...), // the version field again
	}
	for name, b := range cases {
		if _, err := DecodeMessage(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: err = %v, want ErrBadMessage", name, err)
		}
	}
	if _, err := DecodeSafetyState(types.EncodeCanonical(&pb.SafetyState{Version: 9})); !errors.Is(err, ErrBadMessage) {
		t.Errorf("safety state of version 9: %v", err)
	}
	if _, err := DecodeBlock(types.EncodeCanonical(&pb.Block{Version: 1, Round: 1, Height: 1, Parent: []byte{1}})); !errors.Is(err, ErrBadMessage) {
		t.Errorf("block with a short parent hash: %v", err)
	}
}
