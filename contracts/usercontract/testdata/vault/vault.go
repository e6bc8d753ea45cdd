//go:build wasip1

// Command vault is a test contract for the user-contract runner: native
// tokens, calls to other contracts, state and running out of gas.
package main

import (
	"errors"
	"strconv"

	"github.com/accord-chain/accord/sdk/contract"
)

func main() {}

type args struct {
	Amount   uint64 `json:"amount,omitempty"`
	To       string `json:"to,omitempty"`
	K        string `json:"k,omitempty"`
	V        string `json:"v,omitempty"`
	Contract string `json:"contract,omitempty"`
	Method   string `json:"method,omitempty"`
	Args     string `json:"args,omitempty"`
	Fail     bool   `json:"fail,omitempty"`
}

func init() { contract.Warm(args{}, map[string]string{}) }

func run(f func(ctx contract.Context, a args) (any, error)) {
	contract.Run(func(ctx contract.Context) (any, error) {
		var a args
		if err := contract.Decode(ctx, &a); err != nil {
			return nil, err
		}
		return f(ctx, a)
	})
}

//go:wasmexport deposit
func deposit() {
	run(func(ctx contract.Context, a args) (any, error) {
		if err := ctx.Collect(a.Amount); err != nil {
			return nil, err
		}
		b, err := ctx.Balance(ctx.Self())
		return map[string]string{"balance": strconv.FormatUint(b, 10), "self": ctx.Self()}, err
	})
}

//go:wasmexport pay
func pay() {
	run(func(ctx contract.Context, a args) (any, error) {
		if err := ctx.Transfer(a.To, a.Amount); err != nil {
			return nil, err
		}
		if a.Fail {
			return nil, errors.New("paid, then failed")
		}
		return nil, nil
	})
}

//go:wasmexport put
func put() {
	run(func(ctx contract.Context, a args) (any, error) {
		ctx.Put(a.K, []byte(a.V))
		ctx.Emit("put", []byte(a.K))
		if a.Fail {
			return nil, errors.New("wrote, then failed")
		}
		return nil, nil
	})
}

//go:wasmexport get
func get() {
	run(func(ctx contract.Context, a args) (any, error) {
		v, _ := ctx.Get(a.K)
		return map[string]string{"v": string(v)}, nil
	})
}

//go:wasmexport call
func call() {
	run(func(ctx contract.Context, a args) (any, error) {
		ret, err := ctx.Call(a.Contract, a.Method, []byte(a.Args))
		if err != nil {
			return map[string]string{"err": err.Error()}, nil
		}
		if a.Fail {
			return nil, errors.New("called, then failed")
		}
		return map[string]string{"ret": string(ret)}, nil
	})
}

var sink int

//go:wasmexport spin
func spin() {
	contract.Run(func(contract.Context) (any, error) {
		for i := 0; ; i++ {
			sink = i
		}
	})
}

//go:wasmexport upgrade
func upgrade() {
	contract.Run(func(ctx contract.Context) (any, error) {
		ctx.Put("upgraded", []byte("yes"))
		return nil, nil
	})
}
