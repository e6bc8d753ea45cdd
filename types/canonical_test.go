package types

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/accord-chain/accord/types/pb"
)

// TestDecodeVersioned: only the canonical encoding of the wanted version,
// with no unknown field at any depth, decodes; each refusal says why.
func TestDecodeVersioned(t *testing.T) {
	msg := &pb.TxPayload{Version: 1, ChainId: "c", Signer: &pb.Signer{Scheme: pb.Scheme_SCHEME_ED25519}, Contract: "token"}
	good := EncodeCanonical(msg)
	var got pb.TxPayload
	if err := DecodeVersioned(good, &got, 1); err != nil || got.ChainId != "c" {
		t.Fatalf("DecodeVersioned(EncodeCanonical) = %v, %v", &got, err)
	}
	unknown := protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1)
	nested := &pb.TxPayload{Version: 1, Signer: &pb.Signer{}}
	nested.Signer.ProtoReflect().SetUnknown(unknown)
	// The same fields, chain_id before version: valid protobuf, not canonical.
	reordered := protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "c")
	reordered = protowire.AppendVarint(protowire.AppendTag(reordered, 1, protowire.VarintType), 1)
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"other version":  {good, "TxPayload version 1, this node knows 2"},
		"garbage":        {[]byte{0xff}, "not a valid TxPayload"},
		"unknown field":  {append(EncodeCanonical(msg), unknown...), "does not know"},
		"nested unknown": {EncodeCanonical(nested), "does not know"},
		"reordered":      {reordered, "not in canonical form"},
	} {
		want := uint32(1)
		if name == "other version" {
			want = 2
		}
		err := DecodeVersioned(tc.b, &got, want)
		if !errors.Is(err, ErrNotCanonical) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrNotCanonical saying %q", name, err, tc.want)
		}
	}
}
