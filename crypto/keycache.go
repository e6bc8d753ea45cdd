package crypto

import (
	"hash/maphash"
	"sync"
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
	id := keyID{s: s}
	copy(id.b[:], pub)
	// A keyed hash keeps a flood of chosen keys from filling one shard.
	sh := &c.shards[maphash.Bytes(c.seed, pub)%keyCacheShards]
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
