//go:build !wasip1

package contract

import (
	"crypto/sha256"

	"github.com/accord-chain/accord/crypto"
)

// Natively (unit tests) the hashes and signature checks run in-process,
// with the chain's own implementations, so they agree with the host.

// SHA256 returns the SHA-256 hash of data.
func SHA256(data []byte) [32]byte { return sha256.Sum256(data) }

// SM3 returns the SM3 hash of data.
func SM3(data []byte) [32]byte { return crypto.SM3.Sum(data) }

// VerifySignature reports whether sig is a valid signature of msg by the
// public key pub (encoded as the chain encodes keys) under scheme.
func VerifySignature(scheme Scheme, pub, msg, sig []byte) bool {
	return crypto.Verify(crypto.Scheme(scheme), pub, msg, sig) == nil
}
