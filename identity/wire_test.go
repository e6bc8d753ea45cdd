package identity

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/crypto"
	idpb "github.com/accord-chain/accord/identity/pb"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// TestWireRefusesOtherEncodings: endorsements and keys decode only from
// their own version, with no field this node does not know, in canonical
// form; anything else is refused with the package's sentinel and a reason.
func TestWireRefusesOtherEncodings(t *testing.T) {
	w := newWorld(t, crypto.P256, 1)
	m := w.issue("org1", "a", Admin)
	p := &Proposal{ChainID: "c", ID: 1, Payload: []byte("x")}
	e, err := Endorse(m.key, m.ref(), p, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	es := EncodeEndorsements([]Endorsement{e})
	key := Key{Org: "org1", Role: Client, Name: "shop", Scheme: crypto.Ed25519, PublicKey: w.key(crypto.Ed25519).Public().Bytes()}.Encode()
	unknown := func(b []byte) []byte {
		return protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), b...), 99, protowire.VarintType), 1)
	}
	with := func(b []byte, m proto.Message, change func()) []byte {
		if err := proto.Unmarshal(b, m); err != nil {
			t.Fatal(err)
		}
		change()
		return types.EncodeCanonical(m)
	}
	var em idpb.Endorsements
	var km idpb.Key
	for name, tc := range map[string]struct {
		b      []byte
		decode func([]byte) error
		want   string
	}{
		"endorsements version": {with(es, &em, func() { em.Version = 1 }), decodeEndorsements, "version 1, this node knows 2"},
		"endorsements unknown": {unknown(es), decodeEndorsements, "does not know"},
		"endorser unknown": {with(es, &em, func() {
			em.Endorsements[0].Signer.ProtoReflect().SetUnknown(unknown(nil))
		}), decodeEndorsements, "does not know"},
		"endorser with scheme": {with(es, &em, func() { em.Endorsements[0].Signer.Scheme = pb.Scheme_SCHEME_P256 }), decodeEndorsements, "no scheme"},
		"short signature":      {with(es, &em, func() { em.Endorsements[0].Signature = []byte{1} }), decodeEndorsements, "want 64"},
		"key version":          {with(key, &km, func() { km.Version = 3 }), decodeKey, "version 3, this node knows 2"},
		"key unknown":          {unknown(key), decodeKey, "does not know"},
		"key role":             {with(key, &km, func() { km.Role = 300 }), decodeKey, "bad organisation, role"},
		"key scheme":           {with(key, &km, func() { km.Scheme = 257 }), decodeKey, "bad organisation, role"},
	} {
		if err := tc.decode(tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
}

func decodeEndorsements(b []byte) error {
	_, err := DecodeEndorsements(b)
	if err != nil && !errors.Is(err, ErrBadEndorsement) {
		return errors.New("error wraps no ErrBadEndorsement: " + err.Error())
	}
	return err
}

func decodeKey(b []byte) error {
	_, err := DecodeKey(b)
	if err != nil && !errors.Is(err, ErrBadKey) {
		return errors.New("error wraps no ErrBadKey: " + err.Error())
	}
	return err
}
