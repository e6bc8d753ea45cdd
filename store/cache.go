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
type stateCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

const cacheShards = 64

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]cacheEntry
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
		c.shards[i].m = make(map[string]cacheEntry)
	}
	return c
}

func (c *stateCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// get returns a copy of the cached value and whether the key was cached.
func (c *stateCache) get(key []byte) (v []byte, absent, ok bool) {
	sh := c.shard(key)
	sh.mu.RLock()
	e, ok := sh.m[string(key)]
	sh.mu.RUnlock()
	if !ok {
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
	e := cacheEntry{absent: absent}
	if !absent {
		e.v = make([]byte, len(v))
		copy(e.v, v)
	}
	sh := c.shard(key)
	sh.mu.Lock()
	if len(sh.m) >= c.perShard {
		// Drop about an eighth of the shard; map order makes it arbitrary.
		drop := c.perShard / 8
		for k := range sh.m {
			delete(sh.m, k)
			if drop--; drop <= 0 {
				break
			}
		}
	}
	sh.m[string(key)] = e
	sh.mu.Unlock()
}
