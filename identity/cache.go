package identity

import (
	"sync"

	"github.com/accord-chain/accord/types"
)

// Cache remembers certificates whose CA signature verified, by certificate
// hash, so that a node parses and verifies each certificate once however
// many transactions carry it. It holds only what cannot change (who the
// certificate names and which CA signed it): validity, revocation and
// whether the CA is still trusted are checked on every use, so a cache
// never changes a verdict. A Cache is safe for concurrent use and may be
// shared by the registries of successive configurations of one chain (not
// by chains with different hash functions).
type Cache struct {
	mu       sync.Mutex
	cur, old map[types.Hash]*Member
	gen      int
}

// NewCache makes a cache of about size certificates (at least 16). It
// keeps two generations: when the newer is full the older is dropped, so
// certificates used recently stay. An entry takes about 0.5 KiB.
func NewCache(size int) *Cache {
	return &Cache{gen: max(8, size/2), cur: map[types.Hash]*Member{}}
}

// Len returns the number of cached certificates.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}

func (c *Cache) get(h types.Hash) *Member {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.cur[h]; m != nil {
		return m
	}
	m := c.old[h]
	if m != nil {
		c.add(h, m)
	}
	return m
}

func (c *Cache) put(h types.Hash, m *Member) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(h, m)
}

func (c *Cache) add(h types.Hash, m *Member) {
	if len(c.cur) >= c.gen {
		c.old, c.cur = c.cur, make(map[types.Hash]*Member, c.gen)
	}
	c.cur[h] = m
}
