package store

import (
	"hash/maphash"
	"sync"
)

// stateCache holds recently read or written state values in memory, in
// front of pebble, whose memtable lookups dominate a busy node's reads. It
// also remembers absent keys. It is transparent: every entry equals the
// committed value at the store's current tip, because entries are set from
// a block's writes in the same critical section that publishes the block
// (Store.mu held exclusively), and filled on a miss only while Store.mu is
// held shared, so no publish can slip between the pebble read and the fill.
// Eviction is arbitrary; nothing depends on which entries stay.
//
// A cache of millions of entries is far larger than the CPU's caches, so a
// lookup costs what its memory accesses cost. Short keys with short values
// (nonces and balances: keys of 24 and 30 bytes, values of 8) are therefore
// kept inline in the map's slots, with no pointer to follow to compare the
// key or copy the value, and no object for the garbage collector to scan;
// other entries go to a second map.
type stateCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

const cacheShards = 64

const (
	inlineKeyMax = 39 // so that an inlineKey is 40 bytes
	inlineValMax = 15 // so that an inlineVal is 16 bytes
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

// set records a value (copied) or an absent key.
func (c *stateCache) set(key, v []byte, absent bool) {
	k, short := toInline(key)
	small := short && (absent || len(v) <= inlineValMax)
	var iv inlineVal
	var e cacheEntry
	switch {
	case small && !absent:
		iv.n = uint8(len(v) + 1)
		copy(iv.b[:], v)
	case !small:
		e.absent = absent
		if !absent {
			e.v = make([]byte, len(v))
			copy(e.v, v)
		}
	}
	sh := c.shard(key)
	sh.mu.Lock()
	if len(sh.small)+len(sh.big) >= c.perShard {
		sh.evict(c.perShard / 8)
	}
	if small {
		sh.small[k] = iv
		if len(sh.big) > 0 {
			delete(sh.big, string(key))
		}
	} else {
		sh.big[string(key)] = e
		if short {
			delete(sh.small, k)
		}
	}
	sh.mu.Unlock()
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
