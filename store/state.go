package store

import "errors"

// StateReader reads state through a Store (the latest committed height) or
// a View (its tip), an absent key as nil with no error. That is the
// contract of execution.StateReader, which it satisfies without store
// importing execution: it is the one adapter every reader of state for
// execution, contracts and admission uses.
type StateReader struct {
	src interface {
		Get(key []byte) ([]byte, error)
	}
}

// State is a StateReader of the store's latest committed state.
func (s *Store) State() StateReader { return StateReader{s} }

// State is a StateReader of the view's state.
func (v *View) State() StateReader { return StateReader{v} }

// Get returns the value of key, or nil if it is absent.
func (r StateReader) Get(key []byte) ([]byte, error) {
	v, err := r.src.Get(key)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return v, err
}
