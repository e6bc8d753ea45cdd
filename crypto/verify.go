package crypto

import (
	"fmt"
	"sync"

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
// call, and optionally the key already decoded.
type Item struct {
	Scheme    Scheme
	PublicKey []byte
	Message   []byte
	Signature []byte
	// Key, when not nil, is PublicKey decoded by PublicKeyFromBytes or a
	// KeyCache; VerifyBatch then skips decoding it. A Key that is not the
	// decoding of PublicKey under Scheme is ignored, so it never changes a
	// verdict.
	Key PublicKey
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
// Ed25519 items whose Keys are set skip point decompression, which makes
// a batch of 64 or 128 about 30% faster; when every item of a batch of up
// to 93 has its Key, the batch equation also uses the keys' precomputed
// tables.
//
// VerifyBatch runs on the calling goroutine: callers spread batches over
// cores.
func VerifyBatch(items []Item, ok []bool) {
	if len(ok) != len(items) {
		panic(fmt.Sprintf("crypto: VerifyBatch with %d items and %d results", len(items), len(ok)))
	}
	n, expanded := 0, 0
	for i := range items {
		it := &items[i]
		if batchable(it) {
			n++
			if edKey(it) != nil {
				expanded++
			}
			continue
		}
		ok[i] = verifyItem(it)
	}
	if n == 0 {
		return
	}
	if n == 1 {
		// A batch of one pays for the batch setup and gains nothing.
		for i := range items {
			if it := &items[i]; batchable(it) {
				if k := edKey(it); k != nil {
					ok[i] = k.Verify(it.Message, it.Signature)
				} else {
					ok[i] = verifyEd(it.PublicKey, it.Message, it.Signature) == nil
				}
				return
			}
		}
	}
	bv := batchPool.Get().(*ed25519.BatchVerifier)
	defer batchPool.Put(bv)
	bv.Reset()
	if expanded < n {
		// Expanding the missing keys here costs as much as the tables
		// save: worth it only for keys that are used again, which is
		// what a KeyCache is for.
		bv.ForceNoPublicKeyExpansion()
	}
	for i := range items {
		it := &items[i]
		if !batchable(it) {
			continue
		}
		if k := edKey(it); k != nil {
			bv.AddExpandedWithOptions(k.x, it.Message, it.Signature, zip215)
		} else {
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

// batchPool reuses batch verifiers and their entry arrays (about 400 bytes
// per signature). They hold no secrets: only public keys, signatures and
// hashes of public data.
var batchPool = sync.Pool{New: func() any { return ed25519.NewBatchVerifier() }}

// batchable picks the items that go into the Ed25519 batch. Items with
// wrong sizes stay out: Verify rejects them before any curve arithmetic,
// and the batch verifier must never see a key it would panic on.
func batchable(it *Item) bool {
	return it.Scheme == Ed25519 && len(it.PublicKey) == 32 && len(it.Signature) == sigSize
}

// edKey returns it.Key if it is the expanded decoding of it.PublicKey.
func edKey(it *Item) *edPub {
	k, _ := it.Key.(*edPub)
	if k == nil || k.x == nil || string(k.b[:]) != string(it.PublicKey) {
		return nil
	}
	return k
}

// verifyItem verifies an item that is not in the Ed25519 batch, with its
// Key when that matches.
func verifyItem(it *Item) bool {
	switch k := it.Key.(type) {
	case *sm2Pub:
		if it.Scheme == SM2 && string(k.b[:]) == string(it.PublicKey) {
			return k.Verify(it.Message, it.Signature)
		}
	case *p256Pub:
		if it.Scheme == P256 && string(k.b[:]) == string(it.PublicKey) {
			return k.Verify(it.Message, it.Signature)
		}
	}
	return Verify(it.Scheme, it.PublicKey, it.Message, it.Signature) == nil
}
