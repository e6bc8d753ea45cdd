//go:build !wasip1

package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/accord-chain/accord/identity"
)

// Event is one event a Mock recorded.
type Event struct {
	Topic string
	Data  []byte
}

// Mock is an in-memory host for a contract's unit tests: set the block and
// caller fields, then Call methods. Like the chain, it keeps a call's
// writes, events, token movements and the effects of the contracts it
// called only if the method succeeds.
//
// The Context a method receives is the Mock seen through a thin wrapper
// (Mock.Call is the test's driver; the Context's Call reaches Contracts).
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

	// SelfAddr is the contract's own address (Context.Self).
	SelfAddr string
	// Balances are native token balances by address (Balance, Transfer,
	// Collect). Contracts called through Contracts share them.
	Balances map[string]uint64
	// Policies maps a policy name to its text as identity.ParsePolicy
	// reads it ("MAJORITY(admin)", "SET(2 of org1,org2; admin)"); a name
	// with none uses "MAJORITY(admin)". They are evaluated against Orgs,
	// the consortium's organisations.
	Policies map[string]string
	Orgs     []string
	// Contracts are the other contracts Context.Call reaches, by name: each
	// a Mock of its own (its State, SelfAddr, Events) whose Methods are
	// callable. Register builds one.
	Contracts map[string]*Mock
	// Methods are this Mock's methods by name, when another Mock calls it.
	Methods map[string]Method

	args    []byte
	pending map[string][]byte // nil value: deleted
	events  []Event
	nested  bool // called by another contract: no Collect
	active  bool // running: a call back into it is refused, as on the chain
}

// mockCtx is the Context a Mock hands a method: the Mock, with Call
// meaning a call to another contract rather than the test driver.
type mockCtx struct{ *Mock }

// Call implements Context: it runs method of contract (a Mock in
// Contracts) with this contract as the caller.
func (c mockCtx) Call(contract, method string, args []byte) ([]byte, error) {
	return c.callOther(contract, method, args)
}

// Context returns the Context a method sees when the Mock runs it, for
// calling helpers such as Decode directly in tests.
func (m *Mock) Context() Context { return mockCtx{m} }

// Register adds a contract named name with these methods to Contracts and
// returns its Mock, so tests can set its State or SelfAddr.
func (m *Mock) Register(name string, methods map[string]Method) *Mock {
	c := NewMock()
	c.SelfAddr = name
	c.Methods = methods
	if m.Contracts == nil {
		m.Contracts = map[string]*Mock{}
	}
	m.Contracts[name] = c
	return c
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
	if m.active {
		return nil, fmt.Errorf("%w: the contract is already running (a call back into it)", ErrReverted)
	}
	undo := m.save()
	m.active = true
	m.pending, m.events = nil, nil
	res, err := method(mockCtx{m})
	m.active = false
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
	undo()
	return nil, fmt.Errorf("%w: %w", ErrReverted, err)
}

// save records the balances and the state and events of every contract
// reachable from m, and returns what puts them back.
func (m *Mock) save() func() {
	type saved struct {
		m      *Mock
		state  map[string][]byte
		events int
	}
	var all []saved
	seen := map[*Mock]bool{}
	var walk func(*Mock)
	walk = func(c *Mock) {
		if c == nil || seen[c] {
			return
		}
		seen[c] = true
		all = append(all, saved{c, maps.Clone(c.State), len(c.Events)})
		for _, name := range slices.Sorted(maps.Keys(c.Contracts)) {
			walk(c.Contracts[name])
		}
	}
	walk(m)
	balances := maps.Clone(m.Balances)
	return func() {
		for _, s := range all {
			s.m.State = s.state
			s.m.Events = s.m.Events[:s.events]
		}
		if m.Balances != nil {
			clear(m.Balances)
			maps.Copy(m.Balances, balances)
		}
	}
}

func (m *Mock) callOther(name, method string, args []byte) ([]byte, error) {
	c := m.Contracts[name]
	if c == nil {
		return nil, fmt.Errorf("%s.%s: %w: mock: no contract %q in Contracts (the native token is reached through Balance, Transfer and Collect)", name, method, ErrCallFailed, name)
	}
	fn := c.Methods[method]
	if fn == nil {
		return nil, fmt.Errorf("%s.%s: %w: mock: contract %q has no method %q", name, method, ErrCallFailed, name, method)
	}
	if m.Balances == nil {
		m.Balances = map[string]uint64{}
	}
	c.CallerAddr, c.Org, c.Role = m.SelfAddr, "", ""
	c.Tx, c.BlockHeight, c.BlockTime = m.Tx, m.BlockHeight, m.BlockTime
	c.Balances = m.Balances
	if c.Policies == nil {
		c.Policies = m.Policies
	}
	if c.Orgs == nil {
		c.Orgs = m.Orgs
	}
	c.nested = true
	defer func() { c.nested = false }()
	ret, err := c.Call(fn, args)
	if err != nil {
		return nil, fmt.Errorf("%s.%s: %w: %w", name, method, ErrCallFailed, err)
	}
	return ret, nil
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

// Self implements Context.
func (m *Mock) Self() string { return m.SelfAddr }

// Balance implements Context.
func (m *Mock) Balance(addr string) (uint64, error) { return m.Balances[addr], nil }

func (m *Mock) move(from, to string, amount uint64) error {
	if m.Balances == nil {
		m.Balances = map[string]uint64{}
	}
	if m.Balances[from] < amount {
		return fmt.Errorf("%w: %s holds %d, needs %d", ErrRefused, from, m.Balances[from], amount)
	}
	if from != to && m.Balances[to] > ^uint64(0)-amount {
		return fmt.Errorf("%w: the balance of %s would overflow", ErrRefused, to)
	}
	m.Balances[from] -= amount
	m.Balances[to] += amount
	return nil
}

// Transfer implements Context.
func (m *Mock) Transfer(to string, amount uint64) error {
	if err := m.move(m.SelfAddr, to, amount); err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	return nil
}

// Collect implements Context.
func (m *Mock) Collect(amount uint64) error {
	if m.nested {
		return fmt.Errorf("collect: %w: only in a call the caller signed directly, not from another contract", ErrRefused)
	}
	if err := m.move(m.CallerAddr, m.SelfAddr, amount); err != nil {
		return fmt.Errorf("collect: %w", err)
	}
	return nil
}

// PolicySatisfied implements Context, as the chain does: approvals of roles
// the policy does not count are ignored, organisations count once, and
// organisations not in Orgs do not count.
func (m *Mock) PolicySatisfied(policy string, approvals []Approval) (bool, error) {
	text := m.Policies[policy]
	if text == "" {
		text = "MAJORITY(admin)"
	}
	p, err := identity.ParsePolicy(text)
	if err != nil {
		return false, fmt.Errorf("policy %s: %w: %w", policy, ErrRefused, err)
	}
	orgs := slices.Sorted(slices.Values(m.Orgs))
	if err := p.Validate(orgs); err != nil {
		return false, fmt.Errorf("policy %s: %w: %w", policy, ErrRefused, err)
	}
	var endorsed []string
	for _, a := range approvals {
		r, err := identity.ParseRole(a.Role)
		if _, member := slices.BinarySearch(orgs, a.Org); err == nil && member && p.Counts(r) {
			endorsed = append(endorsed, a.Org)
		}
	}
	if err := p.Check(endorsed, orgs); err != nil {
		if errors.Is(err, identity.ErrPolicy) {
			return false, nil
		}
		return false, fmt.Errorf("policy %s: %w: %w", policy, ErrRefused, err)
	}
	return true, nil
}
