package crypto

import (
	"crypto/rand"
	"fmt"
	"io"
)

// PrivateKey signs messages for one scheme.
type PrivateKey interface {
	Scheme() Scheme
	Public() PublicKey
	// Sign returns a SignatureSize signature of msg. P-256 signatures are
	// always low-S.
	Sign(msg []byte) ([]byte, error)
	// Bytes returns the 32-byte seed for Ed25519 and the 32-byte big-endian
	// scalar for SM2 and P-256. The caller owns the returned slice.
	Bytes() []byte
}

// PublicKey verifies signatures for one scheme.
type PublicKey interface {
	Scheme() Scheme
	// Bytes returns the PublicKeySize encoding (compressed point for SM2 and
	// P-256). The caller owns the returned slice.
	Bytes() []byte
	// Verify gives the same verdict as the package-level Verify.
	Verify(msg, sig []byte) bool
}

// GenerateKey makes a key for s from rand, or from crypto/rand if rand is
// nil. Key material is read from rand directly (not through the standard
// library, which ignores custom readers since Go 1.26), so a deterministic
// reader gives deterministic keys, which tests and tools rely on.
func GenerateKey(s Scheme, rnd io.Reader) (PrivateKey, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrUnknownScheme, s)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [scalarSize]byte
	// Rejection sampling keeps scalars uniform. Ed25519 accepts any seed; for
	// both curves a 32-byte candidate fails with probability about 2^-32.
	for range 100 {
		if _, err := io.ReadFull(rnd, b[:]); err != nil {
			return nil, fmt.Errorf("crypto: generate %s key: %w", s, err)
		}
		k, err := PrivateKeyFromBytes(s, b[:])
		if err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("crypto: generate %s key: random source keeps yielding invalid scalars", s)
}

// PrivateKeyFromBytes decodes a key in the format returned by
// PrivateKey.Bytes. Scalars outside the valid range are rejected, not
// reduced, so that every key has exactly one encoding.
func PrivateKeyFromBytes(s Scheme, b []byte) (PrivateKey, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrUnknownScheme, s)
	}
	if len(b) != scalarSize {
		return nil, fmt.Errorf("%w: %s private key is %d bytes, want %d", ErrBadPrivateKey, s, len(b), scalarSize)
	}
	switch s {
	case Ed25519:
		return newEdPriv(b), nil
	case SM2:
		return newSM2Priv(b)
	default:
		return newP256Priv(b)
	}
}

// PublicKeyFromBytes decodes and validates a PublicKeySize encoding: SM2 and
// P-256 keys must be compressed points on the curve, Ed25519 keys must
// decode to a curve point (ZIP-215 accepts non-canonical encodings of y).
func PublicKeyFromBytes(s Scheme, b []byte) (PublicKey, error) {
	if err := checkPubSize(s, b); err != nil {
		return nil, err
	}
	switch s {
	case Ed25519:
		return parseEdPub(b)
	case SM2:
		return parseSM2Pub(b)
	default:
		return parseP256Pub(b)
	}
}

func checkPubSize(s Scheme, b []byte) error {
	if !s.Valid() {
		return fmt.Errorf("%w: %s", ErrUnknownScheme, s)
	}
	if len(b) != s.PublicKeySize() {
		return fmt.Errorf("%w: %s public key is %d bytes, want %d", ErrBadPublicKey, s, len(b), s.PublicKeySize())
	}
	return nil
}

func checkSigSize(s Scheme, sig []byte) error {
	if len(sig) != sigSize {
		return fmt.Errorf("%w: %s signature is %d bytes, want %d", ErrBadSignature, s, len(sig), sigSize)
	}
	return nil
}
