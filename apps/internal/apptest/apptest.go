// Package apptest runs the applications' contracts on the vm/wasm runtime
// in tests and benchmarks. Build compiles a contract package with the
// installed Go; Store is an in-memory chain for one contract (state in key
// order, native token balances, governance policies) that serves as the
// runtime's Host and, to fill a large registry quickly, as a native
// contract.Context running the same Go methods.
//
// It stands in for the chain's executor until contracts run on a node; it
// must not be used outside tests.
package apptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/internal/wasmbuild"
	"github.com/accord-chain/accord/sdk/contract"
	"github.com/accord-chain/accord/vm/wasm"
)

var builds sync.Map // package path → *build

type build struct {
	once sync.Once
	code []byte
	err  error
}

// Build compiles the contract package pkg (an import path) for
// GOOS=wasip1 GOARCH=wasm as a reactor, once per test binary, into a
// temporary directory it removes.
func Build(t testing.TB, pkg string) []byte {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &build{})
	b := v.(*build)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "apptest")
		if err != nil {
			b.err = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "contract.wasm")
		if b.err = wasmbuild.Build(pkg, out); b.err == nil {
			b.code, b.err = os.ReadFile(out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.code
}

// Install builds pkg and installs it on a new compiler-engine runtime,
// closed when the test ends.
func Install(t testing.TB, pkg string) *wasm.Contract {
	t.Helper()
	code := Build(t, pkg)
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, wasm.Params{}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(ctx) })
	c, err := rt.Install(ctx, code)
	if err != nil {
		t.Fatalf("install %s: %v", pkg, err)
	}
	return c
}

// Party is who calls: an account address (40 hex digits) and, for members
// of the consortium, an organisation and role.
type Party struct{ Addr, Org, Role string }

// Event is one event a call emitted.
type Event struct {
	Topic string
	Data  []byte
}

// GasLimit is the gas each call gets.
const GasLimit = 1_000_000_000

// Store is one contract's chain: committed state in key order, native
// token balances, governance policies (evaluated as the chain does, with
// package identity) and the block height and time the next call sees. A
// call's writes, events and token moves are kept only if it succeeds.
type Store struct {
	// Self is the contract's address.
	Self string
	// Balances are native token balances.
	Balances map[string]uint64
	// Policies map a policy name to its text; a name with none uses
	// MAJORITY(admin). Orgs are the consortium's organisations.
	Policies map[string]string
	Orgs     []string
	// Height and Time (unix ms) are the next call's block; Height goes up
	// by one with each call.
	Height, Time uint64
	// Events are the events of the calls that succeeded.
	Events []Event

	vals  map[string][]byte
	keys  []string // sorted when !dirty
	dirty bool

	// The call in progress.
	who     Party
	direct  bool
	pending map[string][]byte
	deleted map[string]bool
	moved   map[string]uint64
	newEv   []Event
}

// NewStore returns an empty store for a contract at address self.
func NewStore(self string) *Store {
	return &Store{Self: self, Balances: map[string]uint64{}, Policies: map[string]string{}, vals: map[string][]byte{}}
}

// Len is how many keys are committed.
func (s *Store) Len() int { return len(s.vals) }

func (s *Store) begin(who Party) {
	s.Height++
	s.who, s.direct = who, true
	s.pending, s.deleted, s.moved, s.newEv = map[string][]byte{}, map[string]bool{}, map[string]uint64{}, nil
}

func (s *Store) end(ok bool) {
	if ok {
		for _, k := range slices.Sorted(maps.Keys(s.deleted)) {
			if _, had := s.vals[k]; had {
				delete(s.vals, k)
				s.dirty = true
			}
		}
		for k, v := range s.pending {
			if _, had := s.vals[k]; !had {
				s.keys = append(s.keys, k)
				s.dirty = true
			}
			s.vals[k] = v
		}
		for a, v := range s.moved {
			s.Balances[a] = v
		}
		s.Events = append(s.Events, s.newEv...)
	}
	s.pending, s.deleted, s.moved, s.newEv = nil, nil, nil, nil
}

// Call runs method on the contract with args (JSON-encoded unless []byte)
// as who, and returns its result; a failed call changes nothing.
func (s *Store) Call(c *wasm.Contract, who Party, method string, args any) ([]byte, wasm.Result, error) {
	raw, ok := args.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(args); err != nil {
			return nil, wasm.Result{}, err
		}
	}
	s.begin(who)
	res, err := c.Call(context.Background(), wasm.Call{Method: method, Args: raw, Caller: who.Addr,
		CallerOrg: who.Org, CallerRole: who.Role, Self: s.Self, TxID: []byte(fmt.Sprintf("tx-%d", s.Height)),
		Height: s.Height, Time: s.Time, GasLimit: GasLimit, Host: s})
	s.end(err == nil)
	return res.Return, res, err
}

func (s *Store) get(k string) ([]byte, bool) {
	if s.deleted[k] {
		return nil, false
	}
	if v, ok := s.pending[k]; ok {
		return v, true
	}
	v, ok := s.vals[k]
	return v, ok
}

func (s *Store) put(k string, v []byte) {
	delete(s.deleted, k)
	s.pending[k] = append([]byte{}, v...)
}

func (s *Store) del(k string) {
	delete(s.pending, k)
	s.deleted[k] = true
}

// scan returns up to limit entries with start <= key < end ("" no bound)
// in key order, the call's own writes included.
func (s *Store) scan(start, end string, limit int) ([]contract.Entry, bool) {
	if s.dirty {
		s.keys = s.keys[:0]
		for k := range s.vals {
			s.keys = append(s.keys, k)
		}
		sort.Strings(s.keys)
		s.dirty = false
	}
	in := func(k string) bool { return k >= start && (end == "" || k < end) }
	var cand []string
	for _, k := range s.keys[sort.SearchStrings(s.keys, start):] {
		if !in(k) || len(cand) > limit { // limit+1 committed keys settle more
			break
		}
		if _, shadowed := s.pending[k]; !shadowed && !s.deleted[k] {
			cand = append(cand, k)
		}
	}
	for k := range s.pending {
		if in(k) {
			cand = append(cand, k)
		}
	}
	sort.Strings(cand)
	more := len(cand) > limit
	if more {
		cand = cand[:limit]
	}
	out := make([]contract.Entry, len(cand))
	for i, k := range cand {
		v, _ := s.get(k)
		out[i] = contract.Entry{Key: k, Value: append([]byte(nil), v...)}
	}
	return out, more
}

func (s *Store) bal(a string) uint64 {
	if v, ok := s.moved[a]; ok {
		return v
	}
	return s.Balances[a]
}

// ErrRefused is what the store's token and policy functions refuse with.
var ErrRefused = errors.New("refused")

func (s *Store) move(from, to string, n uint64) error {
	if s.bal(from) < n {
		return fmt.Errorf("%w: %s holds %d, needs %d", ErrRefused, from, s.bal(from), n)
	}
	f := s.bal(from) - n
	s.moved[from] = f
	s.moved[to] = s.bal(to) + n
	return nil
}

func (s *Store) policy(name string, approvals []contract.Approval) (bool, error) {
	text := s.Policies[name]
	if text == "" {
		text = "MAJORITY(admin)"
	}
	p, err := identity.ParsePolicy(text)
	if err != nil {
		return false, fmt.Errorf("%w: policy %s: %w", ErrRefused, name, err)
	}
	var orgs []string
	for _, a := range approvals {
		r, err := identity.ParseRole(a.Role)
		if err == nil && slices.Contains(s.Orgs, a.Org) && p.Counts(r) {
			orgs = append(orgs, a.Org)
		}
	}
	return p.Check(orgs, s.Orgs) == nil, nil
}

// The wasm.Host side.

// Get implements wasm.Host.
func (s *Store) Get(k []byte) ([]byte, bool, error) {
	v, ok := s.get(string(k))
	return v, ok, nil
}

// Put implements wasm.Host.
func (s *Store) Put(k, v []byte) error { s.put(string(k), v); return nil }

// Delete implements wasm.Host.
func (s *Store) Delete(k []byte) error { s.del(string(k)); return nil }

// Emit implements wasm.Host.
func (s *Store) Emit(topic string, data []byte) error {
	s.newEv = append(s.newEv, Event{topic, append([]byte(nil), data...)})
	return nil
}

// Range implements wasm.Host.
func (s *Store) Range(start, end []byte, limit int) ([]wasm.Entry, bool, error) {
	es, more := s.scan(string(start), string(end), limit)
	out := make([]wasm.Entry, len(es))
	for i, e := range es {
		out[i] = wasm.Entry{Key: []byte(e.Key), Value: e.Value}
	}
	return out, more, nil
}

// CallContract implements wasm.Host: the applications call no other
// contract.
func (s *Store) CallContract(name, method string, _ []byte, gas uint64) ([]byte, uint64, error) {
	return nil, 0, fmt.Errorf("%w: apptest has no contract %s to call %s on", ErrRefused, name, method)
}

// Balance implements wasm.Host.
func (s *Store) Balance(a string) (uint64, error) { return s.bal(a), nil }

// Transfer implements wasm.Host.
func (s *Store) Transfer(to string, n uint64) error { return s.move(s.Self, to, n) }

// Collect implements wasm.Host.
func (s *Store) Collect(n uint64) error {
	if !s.direct {
		return fmt.Errorf("%w: collect only in a call the caller signed", ErrRefused)
	}
	return s.move(s.who.Addr, s.Self, n)
}

// PolicySatisfied implements wasm.Host.
func (s *Store) PolicySatisfied(name string, as []wasm.Approval) (bool, error) {
	cs := make([]contract.Approval, len(as))
	for i, a := range as {
		cs[i] = contract.Approval{Org: a.Org, Role: a.Role}
	}
	return s.policy(name, cs)
}

// RunNative runs a contract method compiled for the host as who, against
// the store, exactly as a call on the runtime would change it: the way to
// fill a registry with many entries quickly.
func (s *Store) RunNative(fn contract.Method, who Party, args any) (any, error) {
	raw, ok := args.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(args); err != nil {
			return nil, err
		}
	}
	s.begin(who)
	res, err := fn(native{s, raw})
	s.end(err == nil)
	return res, err
}

// native is the contract.Context of a native call.
type native struct {
	s    *Store
	args []byte
}

func (n native) Get(k string) ([]byte, bool) {
	v, ok := n.s.get(k)
	return append([]byte(nil), v...), ok
}
func (n native) Put(k string, v []byte)         { n.s.put(k, v) }
func (n native) Delete(k string)                { n.s.del(k) }
func (n native) Caller() string                 { return n.s.who.Addr }
func (n native) CallerOrg() string              { return n.s.who.Org }
func (n native) CallerRole() string             { return n.s.who.Role }
func (n native) TxID() []byte                   { return []byte(fmt.Sprintf("tx-%d", n.s.Height)) }
func (n native) Height() uint64                 { return n.s.Height }
func (n native) Time() uint64                   { return n.s.Time }
func (n native) Args() []byte                   { return n.args }
func (n native) Emit(topic string, data []byte) { _ = n.s.Emit(topic, data) }
func (n native) Range(start, end string, limit int) ([]contract.Entry, bool) {
	return n.s.scan(start, end, limit)
}
func (n native) Self() string                         { return n.s.Self }
func (n native) Balance(a string) (uint64, error)     { return n.s.bal(a), nil }
func (n native) Transfer(to string, amt uint64) error { return n.s.Transfer(to, amt) }
func (n native) Collect(amt uint64) error             { return n.s.Collect(amt) }
func (n native) Call(name, method string, args []byte) ([]byte, error) {
	ret, _, err := n.s.CallContract(name, method, args, 0)
	return ret, err
}
func (n native) PolicySatisfied(name string, as []contract.Approval) (bool, error) {
	return n.s.policy(name, as)
}
