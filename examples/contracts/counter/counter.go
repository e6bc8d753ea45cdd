// Command counter is the smallest Accord contract: a number that any caller
// can increase. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o counter.wasm .
//
// Methods: increment {"by": N} returns {"value": N} after adding N (N ≥ 1);
// query get returns {"value": N}.
package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/accord-chain/accord/sdk/contract"
)

func main() {}

func init() { contract.Warm(IncrementArgs{}, Value{}, Incremented{}) }

const key = "value"

// IncrementArgs are increment's arguments.
type IncrementArgs struct {
	By uint64 `json:"by"`
}

// Value is what both methods return.
type Value struct {
	Value uint64 `json:"value"`
}

// Incremented is the data of the "incremented" event.
type Incremented struct {
	By     uint64 `json:"by"`
	Value  uint64 `json:"value"`
	Caller string `json:"caller"`
}

func load(ctx contract.Context) (uint64, error) {
	b, ok := ctx.Get(key)
	if !ok {
		return 0, nil
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stored value %q is corrupt: %w", b, err)
	}
	return v, nil
}

// Increment adds args.by to the counter and emits an "incremented" event.
func Increment(ctx contract.Context) (any, error) {
	var a IncrementArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	if a.By == 0 {
		return nil, errors.New(`"by" must be at least 1`)
	}
	v, err := load(ctx)
	if err != nil {
		return nil, err
	}
	if v > math.MaxUint64-a.By {
		return nil, fmt.Errorf("the counter (%d) would overflow", v)
	}
	v += a.By
	ctx.Put(key, []byte(strconv.FormatUint(v, 10)))
	if err := contract.EmitJSON(ctx, "incremented", Incremented{a.By, v, ctx.Caller()}); err != nil {
		return nil, err
	}
	return Value{v}, nil
}

// Get returns the counter.
func Get(ctx contract.Context) (any, error) {
	v, err := load(ctx)
	if err != nil {
		return nil, err
	}
	return Value{v}, nil
}
