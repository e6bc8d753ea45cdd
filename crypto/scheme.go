package crypto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Scheme identifies a signature scheme. Its numeric value is part of the
// wire format and of address derivation, so values are never reused.
type Scheme uint8

const (
	// Ed25519 is RFC 8032 Ed25519 verified under the ZIP-215 rules, which
	// make single and batch verification agree on every input.
	Ed25519 Scheme = 1
	// SM2 is GB/T 32918 SM2 with SM3 and the default user id
	// "1234567812345678".
	SM2 Scheme = 2
	// P256 is ECDSA over NIST P-256 with SHA-256, accepting low-S
	// signatures only so that signatures are not malleable.
	P256 Scheme = 3
)

// Sentinel errors. Errors returned by this package wrap one of them.
var (
	ErrUnknownScheme = errors.New("crypto: unknown signature scheme")
	ErrBadPublicKey  = errors.New("crypto: malformed public key")
	ErrBadPrivateKey = errors.New("crypto: malformed private key")
	ErrBadSignature  = errors.New("crypto: invalid signature")
	ErrUnknownHash   = errors.New("crypto: unknown hash function")
)

var schemeNames = [...]string{Ed25519: "ed25519", SM2: "sm2", P256: "p256"}

// String returns the lower-case name used in configuration files.
func (s Scheme) String() string {
	if s.Valid() {
		return schemeNames[s]
	}
	return "scheme(" + strconv.Itoa(int(s)) + ")"
}

// ParseScheme returns the scheme named name, ignoring case.
func ParseScheme(name string) (Scheme, error) {
	for s, n := range schemeNames {
		if n != "" && strings.EqualFold(name, n) {
			return Scheme(s), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownScheme, name)
}

// Valid reports whether s is a scheme this package implements.
func (s Scheme) Valid() bool {
	return s == Ed25519 || s == SM2 || s == P256
}

// PublicKeySize is the length of an encoded public key: 32 for Ed25519, 33
// (compressed SEC1 point) for SM2 and P-256, and 0 for unknown schemes.
func (s Scheme) PublicKeySize() int {
	switch s {
	case Ed25519:
		return 32
	case SM2, P256:
		return 33
	}
	return 0
}

// SignatureSize is the length of a signature: 64 for every scheme (R||S for
// Ed25519, big-endian r||s for SM2 and P-256), and 0 for unknown schemes.
func (s Scheme) SignatureSize() int {
	if s.Valid() {
		return sigSize
	}
	return 0
}

const (
	sigSize    = 64
	scalarSize = 32
	pointSize  = 33
)
