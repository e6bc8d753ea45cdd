package store

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
)

// keyFilter answers "might the store hold this state key?" from memory. It
// is a Bloom filter over every state key ever written: a key it has never
// seen is certainly absent, at every height, so the read needs no pebble
// lookup.
//
// Absent keys are common and costly: a sender's nonce is absent until its
// first transaction, and with a million accounts most senders in a window
// are sending for the first time. Pebble answers such a read only after
// searching both memtables and consulting the filters of every level, about
// 9 µs; the state cache cannot help, since each such key is read only once
// or twice.
//
// The filter only grows: keys are added when their block is published and
// never removed (a deleted key just costs a pebble read). So a key it does
// not hold was absent at every tip, and the filter serves reads of old
// snapshots (Views) as well as of the current tip. It is rebuilt by scanning
// the state keys when the store opens; nothing of it is written to disk.
//
// One writer (the store's commit path, holding writeMu) adds keys; readers
// run concurrently without locks. Bits are set and read atomically, and a
// key's bits are set before the block that writes it is published, which
// orders them before any read of that block's state.
type keyFilter struct {
	seed  maphash.Seed
	parts atomic.Pointer[[]*bloomPart]
}

// bloomPart is a blocked Bloom filter: a key's probes all fall in one 512-bit
// block, one cache line, so a lookup costs one memory access. When a part is
// full, the filter starts another of twice the capacity; a lookup asks
// every part, and a few doublings cover any realistic state.
type bloomPart struct {
	blocks []bloomBlock
	mask   uint64 // len(blocks)-1; a power of two minus one
	limit  int    // keys it takes before the next part starts
	n      int    // keys added; written by the single writer only
}

type bloomBlock [8]atomic.Uint64

const (
	// bloomBitsPerKey at capacity; rounding the block count up to a power of
	// two gives between 10 and 20. With bloomProbes probes in a 512-bit
	// block, about 1 in 100 absent keys still goes to pebble.
	bloomBitsPerKey = 10
	bloomProbes     = 7
	// bloomMinKeys is the first part's capacity: about 2 MiB of memory.
	bloomMinKeys = 1 << 20
)

// newKeyFilter returns an empty filter hashing with seed, sized for expected
// keys and more.
func newKeyFilter(seed maphash.Seed, expected int) *keyFilter {
	return newKeyFilterFirst(seed, max(2*expected, bloomMinKeys))
}

// newKeyFilterFirst returns an empty filter whose first part takes first
// keys.
func newKeyFilterFirst(seed maphash.Seed, first int) *keyFilter {
	f := &keyFilter{seed: seed}
	parts := []*bloomPart{newBloomPart(first)}
	f.parts.Store(&parts)
	return f
}

func newBloomPart(keys int) *bloomPart {
	nblocks := uint64(keys) * bloomBitsPerKey / 512
	nblocks = 1 << bits.Len64(max(nblocks, 1)-1) // next power of two
	return &bloomPart{blocks: make([]bloomBlock, nblocks), mask: nblocks - 1, limit: keys}
}

// block is the block that a key's hash chooses; remix(hash) gives the
// bloomProbes bit positions in it, 9 bits each.
func (p *bloomPart) block(h uint64) *bloomBlock {
	return &p.blocks[h&p.mask]
}

// remix gives bits independent of the low ones that chose the block.
func remix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// add adds key. A nil filter (tests only) ignores it.
func (f *keyFilter) add(key []byte) {
	if f != nil {
		f.addHash(maphash.Bytes(f.seed, key))
	}
}

// addHash adds a key by its hash under f.seed.
func (f *keyFilter) addHash(h uint64) {
	parts := *f.parts.Load()
	p := parts[len(parts)-1]
	if p.n >= p.limit {
		p = newBloomPart(2 * p.limit)
		grown := append(parts[:len(parts):len(parts)], p)
		f.parts.Store(&grown)
	}
	p.n++
	b := p.block(h)
	r := remix(h)
	for range bloomProbes {
		bit := r & 511
		b[bit>>6].Or(1 << (bit & 63))
		r >>= 9
	}
}

// mayContain reports whether key may have been added; false is certain. A
// nil filter (tests only) says true.
func (f *keyFilter) mayContain(key []byte) bool {
	if f == nil {
		return true
	}
	h := maphash.Bytes(f.seed, key)
	r0 := remix(h)
	for _, p := range *f.parts.Load() {
		b := p.block(h)
		r := r0
		hit := true
		for range bloomProbes {
			bit := r & 511
			if b[bit>>6].Load()&(1<<(bit&63)) == 0 {
				hit = false
				break
			}
			r >>= 9
		}
		if hit {
			return true
		}
	}
	return false
}
