package governance

import (
	"bytes"
	"testing"
)

// FuzzDecodeChange: the change decoder never panics, and what it accepts
// encodes back to the same bytes (one encoding, one digest to endorse).
func FuzzDecodeChange(f *testing.F) {
	for _, c := range []Change{
		{Kind: KindRemoveOrg, Org: "org2"},
		{Kind: KindRevoke, Org: "org1", Serial: "1f"},
		{Kind: KindFreeze, Address: "00112233445566778899aabbccddeeff00112233"},
		{Kind: KindSetPolicy, Method: "token.mint", Policy: "SET(1 of org1; admin)"},
		{Kind: KindSetParams, Params: &Params{MaxBlockTxs: 5000}},
		{Kind: KindAddNode, Node: &Node{ID: "node4", Org: "org5", Addr: "127.0.0.1:7110"}},
	} {
		f.Add(c.Encode())
	}
	f.Add([]byte(`{"kind":"add_org","org":"x","org":"y"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeChange(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatalf("accepted %q, which encodes as %q", b, c.Encode())
		}
		var s State
		_ = c.Apply(&s) // must not panic on an empty state
	})
}

// FuzzDecodeArgs: argument decoding never panics.
func FuzzDecodeArgs(f *testing.F) {
	f.Add(Args(VoteArgs{ID: 1, Endorsements: []byte{1, 0}}))
	f.Add(Args(SubmitArgs{Change: []byte(`{"kind":"remove_org","org":"a"}`), ID: OfflineIDBase}))
	f.Add(Args(KeyArgs{Org: "o", Role: "client", Name: "n", Scheme: "ed25519", PublicKey: "00"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []any{&SubmitArgs{}, &ProposeArgs{}, &VoteArgs{}, &RevokeArgs{}, &RegisterCertArgs{}, &KeyArgs{}} {
			_ = DecodeArgs(b, v)
		}
	})
}
