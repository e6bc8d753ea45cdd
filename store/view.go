package store

import "sync"

// View is a consistent read view of the store: a pebble snapshot together
// with the tip it was taken at. Its reads never change, whatever is committed
// after it was taken. A View must be closed; while open it pins the versions
// of keys it can see, so keep it short-lived (e.g. one block's execution or
// one API request). A View is safe for concurrent use.
type View struct {
	s   *Store
	tip Tip

	mu sync.RWMutex // guards rs; Close takes it exclusively
	rs *readState   // nil once closed (or if the store was closed already)
}

// View returns a read view at the latest committed tip. On a closed store it
// returns a View whose reads fail with ErrClosed.
func (s *Store) View() *View {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := &View{s: s, tip: s.cur.tip}
	if !s.closed {
		// s.cur always holds the Store's own reference, so refs is >= 1 here
		// and cannot concurrently drop to zero: it is only swapped out under
		// s.mu held exclusively.
		s.cur.refs.Add(1)
		v.rs = s.cur
	}
	return v
}

// Tip returns the tip the view was taken at.
func (v *View) Tip() Tip { return v.tip }

// Get returns the value of a state key as of the view's tip, or
// (nil, ErrNotFound). The returned slice is the caller's.
func (v *View) Get(key []byte) ([]byte, error) {
	if !v.s.keys.mayContain(key) {
		return nil, v.absent()
	}
	bp := keyBufPool.Get().(*[]byte)
	k := append(append((*bp)[:0], prefixState), key...)
	val, err := v.get(k)
	*bp = k
	keyBufPool.Put(bp)
	return val, err
}

func (v *View) get(k []byte) ([]byte, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.rs == nil {
		return nil, ErrClosed
	}
	v.s.mu.RLock()
	defer v.s.mu.RUnlock()
	if v.s.closed {
		return nil, ErrClosed
	}
	return getCopy(v.rs.snap, k)
}

// absent is Get's answer for a key the store's filter rules out.
func (v *View) absent() error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.rs == nil {
		return ErrClosed
	}
	return v.s.absent()
}

// Close releases the view. Closing twice, or after the store was closed, is
// harmless and returns nil.
func (v *View) Close() error {
	v.mu.Lock()
	rs := v.rs
	v.rs = nil
	v.mu.Unlock()
	if rs != nil {
		v.s.release(rs)
	}
	return nil
}
