package crypto

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// keyCacheShards spreads lookups over independent locks, so that workers
// on many cores do not queue on one mutex.
const keyCacheShards = 16

// KeyCache remembers decoded public keys by their encoding, so that a
// sender seen again skips what PublicKeyFromBytes does per key: point
// decompression for every scheme, ZA for SM2, and the precomputed table
// of an Ed25519 key. A decoded key makes SM2 verification about 10%
// faster, P-256 about 6%, and Ed25519 batches about 30%; a hit costs
// about 50 ns.
//
// A KeyCache holds at most the size it was made with; keys used recently
// stay, others are dropped first. Keys that fail to decode are not
// remembered. A KeyCache is safe for concurrent use. It changes no verdict:
// a cached key verifies exactly as the bytes it was decoded from.
type KeyCache struct {
	seed   maphash.Seed
	shards [keyCacheShards]keyShard
	// seen holds the hashes of Ed25519 keys that Reused was asked for and
	// did not decode, one per slot, a slot picked by the hash: about the
	// last size such keys. See Reused.
	seen []atomic.Uint64
}

// keyID is a public key encoding with its scheme; Ed25519 keys leave the
// last byte zero.
type keyID struct {
	s Scheme
	b [pointSize]byte
}

// keyShard keeps two generations: a key is added to cur, and a key found
// in old moves to cur. When cur is full it becomes old, and the previous
// old is dropped, so keys used within the last generation survive. This
// costs one map operation per lookup, unlike an LRU list.
type keyShard struct {
	mu       sync.Mutex
	cur, old map[keyID]PublicKey
	gen      int // entries per generation
}

// NewKeyCache makes a cache of up to size keys; sizes below 32 count as
// 32.
// The memory a key takes depends on its scheme: about 1.7 KiB for Ed25519
// (mostly the precomputed table), about 0.4 KiB for SM2 and P-256.
func NewKeyCache(size int) *KeyCache {
	c := &KeyCache{seed: maphash.MakeSeed()}
	// Two slots per key the cache holds, at least 1,024, rounded up to a
	// power of two: 8 bytes a slot against 1.7 KiB an expanded key.
	slots := 1024
	for slots < 2*size {
		slots *= 2
	}
	c.seen = make([]atomic.Uint64, slots)
	gen := max(1, size/(2*keyCacheShards))
	for i := range c.shards {
		c.shards[i].gen = gen
		c.shards[i].cur = make(map[keyID]PublicKey)
	}
	return c
}

// Get returns the key that PublicKeyFromBytes(s, pub) returns, decoding it
// only when it is not cached. pub is not retained.
func (c *KeyCache) Get(s Scheme, pub []byte) (PublicKey, error) {
	if err := checkPubSize(s, pub); err != nil {
		return nil, err
	}
	return c.get(s, pub, maphash.Bytes(c.seed, pub))
}

// Reused is Get for a caller that needs the key only to verify with
// VerifyBatch, and that treats a nil key as "decode it yourself". It
// returns what Get returns, except for an Ed25519 key that is neither
// cached nor was asked for by Reused recently (within about the last size
// keys it did not decode): then it remembers the key's hash and returns
// nil, decoding nothing. It also returns nil for a key that does not
// decode.
//
// An Ed25519 batch decompresses a key it is given as bytes in about
// 5.5 µs, while expanding it for the cache costs about 8.5 µs and 1.5 KiB,
// which pays only if the key is used again before it is dropped. A key
// seen again within the cache's span is taken to be one of a set of
// senders that fits the cache, and is expanded; the keys of a set of
// senders too large for the cache, which would be dropped before their
// next use, are never expanded.
func (c *KeyCache) Reused(s Scheme, pub []byte) PublicKey {
	if checkPubSize(s, pub) != nil {
		return nil
	}
	h := maphash.Bytes(c.seed, pub)
	if s == Ed25519 {
		sh := &c.shards[h%keyCacheShards]
		id := keyID{s: s}
		copy(id.b[:], pub)
		if k := sh.get(id); k != nil {
			return k
		}
		// Zero marks an empty slot, so hash 0 is stored as 1: a key
		// with either hash may be expanded on its first use, which is
		// harmless.
		tag := max(h, 1)
		// Two slots per key, so that two keys sharing one slot do not
		// evict each other for ever when their uses alternate.
		mask := uint64(len(c.seen) - 1)
		s1, s2 := &c.seen[(h>>32)&mask], &c.seen[(h>>16)&mask]
		if v1, v2 := s1.Load(), s2.Load(); v1 != tag && v2 != tag {
			switch {
			case v1 == 0 || v2 != 0:
				s1.Store(tag)
			default:
				s2.Store(tag)
			}
			return nil
		}
	}
	k, _ := c.get(s, pub, h)
	return k
}

// get is Get for a key whose size is checked and whose hash is h.
func (c *KeyCache) get(s Scheme, pub []byte, h uint64) (PublicKey, error) {
	id := keyID{s: s}
	copy(id.b[:], pub)
	// A keyed hash keeps a flood of chosen keys from filling one shard.
	sh := &c.shards[h%keyCacheShards]
	if k := sh.get(id); k != nil {
		return k, nil
	}
	// Decoding takes microseconds, so it runs without the lock; two
	// goroutines may decode the same new key, and either result is right.
	k, err := PublicKeyFromBytes(s, pub)
	if err != nil {
		return nil, err
	}
	sh.put(id, k)
	return k, nil
}

// Len returns the number of cached keys.
func (c *KeyCache) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.cur) + len(sh.old)
		sh.mu.Unlock()
	}
	return n
}

func (sh *keyShard) get(id keyID) PublicKey {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if k, ok := sh.cur[id]; ok {
		return k
	}
	k, ok := sh.old[id]
	if ok {
		delete(sh.old, id)
		sh.add(id, k)
	}
	return k
}

func (sh *keyShard) put(id keyID, k PublicKey) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.cur[id]; !ok {
		delete(sh.old, id)
		sh.add(id, k)
	}
}

// add inserts into cur, which must not hold id; sh.mu is held.
func (sh *keyShard) add(id keyID, k PublicKey) {
	if len(sh.cur) >= sh.gen {
		sh.old, sh.cur = sh.cur, make(map[keyID]PublicKey, sh.gen)
	}
	sh.cur[id] = k
}
