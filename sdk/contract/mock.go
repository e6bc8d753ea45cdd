package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Event is one event a Mock recorded.
type Event struct {
	Topic string
	Data  []byte
}

// Mock is an in-memory host for a contract's unit tests: set the block and
// caller fields, then Call methods. Like the chain, it keeps a call's
// writes and events only if the method succeeds.
type Mock struct {
	State  map[string][]byte
	Events []Event
	// CallerAddr, Org, Role, Tx, BlockHeight and BlockTime are what the
	// next Call sees.
	CallerAddr  string
	Org, Role   string
	Tx          []byte
	BlockHeight uint64
	BlockTime   uint64

	args    []byte
	pending map[string][]byte // nil value: deleted
	events  []Event
}

// NewMock returns a Mock with empty state.
func NewMock() *Mock { return &Mock{State: map[string][]byte{}} }

// ErrReverted is returned (wrapped) by Mock.Call when the method failed.
var ErrReverted = errors.New("contract reverted")

// Call runs m with args encoded as JSON (or passed through if args is
// []byte or json.RawMessage) and returns the JSON result, as the chain
// would.
func (m *Mock) Call(method Method, args any) (json.RawMessage, error) {
	switch a := args.(type) {
	case nil:
		m.args = nil
	case []byte:
		m.args = a
	case json.RawMessage:
		m.args = a
	default:
		b, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("mock: encoding args: %w", err)
		}
		m.args = b
	}
	m.pending, m.events = nil, nil
	res, err := method(m)
	if err == nil {
		var b []byte
		if b, err = encodeResult(res); err == nil {
			for _, k := range slices.Sorted(maps.Keys(m.pending)) {
				if v := m.pending[k]; v == nil {
					delete(m.State, k)
				} else {
					m.State[k] = v
				}
			}
			m.Events = append(m.Events, m.events...)
			m.pending, m.events = nil, nil
			return b, nil
		}
	}
	m.pending, m.events = nil, nil
	return nil, fmt.Errorf("%w: %w", ErrReverted, err)
}

func (m *Mock) checkKey(key string) {
	if len(key) > MaxKeySize {
		// The chain fails such a call with a trap; a panic is the closest
		// a native test gets.
		panic(fmt.Sprintf("contract: state key of %d bytes (at most %d)", len(key), MaxKeySize))
	}
}

// Get implements Context.
func (m *Mock) Get(key string) ([]byte, bool) {
	m.checkKey(key)
	if v, ok := m.pending[key]; ok {
		return append([]byte(nil), v...), v != nil
	}
	v, ok := m.State[key]
	return append([]byte(nil), v...), ok
}

// Put implements Context. A write made outside Call (a method invoked
// directly) is seen by Get but never reaches State: the next Call drops it.
func (m *Mock) Put(key string, value []byte) {
	m.checkKey(key)
	m.pend()[key] = append([]byte{}, value...)
}

// Delete implements Context.
func (m *Mock) Delete(key string) {
	m.checkKey(key)
	m.pend()[key] = nil
}

func (m *Mock) pend() map[string][]byte {
	if m.pending == nil {
		m.pending = map[string][]byte{}
	}
	return m.pending
}

// Range implements Context.
func (m *Mock) Range(start, end string, limit int) ([]Entry, bool) {
	var keys []string
	for k := range m.State {
		if _, shadowed := m.pending[k]; !shadowed {
			keys = append(keys, k)
		}
	}
	for k, v := range m.pending {
		if v != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Entry
	for _, k := range keys {
		if k < start || (end != "" && k >= end) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		v, _ := m.Get(k)
		out = append(out, Entry{Key: k, Value: v})
	}
	return out, false
}

// Caller implements Context.
func (m *Mock) Caller() string { return m.CallerAddr }

// CallerOrg implements Context.
func (m *Mock) CallerOrg() string { return m.Org }

// CallerRole implements Context.
func (m *Mock) CallerRole() string { return m.Role }

// TxID implements Context.
func (m *Mock) TxID() []byte { return m.Tx }

// Height implements Context.
func (m *Mock) Height() uint64 { return m.BlockHeight }

// Time implements Context.
func (m *Mock) Time() uint64 { return m.BlockTime }

// Args implements Context.
func (m *Mock) Args() []byte { return m.args }

// Emit implements Context.
func (m *Mock) Emit(topic string, data []byte) {
	m.events = append(m.events, Event{Topic: topic, Data: append([]byte(nil), data...)})
}
