// Package execution runs decided blocks: it applies each transaction to state
// through a native contract and produces the block's header, receipts and
// state writes.
//
// Execution is consensus-critical, so it is deterministic: a result depends
// only on the committed state and the BlockInput, never on map order, the
// clock, randomness or floating point. The package does no I/O: it reads
// committed state through a StateReader and returns the writes for the caller
// to store in one batch. It must not import consensus, store or the pool.
//
// Each transaction runs in its own Context, which sees state only through
// the block's overlay and records what it read and wrote; the block's
// overlay changes only when a transaction's writes are committed, in block
// order. A parallel scheduler keeps that shape: it runs transactions whose
// recorded (or declared) key sets do not conflict in separate Contexts and
// commits them in order, so the result is the sequential one byte for byte.
// Commuting credits fit the same records as a new kind of write (an
// addition rather than a value) that commit folds into the overlay.
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
	// ErrCorrupt marks state that breaks an invariant. Execute returns it
	// for a nonce that is not 8 bytes (every node with that state stops the
	// same way); contracts wrap it for their own entries, failing the
	// transaction.
	ErrCorrupt = errors.New("state corrupt")
)

// StateReader reads committed state. Get returns (nil, nil) for an absent
// key and a non-nil slice for a present one, even when its value is empty. The executor never modifies a returned value and keeps none past the
// Execute call that read it. Execute calls Get from one goroutine at a time.
// An error from Get aborts Execute with that error: it is not the
// transaction's fault, so no receipt may depend on it.
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
