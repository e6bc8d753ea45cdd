package execution

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// indexAfter is the number of writes in one transaction above which its
// writes are found through a map rather than a scan. Native contracts write
// two or three keys; a WASM contract may write many.
const indexAfter = 8

// Context is one transaction's view of state. Contracts read and write only
// through it. It records the state keys the transaction read from outside
// itself and the writes it made; those records are what Execute commits.
//
// Keys given to a contract's Context are namespaced: key k of contract n is
// the state key "c/" + n + "/" + k (see ContractKey). A Context is valid only
// during the Call it is passed to and is not safe for concurrent use.
//
// In a block that runs in parallel, a Context also holds the transaction to
// the keys it declared (see Predictor): touching any other key, or reading a
// key declared as a credit, stops the parallel run and the block starts
// again sequentially. Get then returns an error that the contract should
// return, as it would a state error.
type Context struct {
	view   *overlay // sequential: the block's state so far
	lane   *lane    // parallel: the worker running the transaction
	arena  *arena
	sender types.Address
	signer any // the Gate's verdict on the sender; nil on an open chain
	height uint64
	time   uint64

	// Parallel only: the transaction's index in the block, what it
	// declared, and its credits, whose values the merge fills in. After a
	// rollback the credits are void but still checked: a sequential
	// AddUint64 that would have failed may have changed what the contract
	// did before it failed.
	tx          int32
	acc         []access
	accIndex    map[string]int
	credits     []pendingCredit
	creditsVoid bool
	kept        any

	contract string
	prefix   string // "c/" + contract + "/"

	reads  [][]byte
	writes []Write // unique keys; sorted only by WriteSet
	index  map[string]int
	events []*pb.Event
	slab   []pb.Event // events are cut from it, many to an allocation
	slabN  int        // size of the last slab: doubles up to 64, so a one-call Context allocates little

	// User contracts and nested calls (user.go).
	exec     *Executor
	blockGas *uint64 // the block's gas used so far; nil in a dry run
	txID     types.Hash
	gasLimit uint64
	gasUsed  uint64
	result   []byte
	stack    []frame
	// Speculative runs (speculate.go) record what validation rechecks.
	spec      bool
	gasChecks []gasCheck
	ranges    []keyRange

	err error // first misuse by the contract; fails the transaction
	// stateErr is the first error from the StateReader, which aborts the
	// block, or why a parallel run must stop (errSequential).
	stateErr error
}

// Sender is the address that signed the transaction.
func (c *Context) Sender() types.Address { return c.sender }

// Signer is what the chain's Gate knows of the sender (for a permissioned
// chain, its identity.Member); nil on an open chain and in Simulate
// unless CallInput.Signer is set.
func (c *Context) Signer() any { return c.signer }

// Height is the height of the block being executed.
func (c *Context) Height() uint64 { return c.height }

// Time is the block time, unix milliseconds.
func (c *Context) Time() uint64 { return c.time }

// Contract is the name of the contract being called.
func (c *Context) Contract() string { return c.contract }

// Kept is what the contract's Predict kept for this call
// (AccessList.Keep), or nil: always nil when the block runs sequentially.
func (c *Context) Kept() any { return c.kept }

// Get returns the value of key in the contract's namespace, or nil if it is
// absent. It sees this transaction's own writes first, then those of earlier
// transactions in the block, then committed state. The caller must not
// modify the value. An error comes from the state store; the contract should
// return it, and Execute fails whatever the contract returns.
func (c *Context) Get(key []byte) ([]byte, error) {
	return c.get(c.fullKey(key))
}

// Set sets key in the contract's namespace to a copy of value. A nil value
// sets an empty value, which is not the same as Delete.
func (c *Context) Set(key, value []byte) {
	if len(value) > MaxValueLen {
		c.tooLarge(len(key), len(value))
		return
	}
	c.put(c.fullKey(key), c.arena.copy(value), false)
}

// Delete removes key from the contract's namespace.
func (c *Context) Delete(key []byte) {
	c.put(c.fullKey(key), nil, true)
}

// AddUint64 adds delta to the counter at key in the contract's namespace: 8
// bytes big-endian, absent (or empty) counting as 0. It fails with
// ErrOverflow if the sum does not fit in 64 bits, and with ErrCorrupt if the
// key holds something other than a counter; the key is then unchanged. A
// delta of 0 does nothing at all.
//
// Declared as a credit (AccessList.Credit), the addition is not performed
// when the call is made: it commutes with the credits of other transactions
// and gets its value when the block's results are merged in block order, so
// the recorded write is exactly the one sequential execution makes. A
// contract that credits must therefore know that the sum cannot overflow
// when its transaction would otherwise succeed (the token's supply bounds
// every balance, for example); if it can, the block still gives the
// sequential result, after running again sequentially.
func (c *Context) AddUint64(key []byte, delta uint64) error {
	if delta == 0 {
		return nil
	}
	full := c.fullKey(key)
	if c.lane != nil {
		i := c.declared(full)
		if i < 0 {
			return c.undeclared(i, full, "added to")
		}
		if c.acc[i].kind == credit {
			return c.credit(i, full, delta)
		}
	}
	v, err := c.get(full)
	if err != nil {
		return err
	}
	cur, ok := decodeCounter(v)
	if !ok {
		return fmt.Errorf("%w: %q holds %d bytes, not an 8-byte counter", ErrCorrupt, key, len(v))
	}
	sum, carry := bits.Add64(cur, delta, 0)
	if carry != 0 {
		return fmt.Errorf("%w: %q holds %d, and adding %d exceeds %d", ErrOverflow, key, cur, delta, uint64(math.MaxUint64))
	}
	b := c.arena.alloc(8)
	binary.BigEndian.PutUint64(b, sum)
	c.put(full, b, false)
	return nil
}

// decodeCounter reads an AddUint64 counter; absent and empty are 0.
func decodeCounter(v []byte) (uint64, bool) {
	switch len(v) {
	case 0:
		return 0, true
	case 8:
		return binary.BigEndian.Uint64(v), true
	}
	return 0, false
}

// pendingCredit is a credit made in a parallel block: acc is its entry in
// Context.acc and val the 8 bytes of its write, which the merge fills with
// the sum.
type pendingCredit struct {
	acc   int
	delta uint64
	val   []byte
}

// credit records an addition to a key declared as a credit. What the
// contract sees (return value, read set, write set keys) is what a
// sequential AddUint64 shows it when the sum fits: the merge checks that it
// does.
func (c *Context) credit(i int, full []byte, delta uint64) error {
	if len(full) > MaxKeyLen {
		c.tooLarge(len(full), 8)
		return nil
	}
	for j := range c.credits {
		if p := &c.credits[j]; p.acc == i {
			sum, carry := bits.Add64(p.delta, delta, 0)
			if carry != 0 {
				return c.stop("credited %q more than 2^64-1 in all", full)
			}
			p.delta = sum
			return nil
		}
	}
	c.reads = append(c.reads, full)
	v := c.arena.alloc(8)
	c.record(full, v, false)
	c.credits = append(c.credits, pendingCredit{acc: i, delta: delta, val: v})
	return nil
}

// errSequential stops a parallel run: the block starts again sequentially.
var errSequential = errors.New("block must run sequentially")

// stop ends the parallel run because of what the transaction did. It returns
// the error Get gives the contract.
func (c *Context) stop(format string, args ...any) error {
	if c.stateErr == nil {
		c.stateErr = fmt.Errorf("%w: transaction %d %s", errSequential, c.tx, fmt.Sprintf(format, args...))
	}
	return c.stateErr
}

// undeclared stops the parallel run for a key used in a way the transaction
// did not declare; a is the key's index in c.acc, or -1.
func (c *Context) undeclared(a int, full []byte, did string) error {
	if a < 0 {
		return c.stop("%s %q, which it did not declare", did, full)
	}
	return c.stop("%s %q, which it declared as a credit", did, full)
}

// declared returns the index in c.acc of a key the transaction declared, or -1.
func (c *Context) declared(full []byte) int {
	if c.accIndex == nil && len(c.acc) > indexAccessAfter {
		c.accIndex = make(map[string]int, len(c.acc))
		for i := range c.acc {
			c.accIndex[string(c.acc[i].key)] = i
		}
	}
	return findAccess(c.acc, c.accIndex, full)
}

// Emit records an event of the current contract. It keeps attrs: the caller
// must not change them afterwards. Events of a failed transaction are
// discarded with its writes.
func (c *Context) Emit(name string, attrs ...*pb.Attribute) {
	if len(c.slab) == 0 {
		c.slabN = min(max(2*c.slabN, 1), 64)
		c.slab = make([]pb.Event, c.slabN)
	}
	e := &c.slab[0]
	c.slab = c.slab[1:]
	e.Contract, e.Name, e.Attributes = c.contract, name, attrs
	c.events = append(c.events, e)
}

// ReadSet returns the full state keys the transaction read from outside
// itself, sorted and each once. The slice and keys belong to the Context.
func (c *Context) ReadSet() [][]byte {
	slices.SortFunc(c.reads, bytes.Compare)
	c.reads = slices.CompactFunc(c.reads, bytes.Equal)
	return c.reads
}

// WriteSet returns the transaction's writes with full state keys, sorted by
// key, each key once, the sender's nonce included. The slice belongs to the
// Context. In a parallel block, a transaction that has made credits cannot
// see their values yet: calling WriteSet then makes the block run
// sequentially.
func (c *Context) WriteSet() []Write {
	if c.lane != nil && len(c.credits) > 0 {
		c.stop("looked at its credits through WriteSet")
	}
	return c.sortedWrites()
}

func (c *Context) sortedWrites() []Write {
	slices.SortFunc(c.writes, func(a, b Write) int { return bytes.Compare(a.Key, b.Key) })
	if c.index != nil {
		for i := range c.writes {
			c.index[string(c.writes[i].Key)] = i
		}
	}
	return c.writes
}

// begin resets c for a transaction from sender. Events already handed to
// receipts stay where they are: c.events continues after them.
func (c *Context) begin(sender types.Address) {
	c.sender = sender
	c.signer = nil
	c.contract, c.prefix = "", ""
	c.reads = c.reads[:0]
	c.writes = c.writes[:0]
	c.index = nil
	c.accIndex = nil
	c.credits, c.creditsVoid = c.credits[:0], false
	c.events = c.events[len(c.events):]
	c.err, c.stateErr = nil, nil
	c.gasLimit, c.gasUsed, c.result, c.stack = 0, 0, nil, c.stack[:0]
	c.gasChecks, c.ranges = c.gasChecks[:0], c.ranges[:0]
}

// enter makes c the context of a call to the named contract.
func (c *Context) enter(name, prefix string) {
	c.contract, c.prefix = name, prefix
}

// rollback discards everything written after the first keep writes, and all
// events; credits become void. Reads stay: the outcome still depended on
// them. keep is 0 or 1 (the nonce), which is never a credit.
func (c *Context) rollback(keep int) {
	c.writes = c.writes[:keep]
	c.index = nil
	c.creditsVoid = true
	c.events = c.events[:0]
}

// takeEvents hands the transaction's events to its receipt. The next
// transaction appends after them, so they are never overwritten.
func (c *Context) takeEvents() []*pb.Event {
	if len(c.events) == 0 {
		return nil
	}
	return c.events[:len(c.events):len(c.events)]
}

func (c *Context) fullKey(key []byte) []byte {
	return c.arena.concat(c.prefix, key)
}

func (c *Context) get(full []byte) ([]byte, error) {
	a := -1
	if c.lane != nil {
		if a = c.declared(full); a < 0 || c.acc[a].kind != exclusive {
			return nil, c.undeclared(a, full, "read")
		}
	}
	if i := c.find(full); i >= 0 {
		if c.writes[i].Delete {
			return nil, nil
		}
		return c.writes[i].Value, nil
	}
	c.reads = append(c.reads, full)
	var v []byte
	var err error
	if a >= 0 {
		v, err = c.lane.value(c.acc[a].id, c.tx, full)
	} else {
		v, err = c.view.get(full)
	}
	if err != nil {
		if c.stateErr == nil {
			c.stateErr = err
			if !errors.Is(err, errSequential) {
				c.stateErr = fmt.Errorf("reading state key %q: %w", full, err)
			}
		}
		return nil, c.stateErr
	}
	return v, nil
}

func (c *Context) put(full, value []byte, del bool) {
	if len(full) > MaxKeyLen {
		c.tooLarge(len(full), len(value))
		return
	}
	if c.lane != nil {
		if a := c.declared(full); a < 0 || c.acc[a].kind != exclusive {
			c.undeclared(a, full, "wrote")
			return
		}
	}
	c.record(full, value, del)
}

// record adds a write to the transaction's write set.
func (c *Context) record(full, value []byte, del bool) {
	if i := c.find(full); i >= 0 {
		c.writes[i].Value, c.writes[i].Delete = value, del
		return
	}
	c.writes = append(c.writes, Write{Key: full, Value: value, Delete: del})
	switch {
	case c.index != nil:
		c.index[string(full)] = len(c.writes) - 1
	case len(c.writes) > indexAfter:
		c.index = make(map[string]int, 2*len(c.writes))
		for i := range c.writes {
			c.index[string(c.writes[i].Key)] = i
		}
	}
}

// tooLarge fails the transaction whatever the contract returns: a
// contract may not notice, since Set and Delete return nothing.
func (c *Context) tooLarge(key, value int) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: key of %d bytes (max %d), value of %d bytes (max %d)",
			ErrTooLarge, key, MaxKeyLen, value, MaxValueLen)
	}
}

func (c *Context) find(full []byte) int {
	if c.index != nil {
		if i, ok := c.index[string(full)]; ok {
			return i
		}
		return -1
	}
	for i := range c.writes {
		if bytes.Equal(c.writes[i].Key, full) {
			return i
		}
	}
	return -1
}
