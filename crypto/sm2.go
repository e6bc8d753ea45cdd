package crypto

import (
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm2/sm2ec"
	"github.com/emmansun/gmsm/sm3"
)

// sm2UID is the GB/T 32918 default user id. Every Accord SM2 signature uses
// it: the chain has no place to carry another one.
const sm2UID = "1234567812345678"

var (
	sm2N, sm2NMinus1 [scalarSize]byte

	// sm2ZAPrefix is ENTL || ID || a || b || xG || yG, the key-independent
	// part of ZA (GB/T 32918.2 section 5.5); the public key follows it.
	sm2ZAPrefix [2 + len(sm2UID) + 4*scalarSize]byte

	errSM2Sig   = fmt.Errorf("%w: sm2 verification failed", ErrBadSignature)
	errSM2Range = fmt.Errorf("%w: sm2 scalar is zero or not below n-1", ErrBadPrivateKey)
)

func init() {
	c := sm2.P256().Params()
	c.N.FillBytes(sm2N[:])
	// The signing equation divides by 1+d, so d = n-1 is not a key.
	new(big.Int).Sub(c.N, big.NewInt(1)).FillBytes(sm2NMinus1[:])

	const bits = byte(8 * len(sm2UID)) // ENTL is 2 bytes; 128 fits the low one
	sm2ZAPrefix[0], sm2ZAPrefix[1] = 0, bits
	n := 2 + copy(sm2ZAPrefix[2:], sm2UID)
	for _, v := range []*big.Int{new(big.Int).Sub(c.P, big.NewInt(3)), c.B, c.Gx, c.Gy} {
		v.FillBytes(sm2ZAPrefix[n : n+scalarSize])
		n += scalarSize
	}
}

func verifySM2(pub, msg, sig []byte) error {
	if !inRange(sig[:scalarSize], &sm2N) || !inRange(sig[scalarSize:], &sm2N) {
		return errRSRange
	}
	k, err := decompressSM2(pub)
	if err != nil {
		return err
	}
	za := sm2ZA(pub[1:], k.Y)
	return verifySM2Key(k, &za, msg, sig)
}

func verifySM2Key(k *ecdsa.PublicKey, za *[32]byte, msg, sig []byte) error {
	e := sm2Digest(za, msg)
	var buf [maxDER]byte
	// VerifyASN1 is gmsm's fastest entry point that takes a precomputed
	// digest; hashing here lets ZA be cached per key.
	if !sm2.VerifyASN1(k, e[:], appendDER(buf[:0], sig[:scalarSize], sig[scalarSize:])) {
		return errSM2Sig
	}
	return nil
}

// sm2ZA is SM3(ENTL || ID || a || b || xG || yG || xA || yA).
func sm2ZA(x []byte, y *big.Int) [32]byte {
	var b [len(sm2ZAPrefix) + 2*scalarSize]byte
	n := copy(b[:], sm2ZAPrefix[:])
	n += copy(b[n:], x)
	y.FillBytes(b[n:])
	return sm3.Sum(b[:])
}

// sm2Digest is e = SM3(ZA || M), the value SM2 actually signs.
func sm2Digest(za *[32]byte, msg []byte) [32]byte {
	h := sm3.New()
	h.Write(za[:])
	h.Write(msg)
	var e [32]byte
	h.Sum(e[:0])
	return e
}

func decompressSM2(b []byte) (*ecdsa.PublicKey, error) {
	c := sm2.P256()
	// Like its standard library model, UnmarshalCompressed accepts only
	// 02/03-prefixed points on the curve.
	if b[0] != 2 && b[0] != 3 {
		return nil, errNotPoint
	}
	x, y := sm2ec.UnmarshalCompressed(c, b)
	if x == nil {
		return nil, errNotPoint
	}
	return &ecdsa.PublicKey{Curve: c, X: x, Y: y}, nil
}

type sm2Priv struct {
	k   *sm2.PrivateKey
	d   [scalarSize]byte
	pub *sm2Pub
}

func newSM2Priv(b []byte) (*sm2Priv, error) {
	d, ok := scalar32(b, &sm2NMinus1)
	if !ok {
		return nil, errSM2Range
	}
	c := sm2.P256()
	x, y := c.ScalarBaseMult(b)
	pub, err := parseSM2Pub(compressSlice(x, y))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPrivateKey, err)
	}
	k := &sm2.PrivateKey{PrivateKey: ecdsa.PrivateKey{PublicKey: *pub.k, D: d}}
	p := &sm2Priv{k: k, pub: pub}
	copy(p.d[:], b)
	return p, nil
}

func compressSlice(x, y *big.Int) []byte {
	b := compress(x, y)
	return b[:]
}

func (k *sm2Priv) Scheme() Scheme    { return SM2 }
func (k *sm2Priv) Public() PublicKey { return k.pub }
func (k *sm2Priv) Bytes() []byte     { return append([]byte(nil), k.d[:]...) }

func (k *sm2Priv) Sign(msg []byte) ([]byte, error) {
	e := sm2Digest(&k.pub.za, msg)
	// nil options: e is already SM3(ZA || M), so gmsm must not hash again.
	der, err := sm2.SignASN1(rand.Reader, k.k, e[:], nil)
	if err != nil {
		return nil, fmt.Errorf("crypto: sm2 sign: %w", err)
	}
	r, s, err := splitDER(der)
	if err != nil {
		return nil, err
	}
	return fixedRS(r, s), nil
}

// sm2Pub keeps the decoded point and ZA, which depend only on the key.
type sm2Pub struct {
	b  [pointSize]byte
	k  *ecdsa.PublicKey
	za [32]byte
}

func parseSM2Pub(b []byte) (*sm2Pub, error) {
	k, err := decompressSM2(b)
	if err != nil {
		return nil, err
	}
	p := &sm2Pub{k: k, za: sm2ZA(b[1:], k.Y)}
	copy(p.b[:], b)
	return p, nil
}

func (p *sm2Pub) Scheme() Scheme { return SM2 }
func (p *sm2Pub) Bytes() []byte  { return append([]byte(nil), p.b[:]...) }

func (p *sm2Pub) Verify(msg, sig []byte) bool {
	return len(sig) == sigSize &&
		inRange(sig[:scalarSize], &sm2N) && inRange(sig[scalarSize:], &sm2N) &&
		verifySM2Key(p.k, &p.za, msg, sig) == nil
}
