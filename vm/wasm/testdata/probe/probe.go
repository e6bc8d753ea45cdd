//go:build wasip1

// Command probe is a test contract for vm/wasm: each method exercises one
// way a contract can misbehave or one source of nondeterminism.
package main

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/accord-chain/accord/sdk/contract"
)

func main() {}

func init() { contract.Warm(nArgs{}, cryptoArgs{}) }

type nArgs struct {
	N int     `json:"n"`
	A float64 `json:"a"`
	B float64 `json:"b"`
}

var (
	sink  int
	calls int
	keep  [][]byte
)

func rec(n int) int {
	if n == 0 {
		return 0
	}
	return rec(n-1) + 1
}

//go:wasmexport spin
func spin() {
	contract.Run(func(contract.Context) (any, error) {
		for i := 0; ; i++ {
			sink = i
		}
	})
}

//go:wasmexport recurse
func recurse() {
	contract.Run(func(ctx contract.Context) (any, error) {
		var a nArgs
		if err := contract.Decode(ctx, &a); err != nil {
			return nil, err
		}
		return rec(a.N), nil
	})
}

// bomb allocates a.N MiB and keeps it.
//
//go:wasmexport bomb
func bomb() {
	contract.Run(func(ctx contract.Context) (any, error) {
		var a nArgs
		if err := contract.Decode(ctx, &a); err != nil {
			return nil, err
		}
		for i := 0; i < a.N; i++ {
			b := make([]byte, 1<<20)
			b[len(b)-1] = 1
			keep = append(keep, b)
		}
		return len(keep), nil
	})
}

// leak counts calls in a package variable and scribbles on the heap: the
// next call must see neither.
//
//go:wasmexport leak
func leak() {
	contract.Run(func(ctx contract.Context) (any, error) {
		calls++
		keep = append(keep, make([]byte, 100_000))
		return calls, nil
	})
}

//go:wasmexport nan
func nan() {
	contract.Run(func(ctx contract.Context) (any, error) {
		var a nArgs
		if err := contract.Decode(ctx, &a); err != nil {
			return nil, err
		}
		return strconv.FormatUint(math.Float64bits(a.A/a.B), 16), nil
	})
}

// env returns what a contract can learn of its environment: it must be the
// same on every node for the same call.
//
//go:wasmexport env
func env() {
	contract.Run(func(ctx contract.Context) (any, error) {
		m := map[int]int{}
		for i := 0; i < 50; i++ {
			m[i] = i
		}
		order := ""
		for k := range m {
			order += strconv.Itoa(k) + ","
		}
		r := make([]byte, 16)
		crand.Read(r)
		return map[string]any{"rand": hex.EncodeToString(r),
			"caller": ctx.Caller(), "tx": ctx.TxID(), "height": ctx.Height(), "time": ctx.Time(),
			"now": time.Now().UnixMilli(), "args": len(os.Args), "order": order,
		}, nil
	})
}

//go:wasmexport sleep
func sleep() {
	contract.Run(func(ctx contract.Context) (any, error) {
		time.Sleep(time.Millisecond)
		return nil, nil
	})
}

//go:wasmexport boom
func boom() {
	contract.Run(func(ctx contract.Context) (any, error) {
		panic("boom")
	})
}

//go:wasmexport write
func write() {
	contract.Run(func(ctx contract.Context) (any, error) {
		ctx.Put("k", []byte("v"))
		ctx.Emit("wrote", []byte("k"))
		return nil, nil
	})
}

//go:wasmexport revert
func revert() {
	contract.Run(func(ctx contract.Context) (any, error) {
		ctx.Put("k", []byte("v"))
		return nil, os.ErrPermission
	})
}

//go:wasmexport exit
func exit() {
	contract.Run(func(ctx contract.Context) (any, error) {
		os.Exit(3)
		return nil, nil
	})
}

//go:wasmexport noop_run
func noopRun() {
	contract.Run(func(ctx contract.Context) (any, error) { return nil, nil })
}

//go:wasmexport json_once
func jsonOnce() {
	contract.Run(func(ctx contract.Context) (any, error) {
		var a nArgs
		if err := contract.Decode(ctx, &a); err != nil {
			return nil, err
		}
		return a, nil
	})
}

// spam prints n bytes to stdout.
//
//go:wasmexport spam
func spam() {
	contract.Run(func(ctx contract.Context) (any, error) {
		var a nArgs
		if err := contract.Decode(ctx, &a); err != nil {
			return nil, err
		}
		for i := 0; i < a.N/100; i++ {
			fmt.Printf("%099d\n", i)
		}
		return nil, nil
	})
}

type cryptoArgs struct {
	Data   string `json:"data"`
	Scheme uint8  `json:"scheme"`
	Pub    []byte `json:"pub"`
	Msg    []byte `json:"msg"`
	Sig    []byte `json:"sig"`
}

// crypto returns the caller's identity, the data's hashes and whether the
// signature verifies.
//
//go:wasmexport crypto
func cryptoMethod() {
	contract.Run(func(ctx contract.Context) (any, error) {
		var a cryptoArgs
		if err := contract.Decode(ctx, &a); err != nil {
			return nil, err
		}
		sha, sm3 := contract.SHA256([]byte(a.Data)), contract.SM3([]byte(a.Data))
		return map[string]any{
			"org": ctx.CallerOrg(), "role": ctx.CallerRole(),
			"sha256": hex.EncodeToString(sha[:]), "sm3": hex.EncodeToString(sm3[:]),
			"valid": contract.VerifySignature(contract.Scheme(a.Scheme), a.Pub, a.Msg, a.Sig),
		}, nil
	})
}

// scan writes a.N composite keys, deletes one, and scans them back.
//
//go:wasmexport scan
func scan() {
	contract.Run(func(ctx contract.Context) (any, error) {
		var a nArgs
		if err := contract.Decode(ctx, &a); err != nil {
			return nil, err
		}
		for i := 0; i < a.N; i++ {
			ctx.Put(contract.Key("item", fmt.Sprintf("%05d", i)), []byte(strconv.Itoa(i)))
		}
		ctx.Delete(contract.Key("item", "00003"))
		n, sum := 0, 0
		contract.ScanPrefix(ctx, contract.Key("item"), func(k string, v []byte) bool {
			x, _ := strconv.Atoi(string(v))
			n, sum = n+1, sum+x
			return true
		})
		return map[string]int{"n": n, "sum": sum}, nil
	})
}

// chain exercises the chain-facing host functions: self, another
// contract's call, balance, transfer, collect and a policy check.
//
//go:wasmexport chain
func chain() {
	contract.Run(func(ctx contract.Context) (any, error) {
		out := map[string]any{"self": ctx.Self()}
		ret, err := ctx.Call("other", "echo", ctx.Args())
		out["call"], out["call_err"] = string(ret), fmt.Sprint(err)
		_, err = ctx.Call("other", "fail", nil)
		out["fail_err"] = fmt.Sprint(err)
		if err := ctx.Collect(7); err != nil {
			return nil, err
		}
		out["transfer_err"] = fmt.Sprint(ctx.Transfer("bob", 1000))
		if err := ctx.Transfer("bob", 3); err != nil {
			return nil, err
		}
		b, err := ctx.Balance(ctx.Self())
		out["balance"], out["balance_err"] = b, fmt.Sprint(err)
		ok, err := ctx.PolicySatisfied("p", []contract.Approval{{Org: "org1", Role: "admin"}, {Org: "org2", Role: "admin"}})
		out["policy"], out["policy_err"] = ok, fmt.Sprint(err)
		_, err = ctx.PolicySatisfied("bad", nil)
		out["policy_bad_err"] = fmt.Sprint(err)
		return out, nil
	})
}
