// Package crypto owns Accord's cryptographic primitives: the signature
// schemes an account or validator key may use (Ed25519 with ZIP-215
// verification, SM2 with SM3, ECDSA P-256 with SHA-256), the chain hash
// functions (SHA-256, SM3) and the derivation of account addresses from
// public keys.
//
// Every verdict this package gives is consensus critical: two nodes must
// agree on every signature, so the accepted encodings are fixed here and
// nowhere else (fixed-size keys and signatures, compressed points, low-S
// only for P-256, ZIP-215 for Ed25519). Single and batch verification give
// the same verdict for every input.
//
// The package must not import anything else from this repository, keep
// package-level state that can change a result (no global caches or keys:
// a KeyCache is a value its owner makes, sizes and shares; VerifyBatch's
// pooled scratch memory is reset before each use), start goroutines, or do
// I/O beyond reading randomness. Key storage, encodings
// of transactions and the choice of scheme or hash for a chain belong to
// the callers.
package crypto
