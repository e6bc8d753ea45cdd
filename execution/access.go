package execution

import (
	"bytes"

	"github.com/accord-chain/accord/types"
)

// Predictor is implemented by a contract that can name, before a call runs
// and from the call and its place in the block alone (AccessList.Height,
// Time, TxID, TxIndex), every state key the call may touch. A block whose
// transactions all call Predictors may run in parallel (see the package
// comment); one call that cannot be predicted makes its whole block run
// sequentially.
//
// Predict adds the keys of one call, in the contract's namespace, to acc and
// reports whether it could: false means "I cannot tell", never "the call will
// fail". A call that will fail before touching state (bad arguments, an
// unknown method) declares nothing and returns true. Declaring a key the call
// does not touch is allowed and only costs parallelism; touching a key that
// was not declared, or reading one declared as a credit, is caught while the
// block runs and makes the block start again sequentially, so a wrong
// prediction is slow but never changes a result.
//
// Predict must be deterministic and must not read state; it may be called
// from several goroutines at once. It may keep what it decoded from args
// for Call (AccessList.Keep).
type Predictor interface {
	Predict(acc *AccessList, sender types.Address, method string, args []byte) bool
}

// AccessList collects the state keys one transaction declares. The executor
// adds the sender's nonce; a Predictor adds its contract's keys. It is valid
// only during the Predict call it is passed to.
type AccessList struct {
	prefix  string // "c/" + contract + "/"
	arena   *arena
	entries []access // of all the transactions predicted so far
	start   int      // the current transaction's first entry
	index   map[string]int
	kept    any

	// The block and the transaction being predicted.
	height, time uint64
	txID         types.Hash
	txIndex      int
}

// accessKind is how a transaction may touch a key.
type accessKind uint8

const (
	// exclusive: the transaction may read and write the key.
	exclusive accessKind = iota
	// credit: the transaction only adds to the key's u64 counter with
	// Context.AddUint64 and never reads it, so credits from many
	// transactions commute.
	credit
	// read: the transaction only reads the key. Reads of a key that no
	// transaction of the block writes or credits commute; where one does,
	// the schedule treats the reads as exclusive.
	read
)

// indexAccessAfter is the number of keys one transaction declares above which
// they are found through a map rather than a scan.
const indexAccessAfter = 8

// access is one declared key of one transaction.
type access struct {
	key  []byte // full state key
	kind accessKind
	id   int32 // the key's number in the block (schedule.keys)
	// slot is where a credit to a key of another group, made before that
	// group's last exclusive access to the key, leaves its amount for that
	// group to read (an index in parallelRun.slots); -1 otherwise.
	slot int32
}

// Exclusive declares that the call may read and write key, in the
// contract's namespace.
func (a *AccessList) Exclusive(key []byte) { a.add(a.arena.concat(a.prefix, key), exclusive) }

// Credit declares that the call may add to the u64 counter at key, in the
// contract's namespace, with Context.AddUint64, and does nothing else with
// it: no Get, Set or Delete. Credits from different transactions to one key
// commute, so they do not order those transactions. A key declared both
// ways is exclusive.
func (a *AccessList) Credit(key []byte) { a.add(a.arena.concat(a.prefix, key), credit) }

// Read declares that the call may read key, in the contract's namespace,
// and does nothing else with it. Transactions that only read a key do not
// order each other: a merchant record that every payment reads does not
// serialise a block. A key declared both as read and otherwise is
// exclusive.
func (a *AccessList) Read(key []byte) { a.add(a.arena.concat(a.prefix, key), read) }

// Within runs f with the list declaring keys in the namespace of another
// contract, for a native contract that moves another native contract's
// state through that contract's own functions (see Context.Within).
func (a *AccessList) Within(contract string, f func()) {
	saved := a.prefix
	a.prefix = contractPrefix + contract + "/"
	defer func() { a.prefix = saved }()
	f()
}

// Height and Time are those of the block being predicted (Time in unix
// ms), so a call may declare keys that depend on them.
func (a *AccessList) Height() uint64 { return a.height }

// Time is the block time in unix milliseconds; see Height.
func (a *AccessList) Time() uint64 { return a.time }

// TxID is the id of the transaction being predicted.
func (a *AccessList) TxID() types.Hash { return a.txID }

// TxIndex is the index in the block of the transaction being predicted.
func (a *AccessList) TxIndex() int { return a.txIndex }

// Keep hands v to the transaction's Call, as Context.Kept, when the block
// runs in parallel: Predict can keep the arguments it decoded so that Call
// need not decode them again. Call gets nil instead when the block runs
// sequentially, and must do the same with or without v.
func (a *AccessList) Keep(v any) { a.kept = v }

// begin starts the list of the next transaction.
func (a *AccessList) begin() {
	a.start = len(a.entries)
	a.prefix = ""
	a.index = nil
	a.kept = nil
}

// current returns the current transaction's entries.
func (a *AccessList) current() []access { return a.entries[a.start:len(a.entries):len(a.entries)] }

func (a *AccessList) add(full []byte, kind accessKind) {
	if i := findAccess(a.current(), a.index, full); i >= 0 {
		if e := &a.entries[a.start+i]; e.kind != kind {
			e.kind = exclusive
		}
		return
	}
	a.entries = append(a.entries, access{key: full, kind: kind, slot: -1})
	n := len(a.entries) - a.start
	switch {
	case a.index != nil:
		a.index[string(full)] = n - 1
	case n > indexAccessAfter:
		a.index = make(map[string]int, 2*n)
		for i, e := range a.current() {
			a.index[string(e.key)] = i
		}
	}
}

// findAccess returns the index of key in acc, or -1. index, when not nil,
// maps every key of acc to its index.
func findAccess(acc []access, index map[string]int, key []byte) int {
	if index != nil {
		if i, ok := index[string(key)]; ok {
			return i
		}
		return -1
	}
	for i := range acc {
		if bytes.Equal(acc[i].key, key) {
			return i
		}
	}
	return -1
}
