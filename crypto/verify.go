package crypto

import (
	"fmt"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Verify checks that sig is s's signature of msg by the encoded public key
// pub. It returns nil, or an error wrapping ErrUnknownScheme,
// ErrBadPublicKey or ErrBadSignature.
func Verify(s Scheme, pub, msg, sig []byte) error {
	if err := checkPubSize(s, pub); err != nil {
		return err
	}
	if err := checkSigSize(s, sig); err != nil {
		return err
	}
	switch s {
	case Ed25519:
		return verifyEd(pub, msg, sig)
	case SM2:
		return verifySM2(pub, msg, sig)
	default:
		return verifyP256(pub, msg, sig)
	}
}

// Item is one signature to check in a batch: the arguments of one Verify
// call.
type Item struct {
	Scheme    Scheme
	PublicKey []byte
	Message   []byte
	Signature []byte
}

// VerifyBatch sets ok[i] to whether Verify accepts items[i]; it panics
// unless len(ok) == len(items). Item fields are not copied or retained.
//
// Ed25519 items are checked together by one curve25519-voi batch
// verification under ZIP-215, whose cofactored equation makes the batch
// verdict agree with single verification; when the batch fails, the
// verifier's per-item results identify the bad signatures. Other schemes
// have no batch equation and are verified one by one.
//
// VerifyBatch runs on the calling goroutine: callers spread batches over
// cores.
func VerifyBatch(items []Item, ok []bool) {
	if len(ok) != len(items) {
		panic(fmt.Sprintf("crypto: VerifyBatch with %d items and %d results", len(items), len(ok)))
	}
	n := 0
	for i := range items {
		it := &items[i]
		if batchable(it) {
			n++
			continue
		}
		ok[i] = Verify(it.Scheme, it.PublicKey, it.Message, it.Signature) == nil
	}
	if n == 0 {
		return
	}
	if n == 1 {
		// A batch of one pays for the batch setup and gains nothing.
		for i := range items {
			if batchable(&items[i]) {
				ok[i] = verifyEd(items[i].PublicKey, items[i].Message, items[i].Signature) == nil
				return
			}
		}
	}
	// The verifier is local, so nothing from items outlives the call.
	// Without expansion: per-key precomputed tables cost ~1.5 KiB each and,
	// measured on batches of 64 valid or one-bad signatures, do not pay off.
	bv := ed25519.NewBatchVerifierWithCapacity(n).ForceNoPublicKeyExpansion()
	for i := range items {
		if it := &items[i]; batchable(it) {
			bv.AddWithOptions(it.PublicKey, it.Message, it.Signature, zip215)
		}
	}
	_, res := bv.Verify(nil) // nil: batch coefficients from crypto/rand
	j := 0
	for i := range items {
		if batchable(&items[i]) {
			ok[i] = res[j]
			j++
		}
	}
}

// batchable picks the items that go into the Ed25519 batch. Items with
// wrong sizes stay out: Verify rejects them before any curve arithmetic,
// and the batch verifier must never see a key it would panic on.
func batchable(it *Item) bool {
	return it.Scheme == Ed25519 && len(it.PublicKey) == 32 && len(it.Signature) == sigSize
}
