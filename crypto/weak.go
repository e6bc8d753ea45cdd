package crypto

import (
	"github.com/oasisprotocol/curve25519-voi/curve"
)

// smallOrderEd holds every 32-byte string that ZIP-215 decodes to a point of
// small order, non-canonical encodings included. Under ZIP-215 anyone can
// forge a signature for such a key (R = identity, S = 0 verifies any
// message), so a key in this set must never own an account.
var smallOrderEd = func() map[[32]byte]struct{} {
	set := make(map[[32]byte]struct{})
	for i := range curve.EIGHT_TORSION {
		var c curve.CompressedEdwardsY
		c.SetEdwardsPoint(curve.EIGHT_TORSION[i])
		enc := [32]byte(c)
		variants := [][32]byte{enc, flipSign(enc)}
		// y and y+p both decode to y when y+p < 2^255, i.e. y < 19.
		if y := enc; y[31]&0x7f == 0 && allZero(y[1:31]) && y[0] < 19 {
			plus := addP(y)
			variants = append(variants, plus, flipSign(plus))
		}
		for _, v := range variants {
			if edSmallOrder(v[:]) {
				set[v] = struct{}{}
			}
		}
	}
	return set
}()

func flipSign(b [32]byte) [32]byte { b[31] ^= 0x80; return b }

// addP returns the encoding of y+p for a small y (< 19), keeping the sign bit.
func addP(b [32]byte) [32]byte {
	sign := b[31] & 0x80
	// p = 2^255 - 19: little-endian ed ff ... ff 7f.
	p := [32]byte{0xed}
	for i := 1; i < 31; i++ {
		p[i] = 0xff
	}
	p[31] = 0x7f
	var out [32]byte
	carry := uint16(0)
	for i := 0; i < 32; i++ {
		s := uint16(p[i]) + uint16(b[i]&^(0x80*byte(i/31))) + carry
		out[i], carry = byte(s), s>>8
	}
	out[31] |= sign
	return out
}

func edSmallOrder(b []byte) bool {
	var (
		c curve.CompressedEdwardsY
		p curve.EdwardsPoint
	)
	if _, err := c.SetBytes(b); err != nil {
		return false
	}
	if _, err := p.SetCompressedY(&c); err != nil {
		return false
	}
	return p.IsSmallOrder()
}

// WeakPublicKey reports whether pub is a key that must not sign for an
// account although its signatures may verify: for Ed25519, a point of small
// order (including non-canonical encodings), for which signatures can be
// forged without a private key. SM2 and P-256 keys are points of prime
// order by construction of their parsers, so none is weak.
func WeakPublicKey(s Scheme, pub []byte) bool {
	if s != Ed25519 || len(pub) != 32 {
		return false
	}
	_, weak := smallOrderEd[[32]byte(pub)]
	return weak
}
