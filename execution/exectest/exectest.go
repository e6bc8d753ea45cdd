// Package exectest helps test code that executes blocks: an in-memory
// committed state and accounts that sign transactions with consecutive
// nonces. It is for tests and benchmarks only; nothing in it is consensus
// code.
package exectest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// State is an in-memory execution.StateReader. It is not safe for
// concurrent writes.
type State struct{ m map[string][]byte }

// NewState returns a state holding the given writes, applied in order.
func NewState(writes ...[]execution.Write) *State {
	s := &State{m: make(map[string][]byte)}
	for _, ws := range writes {
		s.Apply(ws)
	}
	return s
}

// Get implements execution.StateReader.
func (s *State) Get(key []byte) ([]byte, error) { return s.m[string(key)], nil }

// Set sets one key, for tests that need state no transaction could make.
func (s *State) Set(key, value []byte) { s.m[string(key)] = bytes.Clone(value) }

// Apply commits writes, as the store does with a block's Result.Writes.
func (s *State) Apply(ws []execution.Write) {
	for _, w := range ws {
		if w.Delete {
			delete(s.m, string(w.Key))
			continue
		}
		s.m[string(w.Key)] = bytes.Clone(w.Value)
	}
}

// Clone returns an independent copy.
func (s *State) Clone() *State {
	c := &State{m: make(map[string][]byte, len(s.m))}
	for k, v := range s.m {
		c.m[k] = v
	}
	return c
}

// Keys returns every key, sorted.
func (s *State) Keys() []string {
	ks := make([]string, 0, len(s.m))
	for k := range s.m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Account signs transactions for one key, numbering them from Nonce.
type Account struct {
	Key     crypto.PrivateKey
	Address types.Address
	ChainID string
	Hash    crypto.Hash
	Nonce   uint64 // the nonce of the next transaction Tx signs
	// ExpiresAt is put in every transaction; 0 means never (math.MaxUint64).
	ExpiresAt uint64
}

// NewAccount returns an account whose key is derived from seed, so that the
// same seed gives the same address in every run.
func NewAccount(s crypto.Scheme, seed uint64, chainID string, h crypto.Hash) *Account {
	var cs [32]byte
	binary.BigEndian.PutUint64(cs[:], seed)
	k, err := crypto.GenerateKey(s, rand.NewChaCha8(cs))
	if err != nil {
		panic(fmt.Sprintf("exectest: generating a %s key: %v", s, err))
	}
	return &Account{Key: k, Address: types.AddressOf(s, k.Public().Bytes()), ChainID: chainID, Hash: h}
}

// Tx signs a call with the account's next nonce and advances it.
func (a *Account) Tx(contract, method string, args []byte) *types.Tx {
	tx := a.TxWith(&pb.TxPayload{Nonce: a.Nonce, Contract: contract, Method: method, Args: args})
	a.Nonce++
	return tx
}

// TxWith signs body as given, filling only an empty chain id and a zero
// expiry from the account. It leaves Nonce alone.
func (a *Account) TxWith(body *pb.TxPayload) *types.Tx {
	if body.ChainId == "" {
		body.ChainId = a.ChainID
	}
	if body.ExpiresAt == 0 {
		body.ExpiresAt = a.ExpiresAt
		if body.ExpiresAt == 0 {
			body.ExpiresAt = math.MaxUint64
		}
	}
	tx, err := types.SignTx(body, a.Key, a.Hash)
	if err != nil {
		panic(fmt.Sprintf("exectest: signing: %v", err))
	}
	return tx
}
