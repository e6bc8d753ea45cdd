package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// get reads key from the current snapshot.
func (s *Store) get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	return getCopy(s.cur.snap, key)
}

// keyBufPool recycles the buffers that state keys are built in. Pebble keeps
// the lookup key in pooled iterator state, so a stack buffer would escape and
// cost an allocation per Get.
var keyBufPool = sync.Pool{New: func() any { return new([]byte) }}

// Get returns the value of a state key at the latest committed height, or
// (nil, ErrNotFound). The returned slice is the caller's.
func (s *Store) Get(key []byte) ([]byte, error) {
	if s.cache != nil {
		return s.getCached(key)
	}
	if !s.keys.mayContain(key) {
		return nil, s.absent()
	}
	bp := keyBufPool.Get().(*[]byte)
	k := append(append((*bp)[:0], prefixState), key...)
	v, err := s.get(k)
	*bp = k
	keyBufPool.Put(bp)
	return v, err
}

// getCached serves Get from the state cache, filling it on a miss while
// holding s.mu shared so that no block can be published in between.
func (s *Store) getCached(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if v, absent, ok := s.cache.get(key); ok {
		if absent {
			return nil, ErrNotFound
		}
		return v, nil
	}
	if !s.keys.mayContain(key) {
		// Certain, and cheap to ask again: no cache entry.
		return nil, ErrNotFound
	}
	bp := keyBufPool.Get().(*[]byte)
	k := append(append((*bp)[:0], prefixState), key...)
	v, err := getCopy(s.cur.snap, k)
	*bp = k
	keyBufPool.Put(bp)
	switch {
	case err == nil:
		s.cache.set(key, v, false)
	case errors.Is(err, ErrNotFound):
		s.cache.set(key, nil, true)
	}
	return v, err
}

// absent is Get's answer for a key the filter rules out: ErrNotFound, or
// ErrClosed once the store is closed, as a pebble read would have said.
func (s *Store) absent() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return ErrNotFound
}

// BlockByHeight returns the encoded block at height h, or ErrNotFound (also
// for a genesis committed without block bytes).
func (s *Store) BlockByHeight(h uint64) ([]byte, error) {
	return s.get(blockKey(h))
}

// BlockByHash returns the encoded block with hash h and its height.
func (s *Store) BlockByHash(h Hash) (block []byte, height uint64, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, 0, ErrClosed
	}
	v, err := getCopy(s.cur.snap, hashKey(h))
	if err != nil {
		return nil, 0, err
	}
	height, err = decodeHeight("block hash index", v)
	if err != nil {
		return nil, 0, err
	}
	block, err = getCopy(s.cur.snap, blockKey(height))
	if errors.Is(err, ErrNotFound) {
		return nil, 0, fmt.Errorf("%w: hash index points at height %d, which has no block", ErrCorrupt, height)
	}
	if err != nil {
		return nil, 0, err
	}
	return block, height, nil
}

// TxLocation returns the height of the block containing tx id and the tx's
// index in it.
func (s *Store) TxLocation(id Hash) (height uint64, index uint32, err error) {
	v, err := s.get(txKey(id))
	if err != nil {
		return 0, 0, err
	}
	return decodeTxLoc(v)
}

// Receipt returns the receipt of tx index of block height.
func (s *Store) Receipt(height uint64, index uint32) ([]byte, error) {
	return s.get(receiptKey(height, index))
}

// Receipts returns all receipts of block height, in tx order: an empty slice
// for a committed block without txs, ErrNotFound above the tip.
func (s *Store) Receipts(height uint64) ([][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.cur.tip.Empty || height > s.cur.tip.Height {
		return nil, ErrNotFound
	}
	lower, upper := receiptBounds(height)
	it, err := s.cur.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, wrapPebble(err)
	}
	out := [][]byte{}
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) != receiptKeyLen || uint64(binary.BigEndian.Uint32(k[1+heightLen:])) != uint64(len(out)) {
			_ = it.Close()
			return nil, fmt.Errorf("%w: receipt key %x out of sequence at height %d", ErrCorrupt, k, height)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, wrapPebble(err)
		}
		out = append(out, append([]byte{}, v...))
	}
	if err := it.Close(); err != nil {
		return nil, wrapPebble(err)
	}
	return out, nil
}

// reader is what getCopy needs from a pebble DB or snapshot.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// getCopy reads key and returns a copy of its value: pebble's slice is only
// valid until the closer is closed.
func getCopy(r reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if err != nil {
		if err == pebble.ErrNotFound {
			return nil, ErrNotFound
		}
		return nil, wrapPebble(err)
	}
	out := make([]byte, len(v))
	copy(out, v)
	if err := closer.Close(); err != nil {
		return nil, wrapPebble(err)
	}
	return out, nil
}

// wrapPebble marks pebble's corruption errors with ErrCorrupt.
func wrapPebble(err error) error {
	if pebble.IsCorruptionError(err) {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return fmt.Errorf("store: %w", err)
}
