package execution

import (
	"bytes"
	"encoding/binary"
	"hash"
	"slices"
)

// arena hands out byte slices cut from large chunks, so that the keys and
// values a block records cost no allocation each. A slice it returns is
// never written again by the arena and stays valid after the block.
type arena struct{ buf []byte }

const arenaChunk = 32 << 10

func (a *arena) alloc(n int) []byte {
	if n > cap(a.buf)-len(a.buf) {
		if n > arenaChunk/8 {
			return make([]byte, n)
		}
		a.buf = make([]byte, 0, arenaChunk)
	}
	off := len(a.buf)
	a.buf = a.buf[:off+n]
	return a.buf[off : off+n : off+n]
}

// copy returns a copy of b; the copy is empty but not nil when b is nil,
// since a nil value reads as an absent key.
func (a *arena) copy(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	c := a.alloc(len(b))
	copy(c, b)
	return c
}

func (a *arena) concat(prefix string, b []byte) []byte {
	c := a.alloc(len(prefix) + len(b))
	copy(c[copy(c, prefix):], b)
	return c
}

// overlay is the block's state so far: committed state under the writes of
// the transactions committed earlier in the block. Entries are kept in the
// order keys were first written; each key appears once with its last value.
type overlay struct {
	state   StateReader
	index   map[string]int
	entries []Write
}

func (o *overlay) get(key []byte) ([]byte, error) {
	if i, ok := o.index[string(key)]; ok {
		if o.entries[i].Delete {
			return nil, nil
		}
		return o.entries[i].Value, nil
	}
	return o.state.Get(key)
}

func (o *overlay) apply(ws []Write) {
	for _, w := range ws {
		if i, ok := o.index[string(w.Key)]; ok {
			o.entries[i] = w
			continue
		}
		o.index[string(w.Key)] = len(o.entries)
		o.entries = append(o.entries, w)
	}
}

// sorted returns the block's final writes sorted by key. It sorts indices
// rather than the entries: moving 4-byte numbers is cheaper than moving
// structs of pointers, which the garbage collector must watch.
func (o *overlay) sorted() []Write {
	idx := make([]int32, len(o.entries))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return bytes.Compare(o.entries[a].Key, o.entries[b].Key) })
	ws := make([]Write, len(idx))
	for i, j := range idx {
		ws[i] = o.entries[j]
	}
	return ws
}

// writeSetHasher computes a header's write_set_hash. Its input is, for each
// transaction that executed (status OK or FAILED) in block order:
//
//	u32 tx index in the block
//	u32 number of writes
//	per write, sorted by key:
//	  u32 key length, key
//	  u8 0 (set), u32 value length, value   or   u8 1 (delete)
//
// with every integer big-endian and keys full state keys. An invalid
// transaction contributes nothing, so a block with no executed transaction
// hashes the empty input. Genesis frames its writes as transaction 0.
type writeSetHasher struct {
	h   hash.Hash
	buf []byte
}

func (w *writeSetHasher) add(index uint32, ws []Write) {
	b := binary.BigEndian.AppendUint32(w.buf[:0], index)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ws)))
	for _, x := range ws {
		b = binary.BigEndian.AppendUint32(b, uint32(len(x.Key)))
		b = append(b, x.Key...)
		if x.Delete {
			b = append(b, 1)
			continue
		}
		b = append(b, 0)
		b = binary.BigEndian.AppendUint32(b, uint32(len(x.Value)))
		b = append(b, x.Value...)
	}
	w.h.Write(b)
	w.buf = b
}

func (w *writeSetHasher) sum() (s [32]byte) {
	copy(s[:], w.h.Sum(nil))
	return s
}
