package crypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
)

var (
	p256N, p256HalfN [scalarSize]byte
	p256NInt         *big.Int

	errHighS     = fmt.Errorf("%w: p256 s is above n/2, only low-S signatures are accepted", ErrBadSignature)
	errP256Sig   = fmt.Errorf("%w: p256 verification failed", ErrBadSignature)
	errP256Range = fmt.Errorf("%w: p256 scalar is zero or not below the group order", ErrBadPrivateKey)
)

func init() {
	// Constants come from the curve parameters rather than hex literals so a
	// typo cannot silently change which signatures are accepted.
	p256NInt = new(big.Int).Set(elliptic.P256().Params().N) // never alias the shared curve
	p256NInt.FillBytes(p256N[:])
	new(big.Int).Rsh(p256NInt, 1).FillBytes(p256HalfN[:])
}

func verifyP256(pub, msg, sig []byte) error {
	if err := checkP256Sig(sig); err != nil {
		return err
	}
	k, err := decompressP256(pub)
	if err != nil {
		return err
	}
	return verifyP256Key(k, msg, sig)
}

// checkP256Sig applies the range and low-S rules before any curve
// arithmetic: the library accepts high S, so the malleability rule has to
// be enforced here.
func checkP256Sig(sig []byte) error {
	r, s := sig[:scalarSize], sig[scalarSize:]
	if !inRange(r, &p256N) || !inRange(s, &p256N) {
		return errRSRange
	}
	if bytes.Compare(s, p256HalfN[:]) > 0 {
		return errHighS
	}
	return nil
}

func verifyP256Key(k *ecdsa.PublicKey, msg, sig []byte) error {
	h := sha256.Sum256(msg)
	var buf [maxDER]byte
	if !ecdsa.VerifyASN1(k, h[:], appendDER(buf[:0], sig[:scalarSize], sig[scalarSize:])) {
		return errP256Sig
	}
	return nil
}

func decompressP256(b []byte) (*ecdsa.PublicKey, error) {
	c := elliptic.P256()
	// UnmarshalCompressed rejects other encodings, x >= p and x with no
	// square root, so only points on the curve get through.
	x, y := elliptic.UnmarshalCompressed(c, b)
	if x == nil {
		return nil, errNotPoint
	}
	// The coordinate fields are the only way to hand a decoded point to
	// crypto/ecdsa without re-encoding it.
	return &ecdsa.PublicKey{Curve: c, X: x, Y: y}, nil
}

type p256Priv struct {
	k   *ecdsa.PrivateKey
	d   [scalarSize]byte
	pub *p256Pub
}

func newP256Priv(b []byte) (*p256Priv, error) {
	if !inRange(b, &p256N) {
		return nil, errP256Range
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPrivateKey, err)
	}
	u, err := k.PublicKey.Bytes() // uncompressed: 04 || x || y
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPrivateKey, err)
	}
	pub := &p256Pub{}
	pub.b[0] = 2 | u[len(u)-1]&1
	copy(pub.b[1:], u[1:1+scalarSize])
	if pub.k, err = decompressP256(pub.b[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPrivateKey, err)
	}
	p := &p256Priv{k: k, pub: pub}
	copy(p.d[:], b)
	return p, nil
}

func (k *p256Priv) Scheme() Scheme    { return P256 }
func (k *p256Priv) Public() PublicKey { return k.pub }
func (k *p256Priv) Bytes() []byte     { return append([]byte(nil), k.d[:]...) }

// Sign returns a low-S signature: the standard library picks either S, so
// the high one is replaced by n-S, which verifies equally.
func (k *p256Priv) Sign(msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	der, err := ecdsa.SignASN1(rand.Reader, k.k, h[:])
	if err != nil {
		return nil, fmt.Errorf("crypto: p256 sign: %w", err)
	}
	r, s, err := splitDER(der)
	if err != nil {
		return nil, err
	}
	sig := fixedRS(r, s)
	if bytes.Compare(sig[scalarSize:], p256HalfN[:]) > 0 {
		s.Sub(p256NInt, s).FillBytes(sig[scalarSize:])
	}
	return sig, nil
}

// p256Pub keeps the decoded point so that repeated verification with one
// key skips decompression.
type p256Pub struct {
	b [pointSize]byte
	k *ecdsa.PublicKey
}

func parseP256Pub(b []byte) (*p256Pub, error) {
	k, err := decompressP256(b)
	if err != nil {
		return nil, err
	}
	p := &p256Pub{k: k}
	copy(p.b[:], b)
	return p, nil
}

func (p *p256Pub) Scheme() Scheme { return P256 }
func (p *p256Pub) Bytes() []byte  { return append([]byte(nil), p.b[:]...) }

func (p *p256Pub) Verify(msg, sig []byte) bool {
	return len(sig) == sigSize && checkP256Sig(sig) == nil && verifyP256Key(p.k, msg, sig) == nil
}
