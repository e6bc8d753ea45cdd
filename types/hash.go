package types

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/accord-chain/accord/crypto"
)

// Hash is a 32-byte digest made with the chain's hash function.
type Hash [32]byte

// Address identifies an account: see crypto.Address for the derivation.
type Address [crypto.AddressSize]byte

var (
	// ErrBadHash is returned for a hash that is not 64 hex digits.
	ErrBadHash = errors.New("malformed hash: want 64 hex digits")
	// ErrBadAddress is returned for an address that is not 40 hex digits.
	ErrBadAddress = errors.New("malformed address: want 40 hex digits")
)

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros.
func (h Hash) IsZero() bool { return h == Hash{} }

func (a Address) String() string { return hex.EncodeToString(a[:]) }

// ParseHash reads 64 hex digits, with or without a 0x prefix.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if err := parseHex(s, h[:]); err != nil {
		return h, fmt.Errorf("%w: %q", ErrBadHash, s)
	}
	return h, nil
}

// ParseAddress reads 40 hex digits, with or without a 0x prefix.
func ParseAddress(s string) (Address, error) {
	var a Address
	if err := parseHex(s, a[:]); err != nil {
		return a, fmt.Errorf("%w: %q", ErrBadAddress, s)
	}
	return a, nil
}

// AddressFromBytes copies a 20-byte slice into an Address.
func AddressFromBytes(b []byte) (Address, error) {
	var a Address
	if len(b) != len(a) {
		return a, fmt.Errorf("%w: got %d bytes", ErrBadAddress, len(b))
	}
	copy(a[:], b)
	return a, nil
}

// AddressOf derives the address of a public key.
func AddressOf(s crypto.Scheme, pub []byte) Address {
	return Address(crypto.Address(s, pub))
}

func parseHex(s string, dst []byte) error {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(s) != 2*len(dst) {
		return errors.New("wrong length")
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}
