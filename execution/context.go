package execution

import (
	"bytes"
	"fmt"
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
// itself and the writes it made, so that a scheduler can tell which
// transactions conflict; those records are what Execute commits.
//
// Keys given to a contract's Context are namespaced: key k of contract n is
// the state key "c/" + n + "/" + k (see ContractKey). A Context is valid only
// during the Call it is passed to and is not safe for concurrent use.
type Context struct {
	view   *overlay
	arena  *arena
	sender types.Address
	height uint64
	time   uint64

	contract string
	prefix   string // "c/" + contract + "/"

	reads  [][]byte
	writes []Write // unique keys; sorted only by WriteSet
	index  map[string]int
	events []*pb.Event
	slab   []pb.Event // events are cut from it, many to an allocation

	err      error // first misuse by the contract; fails the transaction
	stateErr error // first error from the StateReader; aborts the block
}

// Sender is the address that signed the transaction.
func (c *Context) Sender() types.Address { return c.sender }

// Height is the height of the block being executed.
func (c *Context) Height() uint64 { return c.height }

// Time is the block time, unix milliseconds.
func (c *Context) Time() uint64 { return c.time }

// Contract is the name of the contract being called.
func (c *Context) Contract() string { return c.contract }

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

// Emit records an event of the current contract. It keeps attrs: the caller
// must not change them afterwards. Events of a failed transaction are
// discarded with its writes.
func (c *Context) Emit(name string, attrs ...*pb.Attribute) {
	if len(c.slab) == 0 {
		c.slab = make([]pb.Event, 64)
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
// Context.
func (c *Context) WriteSet() []Write {
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
	c.contract, c.prefix = "", ""
	c.reads = c.reads[:0]
	c.writes = c.writes[:0]
	c.index = nil
	c.events = c.events[len(c.events):]
	c.err, c.stateErr = nil, nil
}

// enter makes c the context of a call to the named contract.
func (c *Context) enter(name, prefix string) {
	c.contract, c.prefix = name, prefix
}

// rollback discards everything written after the first keep writes, and all
// events. Reads stay: the outcome still depended on them.
func (c *Context) rollback(keep int) {
	c.writes = c.writes[:keep]
	c.index = nil
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
	if i := c.find(full); i >= 0 {
		if c.writes[i].Delete {
			return nil, nil
		}
		return c.writes[i].Value, nil
	}
	c.reads = append(c.reads, full)
	v, err := c.view.get(full)
	if err != nil {
		if c.stateErr == nil {
			c.stateErr = fmt.Errorf("reading state key %q: %w", full, err)
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
