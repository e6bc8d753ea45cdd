package identity

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/accord-chain/accord/crypto"
	idpb "github.com/accord-chain/accord/identity/pb"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Wire encodings of endorsements and registered keys: the messages of
// proto/accord/identity/v1, encoded canonically (types.EncodeCanonical).

const (
	// WireVersion is the version of the Endorsements and Key messages; it
	// only goes up (1 was a hand-made encoding).
	WireVersion = 2
	// MaxEndorsements is the most endorsements one encoding may carry.
	MaxEndorsements = 256
	// maxEndorsementsSize bounds an encoding before it is parsed: every
	// endorsement at most a certificate and a signature.
	maxEndorsementsSize = MaxEndorsements * (MaxCertSize + 128)
)

// signer is ref as a transaction's signer names it.
func (ref *Ref) signer() *pb.Signer {
	switch {
	case len(ref.Cert) > 0:
		return &pb.Signer{Identity: &pb.Signer_Certificate{Certificate: ref.Cert}}
	case !ref.CertHash.IsZero():
		return &pb.Signer{Identity: &pb.Signer_CertificateHash{CertificateHash: ref.CertHash[:]}}
	}
	return &pb.Signer{Scheme: pb.Scheme(ref.Scheme), Identity: &pb.Signer_PublicKey{PublicKey: ref.PublicKey}}
}

// refOf checks the shape of a decoded signer and returns it as a Ref.
func refOf(s *pb.Signer) (Ref, error) {
	var ref Ref
	switch id := s.GetIdentity().(type) {
	case *pb.Signer_Certificate:
		if len(id.Certificate) == 0 || len(id.Certificate) > MaxCertSize || s.Scheme != 0 {
			return ref, fmt.Errorf("a certificate signer has 1 to %d bytes of DER and no scheme", MaxCertSize)
		}
		ref.Cert = bytes.Clone(id.Certificate)
	case *pb.Signer_CertificateHash:
		if len(id.CertificateHash) != len(ref.CertHash) || s.Scheme != 0 {
			return ref, fmt.Errorf("a certificate hash is %d bytes, with no scheme", len(ref.CertHash))
		}
		ref.CertHash = types.Hash(id.CertificateHash)
		if ref.CertHash.IsZero() {
			return ref, errors.New("certificate hash is zero")
		}
	case *pb.Signer_PublicKey:
		ref.Scheme, ref.PublicKey = schemeOf(s.Scheme), bytes.Clone(id.PublicKey)
		if !ref.Scheme.Valid() || len(ref.PublicKey) != ref.Scheme.PublicKeySize() {
			return ref, fmt.Errorf("bad %s public key", ref.Scheme)
		}
	default:
		return ref, errors.New("signer names no certificate, certificate hash or public key")
	}
	return ref, nil
}

// EncodeEndorsements encodes endorsements, for an offline collection or a
// governance transaction.
func EncodeEndorsements(es []Endorsement) []byte {
	m := &idpb.Endorsements{Version: WireVersion}
	for i := range es {
		m.Endorsements = append(m.Endorsements, &idpb.Endorsement{Signer: es[i].Signer.signer(), Signature: es[i].Signature})
	}
	return types.EncodeCanonical(m)
}

// DecodeEndorsements decodes an EncodeEndorsements encoding of at most
// MaxEndorsements endorsements. It checks shapes only; Registry.Endorsed
// checks signatures and signers.
func DecodeEndorsements(b []byte) ([]Endorsement, error) {
	if len(b) > maxEndorsementsSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadEndorsement, len(b), maxEndorsementsSize)
	}
	var m idpb.Endorsements
	if err := types.DecodeVersioned(b, &m, WireVersion); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadEndorsement, err)
	}
	if len(m.Endorsements) > MaxEndorsements {
		return nil, fmt.Errorf("%w: %d endorsements, at most %d allowed", ErrBadEndorsement, len(m.Endorsements), MaxEndorsements)
	}
	es := make([]Endorsement, 0, len(m.Endorsements))
	for i, e := range m.Endorsements {
		ref, err := refOf(e.GetSigner())
		if err != nil {
			return nil, fmt.Errorf("%w: endorsement %d: %v", ErrBadEndorsement, i, err)
		}
		if len(e.Signature) != 64 {
			return nil, fmt.Errorf("%w: endorsement %d: signature is %d bytes, want 64", ErrBadEndorsement, i, len(e.Signature))
		}
		es = append(es, Endorsement{Signer: ref, Signature: bytes.Clone(e.Signature)})
	}
	return es, nil
}

// Encode encodes a registered key for the chain state.
func (k Key) Encode() []byte {
	return types.EncodeCanonical(&idpb.Key{Version: WireVersion, Org: k.Org, Role: idpb.Role(k.Role), Name: k.Name,
		Scheme: pb.Scheme(k.Scheme), PublicKey: k.PublicKey})
}

// DecodeKey decodes a Key.Encode encoding and checks its fields' shapes;
// Registry.RegisterKey checks the organisation and the key.
func DecodeKey(b []byte) (Key, error) {
	var m idpb.Key
	if err := types.DecodeVersioned(b, &m, WireVersion); err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	k := Key{Org: m.Org, Role: roleOf(m.Role), Name: m.Name, Scheme: schemeOf(m.Scheme), PublicKey: m.PublicKey}
	if !ValidOrgID(k.Org) || !k.Role.Valid() || !validName(k.Name) ||
		!k.Scheme.Valid() || len(k.PublicKey) != k.Scheme.PublicKeySize() {
		return Key{}, fmt.Errorf("%w: bad organisation, role, name or key", ErrBadKey)
	}
	return k, nil
}

// schemeOf converts a wire scheme; a number out of range becomes the zero
// scheme, which is not Valid.
func schemeOf(s pb.Scheme) crypto.Scheme {
	if s < 0 || s > 255 {
		return 0
	}
	return crypto.Scheme(s)
}

// roleOf converts a wire role; a number out of range becomes the zero
// role, which is not Valid.
func roleOf(r idpb.Role) Role {
	if r < 0 || r > 255 {
		return 0
	}
	return Role(r)
}
