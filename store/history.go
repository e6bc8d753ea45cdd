package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// The account history index: for each account, the transactions that name
// it, newest first. The caller decides which accounts a transaction names
// (the store decodes nothing) and hands them over in BlockCommit.History;
// they are written in the block's batch, so the index is exactly as
// durable as the block.
//
//	0x18 | account(20) | ^height(8) | ^index(4)  -> tx id(32) | status(1) |
//	                                              len(contract)(1) | contract | method
//
// Height and index are inverted so that a forward scan from an account's
// first key meets its newest transaction first.
const prefixHistory byte = 0x18

const (
	accountLen       = 20
	historyKeyLen    = 1 + accountLen + heightLen + indexLen
	maxHistoryName   = 255
	historyValueBase = hashLen + 2
)

// HistoryEntry is one transaction in one account's history.
type HistoryEntry struct {
	Account  [accountLen]byte
	Index    uint32 // the transaction's index in its block
	TxID     Hash
	Contract string // at most 255 bytes
	Method   string // at most 255 bytes
	Status   uint8  // the receipt's status, as the caller numbers it
}

// HistoryItem is an entry read back, with its block height.
type HistoryItem struct {
	HistoryEntry
	Height uint64
}

// Cursor is a position in an account's history: a page that starts before
// it lists the transactions older than (Height, Index). The zero Cursor
// starts from the newest.
type Cursor struct {
	Height uint64
	Index  uint32
}

// IsZero reports whether c is the start of a history.
func (c Cursor) IsZero() bool { return c == Cursor{} }

func historyKey(account [accountLen]byte, height uint64, index uint32) []byte {
	k := make([]byte, historyKeyLen)
	k[0] = prefixHistory
	copy(k[1:], account[:])
	binary.BigEndian.PutUint64(k[1+accountLen:], ^height)
	binary.BigEndian.PutUint32(k[1+accountLen+heightLen:], ^index)
	return k
}

func validateHistory(c *BlockCommit) error {
	for i := range c.History {
		e := &c.History[i]
		if len(e.Contract) > maxHistoryName || len(e.Method) > maxHistoryName {
			return fmt.Errorf("%w: history entry %d at height %d: contract or method over %d bytes", ErrInvalid, i, c.Height, maxHistoryName)
		}
		if uint64(e.Index) >= uint64(len(c.TxIDs)) {
			return fmt.Errorf("%w: history entry %d at height %d: index %d of %d transactions", ErrInvalid, i, c.Height, e.Index, len(c.TxIDs))
		}
	}
	return nil
}

// putHistory adds c's history entries to b.
func putHistory(b *pebble.Batch, c *BlockCommit) {
	for i := range c.History {
		e := &c.History[i]
		v := make([]byte, 0, historyValueBase+len(e.Contract)+len(e.Method))
		v = append(v, e.TxID[:]...)
		v = append(v, e.Status, byte(len(e.Contract)))
		v = append(append(v, e.Contract...), e.Method...)
		_ = b.Set(historyKey(e.Account, c.Height, e.Index), v, nil)
	}
}

// History lists up to limit transactions of account, newest first, older
// than before (all of them from the newest with the zero Cursor). next is
// the cursor of the following page, zero when there is none.
func (s *Store) History(account [accountLen]byte, before Cursor, limit int) (items []HistoryItem, next Cursor, err error) {
	if limit <= 0 {
		return nil, Cursor{}, fmt.Errorf("%w: history limit %d", ErrInvalid, limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, Cursor{}, ErrClosed
	}
	lower := make([]byte, 1+accountLen)
	lower[0] = prefixHistory
	copy(lower[1:], account[:])
	upper := make([]byte, 1+accountLen, historyKeyLen)
	copy(upper, lower)
	upper = binary.BigEndian.AppendUint64(upper, ^uint64(0))
	upper = binary.BigEndian.AppendUint32(upper, ^uint32(0))
	upper = append(upper, 0) // past the oldest possible key
	if !before.IsZero() {
		// Strictly older than the cursor: from the key after it.
		lower = append(historyKey(account, before.Height, before.Index), 0)
	}
	it, err := s.cur.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, Cursor{}, wrapPebble(err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = wrapPebble(cerr)
		}
	}()
	for valid := it.First(); valid; valid = it.Next() {
		if len(items) == limit {
			last := items[len(items)-1]
			return items, Cursor{Height: last.Height, Index: last.Index}, nil
		}
		item, err := decodeHistory(it.Key(), it.Value())
		if err != nil {
			return nil, Cursor{}, err
		}
		items = append(items, item)
	}
	return items, Cursor{}, nil
}

func decodeHistory(k, v []byte) (HistoryItem, error) {
	if len(k) != historyKeyLen || len(v) < historyValueBase || int(v[hashLen+1]) > len(v)-historyValueBase {
		return HistoryItem{}, fmt.Errorf("%w: history entry %x", ErrCorrupt, k)
	}
	var it HistoryItem
	copy(it.Account[:], k[1:])
	it.Height = ^binary.BigEndian.Uint64(k[1+accountLen:])
	it.Index = ^binary.BigEndian.Uint32(k[1+accountLen+heightLen:])
	copy(it.TxID[:], v)
	it.Status = v[hashLen]
	n := int(v[hashLen+1])
	it.Contract = string(v[historyValueBase : historyValueBase+n])
	it.Method = string(v[historyValueBase+n:])
	return it, nil
}

// ErrStopScan ends a Scan early without an error.
var ErrStopScan = errors.New("store: stop scan")

// Scan calls fn with every state key in [lower, upper), in key order, as
// of the view's tip, until fn returns an error; ErrStopScan ends the scan
// and Scan returns nil. key and value are valid only during the call.
func (v *View) Scan(lower, upper []byte, fn func(key, value []byte) error) (err error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.rs == nil {
		return ErrClosed
	}
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	if v.s.closed {
		return ErrClosed
	}
	lo := append([]byte{prefixState}, lower...)
	hi := append([]byte{prefixState}, upper...)
	it, err := v.rs.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return wrapPebble(err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = wrapPebble(cerr)
		}
	}()
	for valid := it.First(); valid; valid = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			return wrapPebble(err)
		}
		if err := fn(it.Key()[1:], val); err != nil {
			if errors.Is(err, ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}
