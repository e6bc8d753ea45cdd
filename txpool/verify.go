package txpool

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// Verifier checks transaction signatures in batches on a fixed set of
// long-lived worker goroutines and remembers which transactions it has
// verified, so that no transaction is verified twice: once by the pool on
// admission, and again for free when a block carrying it is checked.
//
// It also keeps the signers' public keys decoded, in a crypto.KeyCache:
// consortium senders sign again and again, and a decoded key verifies
// faster (Ed25519 batches about 30%, SM2 about 10%, P-256 about 6%).
//
// A Verifier is safe for concurrent use. Its cache trusts tx.ID to be the
// hash of tx.PayloadBytes, as types.DecodeTx makes it; the signer's key is
// part of the payload, and the signature is compared by fingerprint.
type Verifier struct {
	workers int
	batch   int
	cache   *sigCache        // nil when disabled
	keys    *crypto.KeyCache // nil when disabled

	// mu is held shared while a call hands chunks to the workers and
	// exclusively by Close, so no chunk is ever sent on a closed channel.
	mu     sync.RWMutex
	closed bool
	work   chan *chunk // nil with one worker: the caller verifies
	wg     sync.WaitGroup
	// serial makes one worker mean one core: concurrent callers (API
	// handlers) take turns rather than each verifying on its own core.
	serial sync.Mutex

	verified  atomic.Uint64
	cacheHits atomic.Uint64
}

// VerifierStats are a Verifier's counters since it was made.
type VerifierStats struct {
	Verified  uint64 // signatures checked by crypto.VerifyBatch
	CacheHits uint64 // transactions found already verified
}

// chunk is the unit of work sent to a worker: one channel send per chunk.
type chunk struct {
	items []crypto.Item
	ok    []bool
	done  *sync.WaitGroup
}

// DefaultKeyCacheSize is the number of decoded signer keys a Verifier
// keeps unless told otherwise: the 10,000 payers of `accord bench` with
// room to spare, in about 27 MiB if all are Ed25519 (1.7 KiB a key, mostly
// its precomputed table) or 7 MiB if all are SM2 or P-256 (0.4 KiB).
const DefaultKeyCacheSize = 16_384

// VerifierOption changes a default of NewVerifier.
type VerifierOption func(*Verifier)

// WithKeyCache makes the verifier decode signer keys through keys, which
// other verifiers may share; nil turns key caching off. The default is a
// cache of its own of DefaultKeyCacheSize keys.
func WithKeyCache(keys *crypto.KeyCache) VerifierOption {
	return func(v *Verifier) { v.keys = keys }
}

// NewVerifier starts workers goroutines that verify batches of up to batch
// signatures and remember up to cacheSize verified transactions. workers < 1
// means runtime.GOMAXPROCS(0); workers == 1 starts no goroutine and verifies
// sequentially on the caller's goroutine. batch < 1 means DefaultBatchSize;
// cacheSize < 1 disables the cache. Close stops the workers.
func NewVerifier(workers, batch, cacheSize int, opts ...VerifierOption) *Verifier {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	if batch < 1 {
		batch = DefaultBatchSize
	}
	v := &Verifier{workers: workers, batch: batch}
	if cacheSize > 0 {
		v.cache = newSigCache(cacheSize)
	}
	v.keys = crypto.NewKeyCache(DefaultKeyCacheSize)
	for _, o := range opts {
		o(v)
	}
	if workers > 1 {
		// A few chunks per worker keep every worker busy while the caller
		// is still handing out the rest.
		v.work = make(chan *chunk, 4*workers)
		v.wg.Add(workers)
		for range workers {
			go v.run()
		}
	}
	return v
}

func (v *Verifier) run() {
	defer v.wg.Done()
	for c := range v.work {
		v.verifyBatch(c.items, c.ok)
		c.done.Done()
	}
}

// verifyBatch verifies one chunk, with the signers' keys from the key
// cache. A key that does not decode is left to VerifyBatch, which rejects
// its item; so is an Ed25519 key not seen recently (KeyCache.Reused),
// which the batch decompresses more cheaply than the cache would expand
// it.
func (v *Verifier) verifyBatch(items []crypto.Item, ok []bool) {
	if v.keys != nil {
		for i := range items {
			it := &items[i]
			it.Key = v.keys.Reused(it.Scheme, it.PublicKey)
		}
	}
	crypto.VerifyBatch(items, ok)
}

// Close stops the workers once they have finished the chunks handed to
// them. Verify still works after Close, sequentially on the caller's
// goroutine. Close is idempotent.
func (v *Verifier) Close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	if v.work != nil {
		close(v.work)
	}
	v.mu.Unlock()
	v.wg.Wait()
}

// Stats returns the verifier's counters.
func (v *Verifier) Stats() VerifierStats {
	return VerifierStats{Verified: v.verified.Load(), CacheHits: v.cacheHits.Load()}
}

// Verify checks the signature of each transaction and returns one error per
// transaction, nil for a valid signature. Errors wrap types.ErrBadSignature,
// or types.ErrUnknownScheme for a scheme this node cannot verify (which
// DecodeTx already rejects). Transactions found in the cache are not
// verified again. The transactions, which must not be nil, are read, never
// modified or retained.
func (v *Verifier) Verify(txs []*types.Tx) []error {
	errs := make([]error, len(txs))
	if len(txs) == 0 {
		return errs
	}
	var fps []fingerprint
	hit := make([]bool, len(txs))
	hits := 0
	if v.cache != nil {
		fps = make([]fingerprint, len(txs))
		for i, tx := range txs {
			fps[i] = sha256.Sum256(tx.Signature)
		}
		hits = v.cache.lookup(txs, fps, hit)
	}

	// Verify the rest as one list of items, aliasing the transactions'
	// bytes; pos maps an item back to its transaction.
	items := make([]crypto.Item, 0, len(txs)-hits)
	pos := make([]int, 0, len(txs)-hits)
	for i, tx := range txs {
		if hit[i] {
			continue
		}
		if !tx.Scheme.Valid() {
			errs[i] = fmt.Errorf("%w: %s", types.ErrUnknownScheme, tx.Scheme)
			continue
		}
		items = append(items, crypto.Item{Scheme: tx.Scheme, PublicKey: tx.PublicKey, Message: tx.PayloadBytes, Signature: tx.Signature})
		pos = append(pos, i)
	}
	ok := make([]bool, len(items))
	v.verifyItems(items, ok)

	for k, i := range pos {
		if !ok[k] {
			errs[i] = fmt.Errorf("%w: the %s signature does not verify against the payload and the signer's key", types.ErrBadSignature, txs[i].Scheme)
		}
	}
	if v.cache != nil {
		v.cache.add(txs, fps, pos, ok)
	}
	v.verified.Add(uint64(len(items)))
	v.cacheHits.Add(uint64(hits))
	return errs
}

// verifyItems splits items into chunks of at most v.batch and verifies
// them on the workers, or on the caller's goroutine with one worker or
// after Close.
func (v *Verifier) verifyItems(items []crypto.Item, ok []bool) {
	if len(items) == 0 {
		return
	}
	if v.work != nil {
		v.mu.RLock()
		if !v.closed {
			size := v.chunkSize(items)
			n := (len(items) + size - 1) / size
			chunks := make([]chunk, n)
			var done sync.WaitGroup
			done.Add(n)
			for k := range chunks {
				lo, hi := k*size, min((k+1)*size, len(items))
				chunks[k] = chunk{items: items[lo:hi], ok: ok[lo:hi], done: &done}
				v.work <- &chunks[k]
			}
			v.mu.RUnlock()
			done.Wait()
			return
		}
		v.mu.RUnlock()
	}
	if v.workers == 1 {
		v.serial.Lock()
		defer v.serial.Unlock()
	}
	for lo := 0; lo < len(items); lo += v.batch {
		hi := min(lo+v.batch, len(items))
		v.verifyBatch(items[lo:hi], ok[lo:hi])
	}
}

// chunkSize evens out the chunks: 65 items in batches of 64 go to two
// workers as 33 and 32, not 64 and 1. When no item is Ed25519 (SM2 and
// P-256 gain nothing from sharing a batch), chunks are also cut small
// enough to give every worker one, so a small call is not left to one
// core.
func (v *Verifier) chunkSize(items []crypto.Item) int {
	size := v.batch
	if !slices.ContainsFunc(items, func(it crypto.Item) bool { return it.Scheme == crypto.Ed25519 }) {
		size = min(size, (len(items)+v.workers-1)/v.workers)
	}
	n := (len(items) + size - 1) / size
	return (len(items) + n - 1) / n
}

// fingerprint identifies a signature in the cache: SHA-256 of its bytes, so
// that a different signature over a verified payload is verified afresh.
type fingerprint [32]byte

// sigCache remembers verified transactions, evicting the oldest first.
type sigCache struct {
	mu   sync.Mutex
	size int
	m    map[types.Hash]fingerprint
	ring []types.Hash // ids in insertion order; slot next is the oldest once full
	next int
}

func newSigCache(size int) *sigCache {
	return &sigCache{size: size, m: make(map[types.Hash]fingerprint)}
}

// lookup marks hit[i] for each transaction verified before with the same
// signature and returns the number of hits.
func (c *sigCache) lookup(txs []*types.Tx, fps []fingerprint, hit []bool) int {
	n := 0
	c.mu.Lock()
	for i, tx := range txs {
		if fp, ok := c.m[tx.ID]; ok && fp == fps[i] {
			hit[i] = true
			n++
		}
	}
	c.mu.Unlock()
	return n
}

// add remembers txs[pos[k]] for each k with ok[k].
func (c *sigCache) add(txs []*types.Tx, fps []fingerprint, pos []int, ok []bool) {
	c.mu.Lock()
	for k, i := range pos {
		if !ok[k] {
			continue
		}
		id := txs[i].ID
		if _, known := c.m[id]; !known {
			if len(c.ring) < c.size {
				c.ring = append(c.ring, id)
			} else {
				delete(c.m, c.ring[c.next])
				c.ring[c.next] = id
				c.next = (c.next + 1) % c.size
			}
		}
		// A second valid signature over the same payload replaces the first.
		c.m[id] = fps[i]
	}
	c.mu.Unlock()
}
