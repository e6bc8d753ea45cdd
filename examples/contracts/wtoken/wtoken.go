// Command wtoken is a token written as a contract. Whoever installs it
// (the caller of init) is its minter. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o wtoken.wasm .
//
// Methods: mint {"to": ADDRESS, "amount": N} (the minter only), transfer
// {"to": ADDRESS, "amount": N} from the caller; query balance {"address":
// ADDRESS} returns {"balance": N}.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/accord-chain/accord/sdk/contract"
)

func main() {}

func init() { contract.Warm(MoveArgs{}, BalanceArgs{}, Balance{}, Moved{}) }

// MoveArgs are the arguments of mint and transfer.
type MoveArgs struct {
	To     string `json:"to"`
	Amount uint64 `json:"amount"`
}

// BalanceArgs are the arguments of balance.
type BalanceArgs struct {
	Address string `json:"address"`
}

// Balance is what balance returns.
type Balance struct {
	Balance uint64 `json:"balance"`
}

// Moved is the data of the "mint" and "transfer" events.
type Moved struct {
	From   string `json:"from,omitempty"`
	To     string `json:"to"`
	Amount uint64 `json:"amount"`
}

const (
	minterKey = "minter"
	supplyKey = "supply"
)

func balanceKey(addr string) string { return contract.Key("b", addr) }

func get(ctx contract.Context, key string) (uint64, error) {
	b, ok := ctx.Get(key)
	if !ok {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("stored %q is corrupt (%d bytes)", key, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

func put(ctx contract.Context, key string, v uint64) {
	ctx.Put(key, binary.BigEndian.AppendUint64(nil, v))
}

func decodeMove(ctx contract.Context) (MoveArgs, error) {
	var a MoveArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return a, err
	}
	if a.To == "" || a.Amount == 0 {
		return a, errors.New(`"to" and a positive "amount" are required`)
	}
	return a, nil
}

// Init makes the caller the minter.
func Init(ctx contract.Context) (any, error) {
	ctx.Put(minterKey, []byte(ctx.Caller()))
	return nil, nil
}

// Mint creates amount for to; only the minter may.
func Mint(ctx contract.Context) (any, error) {
	a, err := decodeMove(ctx)
	if err != nil {
		return nil, err
	}
	if m, _ := ctx.Get(minterKey); string(m) != ctx.Caller() {
		return nil, errors.New("only the minter mints")
	}
	supply, err := get(ctx, supplyKey)
	if err != nil {
		return nil, err
	}
	if supply > math.MaxUint64-a.Amount {
		return nil, errors.New("the supply would overflow")
	}
	to, err := get(ctx, balanceKey(a.To))
	if err != nil {
		return nil, err
	}
	put(ctx, supplyKey, supply+a.Amount)
	put(ctx, balanceKey(a.To), to+a.Amount) // to <= supply: no overflow
	return nil, contract.EmitJSON(ctx, "mint", Moved{To: a.To, Amount: a.Amount})
}

// Transfer moves amount from the caller to to.
func Transfer(ctx contract.Context) (any, error) {
	a, err := decodeMove(ctx)
	if err != nil {
		return nil, err
	}
	from := ctx.Caller()
	have, err := get(ctx, balanceKey(from))
	if err != nil {
		return nil, err
	}
	if have < a.Amount {
		return nil, fmt.Errorf("insufficient balance: %d, transfer of %d", have, a.Amount)
	}
	if a.To != from {
		to, err := get(ctx, balanceKey(a.To))
		if err != nil {
			return nil, err
		}
		put(ctx, balanceKey(from), have-a.Amount)
		put(ctx, balanceKey(a.To), to+a.Amount) // bounded by the supply
	}
	return nil, contract.EmitJSON(ctx, "transfer", Moved{From: from, To: a.To, Amount: a.Amount})
}

// BalanceOf returns address's balance.
func BalanceOf(ctx contract.Context) (any, error) {
	var a BalanceArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	b, err := get(ctx, balanceKey(a.Address))
	if err != nil {
		return nil, err
	}
	return Balance{b}, nil
}
