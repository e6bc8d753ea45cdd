// Package execution runs decided blocks: it applies each transaction to state
// through a native contract and produces the block's header, receipts and
// state writes.
//
// Execution is consensus-critical, so it is deterministic: a result depends
// only on the committed state and the BlockInput, never on map order, the
// clock, randomness, floating point or how many goroutines ran it. The
// package does no I/O: it reads committed state through a StateReader and
// returns the writes for the caller to store in one batch. It must not
// import consensus, store or the pool.
//
// # Sequential execution
//
// Each transaction runs in its own Context, which sees state only through
// the block's overlay and records what it read and wrote; the overlay
// changes only when a transaction's writes are committed, in block order.
// This is the reference: Config.Workers = 1 runs every block this way, and
// every other way of running a block must give the same Result byte for
// byte (Stats aside).
//
// # Parallel execution
//
// With more workers, a block of at least 64 transactions whose contracts
// all implement Predictor runs in parallel, in four steps.
//
// Predict. Each transaction declares, before it runs, every state key it
// may touch: the executor declares the sender's nonce, the contract the
// rest (Predictor). A key is declared exclusive (the transaction may read
// and write it), as a credit (it only adds to the key's u64 counter with
// Context.AddUint64 and never reads it) or as read only. Reads of a key
// that no transaction of the block writes or credits read committed state
// and order nothing; where one does, they count as exclusive. A contract
// that cannot predict a call makes the block run sequentially; so does a transaction that is not
// decoded. Whether a block runs in parallel depends only on the block.
//
// Schedule. Transactions that access one key exclusively are joined, by
// union-find, into a group that owns the key and runs in block order.
// Credits join nothing: credits to one key commute, so a merchant paid by
// most of a block does not serialise it. A credit matters to ordering only
// when the key's owner accesses the key after it: the owner must then see
// the amount. The credit gets a slot; the owner's group is cut, just before
// the transaction that needs the amount, into a new segment that waits for
// the segment that made the credit (and for the group's previous segment).
// A segment only ever waits for segments that start earlier in the block,
// so the waits form no cycle, and numbering segments by their first
// transaction gives an order in which they can run.
//
// Run. Workers claim segments in that order; a segment whose predecessors
// are not all done is run by the worker that finishes the last of them, so
// no worker waits. A transaction reads its group's keys as the group left
// them, adding in the slots of credits made since; a credit records its
// amount without reading. The Context checks every access against the
// declaration: an undeclared key, a read of a key declared as a credit, or
// a look at a credit's value stops the run, and the block starts again
// sequentially. Receipts are final here (a contract cannot see a credited
// value), so workers also encode and hash them.
//
// Merge. One goroutine replays the transactions' results in block order.
// Each credit gets the value sequential execution would write: the key's
// value so far (committed state, then every earlier write and credit) plus
// its amount. That makes each write set exactly the sequential one; it is
// hashed into the write-set hash, and the last write of each key becomes
// the block's Writes. A credit whose sum would overflow or meet a value
// that is not a counter (where sequential AddUint64 fails) is found here,
// even one that a failed transaction discarded, and the block runs
// sequentially instead. A native contract that credits keeps that from
// happening by an invariant (see the token package).
//
// Every fallback is decided from the block and the state alone, and gives
// the sequential result; Result.Stats says which way a block ran and why.
package execution

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/accord-chain/accord/types"
)

// Consensus limits on what a transaction may write. The write-set hash
// frames lengths as 32-bit numbers, and no state entry should be larger than
// a block.
const (
	MaxKeyLen   = 1 << 10 // full state key, namespace included
	MaxValueLen = 1 << 20
)

var (
	// ErrUnknownContract fails a transaction naming a contract the chain
	// does not have.
	ErrUnknownContract = errors.New("unknown contract")
	// ErrUnknownMethod is what a contract returns for a method it does not have.
	ErrUnknownMethod = errors.New("unknown method")
	// ErrTooLarge fails a transaction that writes a key or value over
	// MaxKeyLen or MaxValueLen.
	ErrTooLarge = errors.New("state entry too large")
	// ErrOverflow is what Context.AddUint64 returns for a sum over 2^64-1.
	ErrOverflow = errors.New("overflow")
	// ErrCorrupt marks state that breaks an invariant. Execute returns it
	// for a nonce that is not 8 bytes (every node with that state stops the
	// same way); contracts wrap it for their own entries, failing the
	// transaction.
	ErrCorrupt = errors.New("state corrupt")
)

// StateReader reads committed state. Get returns (nil, nil) for an absent
// key and a non-nil slice for a present one, even when its value is empty.
// The executor never modifies a returned value and keeps none past the
// Execute call that read it. With Config.Workers = 1, Execute calls Get
// from one goroutine at a time; otherwise from several at once, so the
// reader must be safe for concurrent use. An error from Get aborts Execute
// with that error: it is not the transaction's fault, so no receipt may
// depend on it.
type StateReader interface {
	Get(key []byte) ([]byte, error)
}

// Write is one final state change: set Key to Value, or delete Key when
// Delete is true. It has the shape of store.Write; the node converts.
type Write struct {
	Key, Value []byte
	Delete     bool
}

// State keys outside any contract's namespace.
const (
	noncePrefix    = "a/n/"
	contractPrefix = "c/"
)

// NonceKey is the state key of an account's nonce: "a/n/" and the 20
// address bytes. The value is 8 bytes big-endian, the nonce its next
// transaction must carry; absent means 0.
func NonceKey(a types.Address) []byte {
	k := make([]byte, 0, len(noncePrefix)+len(a))
	return append(append(k, noncePrefix...), a[:]...)
}

// Nonce reads the committed nonce of an account.
func Nonce(state StateReader, a types.Address) (uint64, error) {
	k := NonceKey(a)
	v, err := state.Get(k)
	if err != nil {
		return 0, err
	}
	return decodeNonce(k, v)
}

func decodeNonce(key, v []byte) (uint64, error) {
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("%w: nonce at %x is %d bytes, want 8", ErrCorrupt, key, len(v))
}

// ContractKey is the full state key of key in a contract's namespace:
// "c/" + contract + "/" + key. A Context applies it to every key a contract
// uses; queries and genesis helpers use it to name the same entries.
func ContractKey(contract string, key []byte) []byte {
	k := make([]byte, 0, len(contractPrefix)+len(contract)+1+len(key))
	k = append(k, contractPrefix...)
	k = append(k, contract...)
	k = append(k, '/')
	return append(k, key...)
}
