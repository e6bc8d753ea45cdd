package pb

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	typespb "github.com/accord-chain/accord/types/pb"
)

// kinds are the messages Decode reads, one per node-to-node payload.
func kinds() []func() Message {
	return []func() Message{
		func() Message { return new(TxBatch) },
		func() Message { return new(Verdicts) },
		func() Message { return new(HashReport) },
		func() Message { return new(HashRequest) },
		func() Message { return new(SyncRequest) },
		func() Message { return new(SyncReply) },
		func() Message { return new(Member) },
		func() Message { return new(Members) },
		func() Message { return new(NodeChange) },
		func() Message { return new(NodeChangeReply) },
		func() Message { return new(MemberProof) },
	}
}

// TestDecodeRefuses: another version, an unknown field at the top or
// inside a nested message, and bytes that are no message are refused
// with ErrMalformed; the same message as sent decodes.
func TestDecodeRefuses(t *testing.T) {
	good := &Verdicts{Version: Version, Verdicts: []*Verdict{{}, {Reason: Reason_REASON_POOL_FULL, Message: "pool full"}}}
	b := Marshal(good)
	var got Verdicts
	if err := Decode(b, &got); err != nil || !proto.Equal(&got, good) {
		t.Fatalf("a good message: %v, %v", &got, err)
	}
	unknownTop := protowire.AppendBytes(protowire.AppendTag(bytes.Clone(b), 99, protowire.BytesType), []byte("x"))
	nested := protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1)
	unknownNested := protowire.AppendBytes(protowire.AppendTag(bytes.Clone(b), 2, protowire.BytesType), nested)
	change := Marshal(&NodeChange{Version: Version, Signer: &typespb.Signer{Scheme: 1}})
	unknownDeep := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), Version)
	unknownDeep = protowire.AppendBytes(protowire.AppendTag(unknownDeep, 3, protowire.BytesType), nested)
	for name, c := range map[string]struct {
		b []byte
		m Message
	}{
		"version 2":                 {Marshal(&Verdicts{Version: 2}), new(Verdicts)},
		"version 0":                 {nil, new(HashRequest)},
		"unknown field":             {unknownTop, new(Verdicts)},
		"unknown field in verdict":  {unknownNested, new(Verdicts)},
		"unknown field in a signer": {unknownDeep, new(NodeChange)},
		"not protobuf":              {[]byte{0xff, 0xff, 0xff}, new(TxBatch)},
	} {
		if err := Decode(c.b, c.m); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if err := Decode(change, new(NodeChange)); err != nil {
		t.Errorf("a node change with a signer: %v", err)
	}
}

// FuzzDecode: any bytes decode into any node-to-node message or give
// ErrMalformed, never a panic; what decodes has the current version and
// encodes back to a message that decodes equal.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(1), Marshal(&Verdicts{Version: Version, Verdicts: []*Verdict{{}, {Reason: 8, Message: "m"}}}))
	f.Add(uint8(2), Marshal(&HashReport{Version: Version, Height: 7, Hash: make([]byte, 32)}))
	f.Add(uint8(7), Marshal(&Members{Version: Version, Members: []*Member{{Version: Version, Id: 1, NodeId: "n", P2P: "a:1"}}}))
	f.Add(uint8(8), Marshal(&NodeChange{Version: Version, Change: []byte{1}, Signer: &typespb.Signer{Scheme: 1}}))
	f.Add(uint8(0), []byte{8, 1, 18, 0})
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		ks := kinds()
		mk := ks[int(kind)%len(ks)]
		m := mk()
		if err := Decode(b, m); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error without ErrMalformed: %v", err)
			}
			return
		}
		if m.GetVersion() != Version {
			t.Fatalf("decoded version %d", m.GetVersion())
		}
		again := mk()
		if err := Decode(Marshal(m), again); err != nil || !proto.Equal(m, again) {
			t.Fatalf("re-encoding changed the message: %v", err)
		}
	})
}
