package crypto

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"
)

// Hash identifies the chain hash function. A chain fixes one at genesis;
// its numeric value is never reused.
type Hash uint8

const (
	SHA256 Hash = 1
	SM3    Hash = 2
)

var hashNames = [...]string{SHA256: "sha256", SM3: "sm3"}

// ParseHash returns the hash named name ("sha256" or "sm3"), ignoring case.
func ParseHash(name string) (Hash, error) {
	for h, n := range hashNames {
		if n != "" && strings.EqualFold(name, n) {
			return Hash(h), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownHash, name)
}

func (h Hash) String() string {
	if h.Valid() {
		return hashNames[h]
	}
	return "hash(" + strconv.Itoa(int(h)) + ")"
}

// Valid reports whether h is a hash this package implements.
func (h Hash) Valid() bool { return h == SHA256 || h == SM3 }

// New returns a streaming hasher. It panics for an invalid h: a chain's
// hash is validated once at genesis, and hashing with an unknown function
// must never yield a value nodes could disagree on.
func (h Hash) New() hash.Hash {
	switch h {
	case SHA256:
		return sha256.New()
	case SM3:
		return sm3.New()
	}
	panic("crypto: New on invalid " + h.String())
}

// sumBuf bounds the inputs Sum hashes from a stack copy. Headers, Merkle
// nodes and addresses fit; larger inputs are streamed.
const sumBuf = 512

// Sum returns the hash of the concatenation of data. It does not allocate
// when there is one part or the parts total at most 512 bytes: they are
// copied into a stack buffer and hashed in one call. It panics for an
// invalid h, like New.
func (h Hash) Sum(data ...[]byte) [32]byte {
	if !h.Valid() {
		panic("crypto: Sum on invalid " + h.String())
	}
	if len(data) == 1 {
		return h.sum1(data[0])
	}
	n := 0
	for _, d := range data {
		n += len(d)
	}
	if n <= sumBuf {
		var b [sumBuf]byte
		n = 0
		for _, d := range data {
			n += copy(b[n:], d)
		}
		return h.sum1(b[:n])
	}
	// Large inputs stream through a heap chunk rather than straight into
	// the hasher: handing data to an interface method would make every
	// caller's parts escape, small ones included.
	w := h.New()
	chunk := make([]byte, 4096)
	for _, d := range data {
		for len(d) > 0 {
			k := copy(chunk, d)
			w.Write(chunk[:k])
			d = d[k:]
		}
	}
	return [32]byte(w.Sum(nil))
}

func (h Hash) sum1(b []byte) [32]byte {
	if h == SM3 {
		return sm3.Sum(b)
	}
	return sha256.Sum256(b)
}

// AddressSize is the length of an account address.
const AddressSize = 20

// Address derives an account address from a public key: the last 20 bytes of
// H(scheme byte || public key bytes), H = SM3 for SM2 and SHA-256 for Ed25519 and P-256.
//
// Schemes other than SM2 (including unknown ones) use SHA-256. Address does
// not validate pub: callers derive addresses from keys they have already
// checked with PublicKeyFromBytes or Verify.
func Address(s Scheme, pub []byte) [AddressSize]byte {
	h := SHA256
	if s == SM2 {
		h = SM3
	}
	d := h.Sum([]byte{byte(s)}, pub)
	return [AddressSize]byte(d[len(d)-AddressSize:])
}
