package token

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
)

// BalanceKey is the full state key of an account's balance.
func BalanceKey(a types.Address) []byte {
	k := balanceKey(a)
	return execution.ContractKey(Name, k[:])
}

// IssuerKey is the full state key of the issuer's address.
func IssuerKey() []byte { return execution.ContractKey(Name, []byte(issuerKey)) }

// SupplyKey is the full state key of the total supply.
func SupplyKey() []byte { return execution.ContractKey(Name, []byte(supplyKey)) }

// Balance reads an account's committed balance.
func Balance(state execution.StateReader, a types.Address) (uint64, error) {
	return readU64(state, BalanceKey(a))
}

// Supply reads the committed total supply.
func Supply(state execution.StateReader) (uint64, error) {
	return readU64(state, SupplyKey())
}

// Issuer reads the issuer's address; ok is false when the token has none.
func Issuer(state execution.StateReader) (a types.Address, ok bool, err error) {
	v, err := state.Get(IssuerKey())
	if err != nil || v == nil {
		return a, false, err
	}
	if len(v) != len(a) {
		return a, false, fmt.Errorf("%w: token issuer is %d bytes, want 20", execution.ErrCorrupt, len(v))
	}
	return types.Address(v), true, nil
}

func readU64(state execution.StateReader, key []byte) (uint64, error) {
	v, err := state.Get(key)
	if err != nil {
		return 0, err
	}
	return decodeU64(key, v)
}

// Alloc is an initial balance.
type Alloc struct {
	Address types.Address
	Amount  uint64
}

// Genesis returns the token's initial state: the issuer, the allocated
// balances and their sum as the supply, sorted by key. The zero address
// means no issuer (a permissioned chain mints by policy: NewByPolicy), and
// the issuer key is left out. Zero amounts are left out; an address
// allocated twice or a sum over 2^64-1 is an error.
func Genesis(issuer types.Address, alloc []Alloc) ([]execution.Write, error) {
	ws := make([]execution.Write, 0, len(alloc)+2)
	var supply uint64
	for _, a := range alloc {
		if a.Amount == 0 {
			continue
		}
		var carry uint64
		if supply, carry = bits.Add64(supply, a.Amount, 0); carry != 0 {
			return nil, fmt.Errorf("token genesis: %w: allocations sum to more than %d", ErrOverflow, uint64(math.MaxUint64))
		}
		ws = append(ws, execution.Write{Key: BalanceKey(a.Address), Value: u64(a.Amount)})
	}
	ws = append(ws, execution.Write{Key: SupplyKey(), Value: u64(supply)})
	if issuer != (types.Address{}) {
		ws = append(ws, execution.Write{Key: IssuerKey(), Value: bytes.Clone(issuer[:])})
	}
	slices.SortFunc(ws, func(a, b execution.Write) int { return bytes.Compare(a.Key, b.Key) })
	for i := 1; i < len(ws); i++ {
		if bytes.Equal(ws[i-1].Key, ws[i].Key) {
			return nil, fmt.Errorf("token genesis: %x is allocated twice", ws[i].Key[len(ws[i].Key)-len(issuer):])
		}
	}
	return ws, nil
}

func u64(v uint64) []byte {
	var b [8]byte
	return binary.BigEndian.AppendUint64(b[:0], v)
}
