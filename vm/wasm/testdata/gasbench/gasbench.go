//go:build wasip1

// Command gasbench is the calibration contract of vm/wasm's
// BenchmarkGasSchedule: each method repeats one shape of work n times, so
// that the time per gas of each shape can be compared.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"strconv"

	"github.com/accord-chain/accord/sdk/contract"
)

func main() {}

func init() { contract.Warm(nArgs{}, record{}) }

type nArgs struct {
	N int `json:"n"`
}

type record struct {
	Name   string   `json:"name"`
	Amount uint64   `json:"amount"`
	Tags   []string `json:"tags"`
	OK     bool     `json:"ok"`
}

var (
	sink uint64
	buf  = make([]byte, 64<<10)
)

func n(ctx contract.Context) int {
	var a nArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return 0
	}
	return a.N
}

// arith is a tight integer loop.
//
//go:wasmexport arith
func arith() {
	contract.Run(func(ctx contract.Context) (any, error) {
		x := uint64(88172645463325252)
		for i := n(ctx); i > 0; i-- {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		sink = x
		return nil, nil
	})
}

// mem copies and clears 32 KiB per round (memory.copy, memory.fill).
//
//go:wasmexport mem
func mem() {
	contract.Run(func(ctx contract.Context) (any, error) {
		for i := n(ctx); i > 0; i-- {
			copy(buf[32<<10:], buf[:32<<10])
			clear(buf[:32<<10])
			buf[i&1023] = byte(i)
		}
		sink = uint64(buf[7])
		return nil, nil
	})
}

// state puts and gets a small record per round.
//
//go:wasmexport state
func state() {
	contract.Run(func(ctx contract.Context) (any, error) {
		for i := n(ctx); i > 0; i-- {
			k := "k" + strconv.Itoa(i)
			ctx.Put(k, []byte("value-"+k))
			v, _ := ctx.Get(k)
			sink += uint64(len(v))
		}
		return nil, nil
	})
}

// hash hashes 1 KiB per round through the host.
//
//go:wasmexport hash
func hash() {
	contract.Run(func(ctx contract.Context) (any, error) {
		for i := n(ctx); i > 0; i-- {
			buf[0] = byte(i)
			h := contract.SHA256(buf[:1024])
			sink += uint64(h[0])
		}
		return nil, nil
	})
}

// gohash hashes 1 KiB per round in the contract (crypto/sha256 in wasm).
//
//go:wasmexport gohash
func gohash() {
	contract.Run(func(ctx contract.Context) (any, error) {
		for i := n(ctx); i > 0; i-- {
			buf[0] = byte(i)
			h := sha256.Sum256(buf[:1024])
			sink += uint64(h[0])
		}
		return nil, nil
	})
}

// jsonrt encodes and decodes a record per round, as the SDK does with
// arguments and results.
//
//go:wasmexport json
func jsonrt() {
	contract.Run(func(ctx contract.Context) (any, error) {
		r := record{Name: "alice", Amount: 12345, Tags: []string{"a", "bb", "ccc"}, OK: true}
		for i := n(ctx); i > 0; i-- {
			r.Amount = uint64(i)
			b, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(b, &r); err != nil {
				return nil, err
			}
		}
		return r, nil
	})
}
