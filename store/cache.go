package store

import (
	"hash/maphash"
	"sync"
)

// stateCache holds recently read state values in memory, in front of
// pebble, whose memtable lookups dominate a busy node's reads. It also
// remembers absent keys. It is transparent: every entry equals the
// committed value at the store's current tip, because a block's writes
// update the entries of the keys it writes in the same critical section
// that publishes the block (Store.mu held exclusively), and entries are
// filled on a miss only while Store.mu is held shared, so no publish can
// slip between the pebble read and the fill. A write of a long entry that
// is not cached does not add it (see update).
// Eviction is arbitrary; nothing depends on which entries stay.
//
// A cache of 100,000 entries and more is larger than the CPU's caches, so a
// lookup costs what its memory accesses cost. Short keys with short values
// (nonces and balances: keys of 24 and 30 bytes, values of 8) are therefore
// kept inline in the map's slots, with no pointer to follow to compare the
// key or copy the value, and no object for the garbage collector to scan;
// other entries go to a second map. The inline sizes fit those keys and
// values and no more: a slot of 41 bytes rather than 56 keeps more of the
// map in the CPU's caches and makes a slot span fewer cache lines.
type stateCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

const cacheShards = 64

const (
	inlineKeyMax = 31 // so that an inlineKey is 32 bytes
	inlineValMax = 8  // so that an inlineVal is 9 bytes
)

// inlineKey is a key of at most inlineKeyMax bytes, zero-padded.
type inlineKey struct {
	n uint8
	b [inlineKeyMax]byte
}

// inlineVal is an absent key (n == 0) or a value of n-1 bytes, at most
// inlineValMax.
type inlineVal struct {
	n uint8
	b [inlineValMax]byte
}

// cacheShard keeps each key in at most one of its maps: in small when the
// key and the value (or absence) fit inline, in big otherwise.
type cacheShard struct {
	mu    sync.RWMutex
	small map[inlineKey]inlineVal
	big   map[string]cacheEntry
}

type cacheEntry struct {
	v      []byte
	absent bool
}

// newStateCache returns a cache of about entries entries; nil when entries
// is zero.
func newStateCache(entries int) *stateCache {
	if entries <= 0 {
		return nil
	}
	c := &stateCache{seed: maphash.MakeSeed(), perShard: max(entries/cacheShards, 16)}
	for i := range c.shards {
		c.shards[i].small = make(map[inlineKey]inlineVal)
		c.shards[i].big = make(map[string]cacheEntry)
	}
	return c
}

func (c *stateCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

func toInline(key []byte) (k inlineKey, ok bool) {
	if len(key) > inlineKeyMax {
		return k, false
	}
	k.n = uint8(len(key))
	copy(k.b[:], key)
	return k, true
}

// get returns a copy of the cached value and whether the key was cached.
func (c *stateCache) get(key []byte) (v []byte, absent, ok bool) {
	sh := c.shard(key)
	if k, short := toInline(key); short {
		sh.mu.RLock()
		iv, found := sh.small[k]
		sh.mu.RUnlock()
		if found {
			if iv.n == 0 {
				return nil, true, true
			}
			out := make([]byte, iv.n-1)
			copy(out, iv.b[:])
			return out, false, true
		}
	}
	sh.mu.RLock()
	e, found := sh.big[string(key)]
	sh.mu.RUnlock()
	if !found {
		return nil, false, false
	}
	if e.absent {
		return nil, true, true
	}
	out := make([]byte, len(e.v))
	copy(out, e.v)
	return out, false, true
}

// set records a value (copied) or an absent key, as a read found it.
func (c *stateCache) set(key, v []byte, absent bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	if len(sh.small)+len(sh.big) >= c.perShard {
		sh.evict(c.perShard / 8)
	}
	sh.put(key, v, absent)
	sh.mu.Unlock()
}

// update records a block's write of key. A key and value short enough to
// be kept inline (a nonce, a balance) are cached as set caches them: the
// account's next transaction reads them. A longer entry is only updated
// if key is cached, never added: such records are mostly written once and
// rarely read (a payment's record and statement entry), and caching them
// cost every block a copy of each and the collector their scanning. They
// enter the cache when read.
func (c *stateCache) update(key, v []byte, absent bool) {
	if _, short := toInline(key); short && (absent || len(v) <= inlineValMax) {
		c.set(key, v, absent)
		return
	}
	sh := c.shard(key)
	sh.mu.Lock()
	if sh.has(key) {
		sh.put(key, v, absent)
	}
	sh.mu.Unlock()
}

// has reports whether key is cached. sh.mu is held.
func (sh *cacheShard) has(key []byte) bool {
	if k, short := toInline(key); short {
		if _, ok := sh.small[k]; ok {
			return true
		}
	}
	if len(sh.big) == 0 {
		return false
	}
	_, ok := sh.big[string(key)]
	return ok
}

// put stores a value (copied) or an absent key in the map it fits,
// removing it from the other. sh.mu is held.
func (sh *cacheShard) put(key, v []byte, absent bool) {
	k, short := toInline(key)
	small := short && (absent || len(v) <= inlineValMax)
	if small {
		var iv inlineVal
		if !absent {
			iv.n = uint8(len(v) + 1)
			copy(iv.b[:], v)
		}
		sh.small[k] = iv
		if len(sh.big) > 0 {
			delete(sh.big, string(key))
		}
		return
	}
	e := cacheEntry{absent: absent}
	if !absent {
		e.v = make([]byte, len(v))
		copy(e.v, v)
	}
	sh.big[string(key)] = e
	if short {
		delete(sh.small, k)
	}
}

// evict drops about drop entries; map order makes the choice arbitrary.
// sh.mu is held.
func (sh *cacheShard) evict(drop int) {
	for k := range sh.big {
		delete(sh.big, k)
		if drop--; drop <= 0 {
			return
		}
	}
	for k := range sh.small {
		delete(sh.small, k)
		if drop--; drop <= 0 {
			return
		}
	}
}
