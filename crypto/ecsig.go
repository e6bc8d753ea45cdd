package crypto

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// Helpers shared by the two ECDSA-like schemes, SM2 and P-256, whose
// signatures travel as fixed 32+32-byte big-endian r||s but whose libraries
// speak ASN.1 DER.

var (
	errRSRange  = fmt.Errorf("%w: r or s is zero or not below the group order", ErrBadSignature)
	errNotPoint = fmt.Errorf("%w: not a compressed point on the curve", ErrBadPublicKey)
)

// inRange reports whether the 32-byte big-endian v satisfies 0 < v < n.
func inRange(v []byte, n *[scalarSize]byte) bool {
	return !allZero(v) && bytes.Compare(v, n[:]) < 0
}

func allZero(b []byte) bool {
	var acc byte
	for _, x := range b {
		acc |= x
	}
	return acc == 0
}

// maxDER is the longest DER encoding of two 32-byte INTEGERs: a SEQUENCE
// header plus two INTEGERs of up to 33 bytes (a leading zero keeps them
// positive).
const maxDER = 2 + 2*(2+scalarSize+1)

// appendDER encodes r and s, each 32 bytes big-endian and non-zero, as a DER
// SEQUENCE of two INTEGERs. Encoding into the caller's buffer keeps the
// verify path free of allocations of its own.
func appendDER(dst, r, s []byte) []byte {
	r, s = trimZeros(r), trimZeros(s)
	rl, sl := intLen(r), intLen(s)
	dst = append(dst, 0x30, byte(2+rl+2+sl))
	dst = appendInt(dst, r, rl)
	return appendInt(dst, s, sl)
}

func trimZeros(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

func intLen(b []byte) int {
	if b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

func appendInt(dst, b []byte, n int) []byte {
	dst = append(dst, 0x02, byte(n))
	if n > len(b) {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}

// splitDER turns a DER signature made by a library signer into fixed r||s.
// It runs on the signing path only, where allocations do not matter.
func splitDER(der []byte) (r, s *big.Int, err error) {
	var v struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &v)
	if err != nil || len(rest) != 0 || v.R.Sign() <= 0 || v.S.Sign() <= 0 ||
		v.R.BitLen() > 8*scalarSize || v.S.BitLen() > 8*scalarSize {
		return nil, nil, fmt.Errorf("crypto: signer returned a malformed signature")
	}
	return v.R, v.S, nil
}

func fixedRS(r, s *big.Int) []byte {
	sig := make([]byte, sigSize)
	r.FillBytes(sig[:scalarSize])
	s.FillBytes(sig[scalarSize:])
	return sig
}

// compress encodes the affine point (x, y) as a 33-byte SEC1 compressed
// point.
func compress(x, y *big.Int) [pointSize]byte {
	var b [pointSize]byte
	b[0] = 2 | byte(y.Bit(0))
	x.FillBytes(b[1:])
	return b
}

// scalar32 parses a fixed 32-byte big-endian private scalar and checks
// 0 < d < limit.
func scalar32(b []byte, limit *[scalarSize]byte) (*big.Int, bool) {
	if !inRange(b, limit) {
		return nil, false
	}
	return new(big.Int).SetBytes(b), true
}

func mustHex32(s string) [scalarSize]byte {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok || v.BitLen() > 8*scalarSize {
		panic("crypto: bad constant " + s)
	}
	var b [scalarSize]byte
	v.FillBytes(b[:])
	return b
}
