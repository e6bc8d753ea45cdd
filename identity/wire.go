package identity

import (
	"bytes"
	"fmt"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// Wire encodings of signer references, endorsements and registered keys.
// Each starts with a version byte that only goes up.

const (
	// WireVersion is the version byte of the encodings in this file.
	WireVersion = 1
	// MaxEndorsements is the most endorsements one encoding may carry.
	MaxEndorsements = 256
)

const (
	refCert = 1
	refHash = 2
	refKey  = 3
)

func (ref *Ref) encode(e *enc) {
	switch {
	case len(ref.Cert) > 0:
		e.byte(refCert)
		e.bytes(ref.Cert)
	case !ref.CertHash.IsZero():
		e.byte(refHash)
		e.b = append(e.b, ref.CertHash[:]...)
	default:
		e.byte(refKey)
		e.byte(byte(ref.Scheme))
		e.bytes(ref.PublicKey)
	}
}

func decodeRef(d *dec) Ref {
	var ref Ref
	switch d.byte() {
	case refCert:
		ref.Cert = bytes.Clone(d.bytes(MaxCertSize))
		if d.err == nil && len(ref.Cert) == 0 {
			d.fail(errShort)
		}
	case refHash:
		if len(d.b) < len(ref.CertHash) {
			d.fail(errShort)
			return ref
		}
		ref.CertHash = types.Hash(d.b[:len(ref.CertHash)])
		d.b = d.b[len(ref.CertHash):]
		if ref.CertHash.IsZero() {
			d.fail(errShort)
		}
	case refKey:
		ref.Scheme = crypto.Scheme(d.byte())
		ref.PublicKey = bytes.Clone(d.bytes(64))
		if d.err == nil && (!ref.Scheme.Valid() || len(ref.PublicKey) != ref.Scheme.PublicKeySize()) {
			d.fail(fmt.Errorf("bad %s public key", ref.Scheme))
		}
	default:
		d.fail(errShort)
	}
	return ref
}

// EncodeEndorsements encodes endorsements, for an offline collection or a
// governance transaction.
func EncodeEndorsements(es []Endorsement) []byte {
	e := &enc{}
	e.byte(WireVersion)
	e.u(uint64(len(es)))
	for i := range es {
		es[i].Signer.encode(e)
		e.bytes(es[i].Signature)
	}
	return e.b
}

// DecodeEndorsements decodes an EncodeEndorsements encoding of at most
// MaxEndorsements endorsements. It checks shapes only; Registry.Endorsed
// checks signatures and signers.
func DecodeEndorsements(b []byte) ([]Endorsement, error) {
	d := &dec{b: b}
	if v := d.byte(); d.err == nil && v != WireVersion {
		return nil, fmt.Errorf("%w: endorsement encoding version %d, this node knows %d", ErrBadEndorsement, v, WireVersion)
	}
	n := d.count()
	if n > MaxEndorsements {
		return nil, fmt.Errorf("%w: %d endorsements, at most %d allowed", ErrBadEndorsement, n, MaxEndorsements)
	}
	var es []Endorsement
	for i := 0; i < n && d.err == nil; i++ {
		ref := decodeRef(d)
		sig := bytes.Clone(d.bytes(64))
		if d.err == nil && len(sig) != 64 {
			d.fail(fmt.Errorf("signature is %d bytes, want 64", len(sig)))
		}
		es = append(es, Endorsement{Signer: ref, Signature: sig})
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Errorf("%d trailing bytes", len(d.b)))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEndorsement, d.err)
	}
	return es, nil
}

// Encode encodes a registered key for the chain state.
func (k Key) Encode() []byte {
	e := &enc{}
	e.byte(WireVersion)
	e.str(k.Org)
	e.byte(byte(k.Role))
	e.str(k.Name)
	e.byte(byte(k.Scheme))
	e.bytes(k.PublicKey)
	return e.b
}

// DecodeKey decodes a Key.Encode encoding and checks its fields' shapes;
// Registry.RegisterKey checks the organisation and the key.
func DecodeKey(b []byte) (Key, error) {
	d := &dec{b: b}
	if v := d.byte(); d.err == nil && v != WireVersion {
		return Key{}, fmt.Errorf("%w: key encoding version %d, this node knows %d", ErrBadKey, v, WireVersion)
	}
	k := Key{Org: d.str(64), Role: Role(d.byte()), Name: d.str(MaxNameLen), Scheme: crypto.Scheme(d.byte()), PublicKey: bytes.Clone(d.bytes(64))}
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Errorf("%d trailing bytes", len(d.b)))
	}
	if d.err == nil && (!ValidOrgID(k.Org) || !k.Role.Valid() || !validName(k.Name) ||
		!k.Scheme.Valid() || len(k.PublicKey) != k.Scheme.PublicKeySize()) {
		d.fail(fmt.Errorf("bad organisation, role, name or key"))
	}
	if d.err != nil {
		return Key{}, fmt.Errorf("%w: %v", ErrBadKey, d.err)
	}
	return k, nil
}
