package txpool

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

var schemes = []crypto.Scheme{crypto.Ed25519, crypto.SM2, crypto.P256}

// withSignature returns tx with its signature replaced, re-encoded and
// decoded: the same payload, hence the same id.
func withSignature(t testing.TB, tx *types.Tx, sig []byte) *types.Tx {
	t.Helper()
	out, err := types.DecodeTx(types.EncodeTx(tx.PayloadBytes, sig), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if out.ID != tx.ID {
		t.Fatal("re-signed transaction changed id")
	}
	return out
}

func flipped(t testing.TB, tx *types.Tx) *types.Tx {
	sig := slices.Clone(tx.Signature)
	sig[5] ^= 0x40
	return withSignature(t, tx, sig)
}

// mixed returns n transactions over all schemes and which of them have a
// bad signature (every third, and the first).
func mixed(t testing.TB, n int) ([]*types.Tx, []bool) {
	txs := make([]*types.Tx, n)
	bad := make([]bool, n)
	for i := range txs {
		key := keyFor(t, schemes[i%3], fmt.Sprint("mixed", i%7))
		txs[i] = signTx(t, key, uint64(i))
		if i%3 == 0 {
			txs[i] = flipped(t, txs[i])
			bad[i] = true
		}
	}
	return txs, bad
}

func checkVerdicts(t *testing.T, errs []error, bad []bool) {
	t.Helper()
	if len(errs) != len(bad) {
		t.Fatalf("%d results for %d txs", len(errs), len(bad))
	}
	for i, err := range errs {
		if bad[i] != errors.Is(err, types.ErrBadSignature) || (!bad[i] && err != nil) {
			t.Fatalf("tx %d (%s): bad=%v, got %v", i, schemes[i%3], bad[i], err)
		}
	}
}

func TestVerifierSchemes(t *testing.T) {
	for _, s := range schemes {
		t.Run(s.String(), func(t *testing.T) {
			v := NewVerifier(2, 4, 100)
			defer v.Close()
			key := keyFor(t, s, "verify")
			good := []*types.Tx{signTx(t, key, 0), signTx(t, key, 1), signTx(t, key, 2)}
			checkVerdicts(t, v.Verify(good), []bool{false, false, false})
			checkVerdicts(t, v.Verify([]*types.Tx{flipped(t, signTx(t, key, 3))}), []bool{true})
			// A valid signature by another key over the payload: the signer
			// named in the payload is the one that counts.
			tx4 := signTx(t, key, 4)
			sig, err := keyFor(t, s, "other").Sign(tx4.PayloadBytes)
			if err != nil {
				t.Fatal(err)
			}
			checkVerdicts(t, v.Verify([]*types.Tx{withSignature(t, tx4, sig)}), []bool{true})
		})
	}
}

func TestVerifierMixedBatchesAnyWorkers(t *testing.T) {
	txs, bad := mixed(t, 200)
	for _, c := range []struct{ workers, batch int }{{1, 64}, {1, 1}, {4, 7}, {2, 64}, {3, 1000}} {
		t.Run(fmt.Sprintf("workers=%d/batch=%d", c.workers, c.batch), func(t *testing.T) {
			v := NewVerifier(c.workers, c.batch, 0)
			defer v.Close()
			checkVerdicts(t, v.Verify(txs), bad)
			if got := v.Stats(); got.Verified != 200 || got.CacheHits != 0 {
				t.Fatalf("stats %+v, want 200 verified, no cache", got)
			}
		})
	}
}

func TestVerifierCache(t *testing.T) {
	txs, bad := mixed(t, 90)
	v := NewVerifier(2, 16, 1000)
	defer v.Close()
	checkVerdicts(t, v.Verify(txs), bad)
	checkVerdicts(t, v.Verify(txs), bad)
	good := 60
	if got := v.Stats(); got.Verified != 90+30 || got.CacheHits != uint64(good) {
		t.Fatalf("second pass: stats %+v, want %d verified (only the invalid again) and %d hits", got, 90+30, good)
	}
}

func TestVerifierCacheComparesSignature(t *testing.T) {
	for _, s := range schemes {
		t.Run(s.String(), func(t *testing.T) {
			key := keyFor(t, s, "fp")
			v := NewVerifier(1, 64, 10)
			defer v.Close()
			tx := signTx(t, key, 0)
			checkVerdicts(t, v.Verify([]*types.Tx{tx}), []bool{false})

			// Same payload and id, corrupted signature: not a cache hit.
			forged := flipped(t, tx)
			checkVerdicts(t, v.Verify([]*types.Tx{forged}), []bool{true})
			if got := v.Stats(); got.CacheHits != 0 || got.Verified != 2 {
				t.Fatalf("stats %+v: the forged copy must be verified, not found in the cache", got)
			}
			// And the forgery did not evict the verified signature.
			checkVerdicts(t, v.Verify([]*types.Tx{tx}), []bool{false})
			if got := v.Stats(); got.CacheHits != 1 {
				t.Fatalf("stats %+v, want one hit", got)
			}
		})
	}
}

// SM2 and P-256 signatures are randomised: a second valid signature over
// the same payload is verified, then both are cached.
func TestVerifierSecondValidSignature(t *testing.T) {
	key := keyFor(t, crypto.P256, "resign")
	tx := signTx(t, key, 0)
	sig, err := key.Sign(tx.PayloadBytes)
	if err != nil {
		t.Fatal(err)
	}
	again := withSignature(t, tx, sig)
	if slices.Equal(again.Signature, tx.Signature) {
		t.Skip("P-256 signing is deterministic here; nothing to test")
	}
	v := NewVerifier(1, 64, 10)
	defer v.Close()
	checkVerdicts(t, v.Verify([]*types.Tx{tx, again}), []bool{false, false})
	if got := v.Stats(); got.Verified != 2 {
		t.Fatalf("stats %+v, want both verified", got)
	}
}

func TestVerifierCacheEvictsOldest(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "evict")
	txs := make([]*types.Tx, 5)
	for i := range txs {
		txs[i] = signTx(t, key, uint64(i))
	}
	v := NewVerifier(1, 64, 3)
	defer v.Close()
	v.Verify(txs) // caches 2, 3, 4
	v.Verify(txs[2:])
	if got := v.Stats(); got.CacheHits != 3 {
		t.Fatalf("newest three: stats %+v, want 3 hits", got)
	}
	v.Verify(txs[:1])
	if got := v.Stats(); got.CacheHits != 3 || got.Verified != 6 {
		t.Fatalf("oldest was evicted: stats %+v, want a miss", got)
	}
	if n := len(v.cache.m); n != 3 {
		t.Fatalf("cache holds %d, limit 3", n)
	}
}

func TestVerifierUnknownSchemeAndClose(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "close")
	tx := *signTx(t, key, 0)
	tx.Scheme = 9
	v := NewVerifier(3, 2, 0)
	errs := v.Verify([]*types.Tx{&tx})
	if !errors.Is(errs[0], types.ErrUnknownScheme) {
		t.Fatalf("want unknown scheme, got %v", errs[0])
	}
	v.Close()
	v.Close()
	txs, bad := mixed(t, 9)
	checkVerdicts(t, v.Verify(txs), bad) // after Close: on the caller's goroutine
	if len(v.Verify(nil)) != 0 {
		t.Fatal("Verify(nil) returned results")
	}
}

// TestVerifierKeyCache checks that the verifier decodes each signer's key
// once, that verdicts do not depend on the key cache, and that a cache can
// be shared or turned off.
func TestVerifierKeyCache(t *testing.T) {
	txs, bad := mixed(t, 120) // 7 names over 3 schemes: 21 keys at most
	signers := map[string]bool{}
	for _, tx := range txs {
		signers[string(tx.PublicKey)] = true
	}

	v := NewVerifier(2, 16, 0)
	defer v.Close()
	checkVerdicts(t, v.Verify(txs), bad)
	checkVerdicts(t, v.Verify(txs), bad)
	if got := v.keys.Len(); got != len(signers) {
		t.Errorf("default key cache holds %d keys, want the %d signers", got, len(signers))
	}

	shared := crypto.NewKeyCache(1024) // room for every signer in every shard: nothing is dropped
	for _, c := range []struct {
		name    string
		workers int
		keys    *crypto.KeyCache
	}{{"shared/1", 1, shared}, {"shared/3", 3, shared}, {"off", 2, nil}} {
		t.Run(c.name, func(t *testing.T) {
			v := NewVerifier(c.workers, 7, 0, WithKeyCache(c.keys))
			defer v.Close()
			checkVerdicts(t, v.Verify(txs), bad)
			if v.keys != c.keys {
				t.Fatal("WithKeyCache was not applied")
			}
		})
	}
	if got := shared.Len(); got != len(signers) {
		t.Errorf("shared key cache holds %d keys, want %d", got, len(signers))
	}
}

// TestVerifierKeyCacheBadKey checks that a signer key that does not decode
// is rejected, whether or not other items of its batch have cached keys.
func TestVerifierKeyCacheBadKey(t *testing.T) {
	for _, s := range schemes {
		t.Run(s.String(), func(t *testing.T) {
			key := keyFor(t, s, "badkey")
			good := []*types.Tx{signTx(t, key, 0), signTx(t, key, 1), signTx(t, key, 2)}
			forged := *good[1]
			forged.PublicKey = slices.Clone(forged.PublicKey)
			if s == crypto.Ed25519 {
				clear(forged.PublicKey)
				forged.PublicKey[0] = 2 // y = 2 is no point
			} else {
				forged.PublicKey[0] = 4 // not a compressed point
			}
			v := NewVerifier(1, 64, 0)
			defer v.Close()
			checkVerdicts(t, v.Verify([]*types.Tx{good[0], &forged, good[2]}), []bool{false, true, false})
			if got := v.keys.Len(); got != 1 {
				t.Errorf("key cache holds %d keys, want only the good one", got)
			}
		})
	}
}

func TestVerifierChunkSize(t *testing.T) {
	items := func(s crypto.Scheme, n int) []crypto.Item {
		out := make([]crypto.Item, n)
		for i := range out {
			out[i].Scheme = s
		}
		return out
	}
	for _, c := range []struct {
		workers, batch int
		items          []crypto.Item
		want           int
	}{
		{2, 64, items(crypto.Ed25519, 64), 64},
		{2, 64, items(crypto.Ed25519, 65), 33}, // two even chunks, not 64+1
		{2, 64, items(crypto.Ed25519, 20), 20}, // a small Ed25519 batch stays whole
		{2, 64, items(crypto.SM2, 20), 10},     // SM2 spreads over the workers
		{4, 64, items(crypto.P256, 1000), 63},  // 16 chunks of 63 or less
		{16, 64, items(crypto.SM2, 5), 1},      // more workers than items
		{2, 64, append(items(crypto.SM2, 9), items(crypto.Ed25519, 1)...), 10},
	} {
		v := &Verifier{workers: c.workers, batch: c.batch}
		if got := v.chunkSize(c.items); got != c.want {
			t.Errorf("%d workers, batch %d, %d items starting %s: chunk size %d, want %d",
				c.workers, c.batch, len(c.items), c.items[0].Scheme, got, c.want)
		}
	}
}
