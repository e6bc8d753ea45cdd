package store

import (
	"github.com/cockroachdb/pebble/v2"
)

// KV is one state entry returned by Range.
type KV struct {
	Key, Value []byte
}

// Range returns up to limit state entries with start <= key < end (end nil:
// no bound) in key order as of the view's tip, and whether more follow.
// User contracts' range reads and registry listings use it.
func (v *View) Range(start, end []byte, limit int) ([]KV, bool, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.rs == nil {
		return nil, false, ErrClosed
	}
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	if v.s.closed {
		return nil, false, ErrClosed
	}
	lo := append([]byte{prefixState}, start...)
	hi := []byte{prefixStateEnd}
	if end != nil {
		hi = append([]byte{prefixState}, end...)
	}
	it, err := v.rs.snap.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, false, wrapPebble(err)
	}
	var out []KV
	more := false
	for valid := it.First(); valid; valid = it.Next() {
		if len(out) == limit {
			more = true
			break
		}
		val, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, false, wrapPebble(err)
		}
		out = append(out, KV{Key: append([]byte(nil), it.Key()[1:]...), Value: append([]byte(nil), val...)})
	}
	if err := it.Close(); err != nil {
		return nil, false, wrapPebble(err)
	}
	return out, more, nil
}

// Range is View.Range on the latest committed state.
func (s *Store) Range(start, end []byte, limit int) ([]KV, bool, error) {
	v := s.View()
	defer v.Close()
	return v.Range(start, end, limit)
}
