package wasm

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkGasSchedule runs contract workloads of different shapes on the
// compiler engine and reports the time each takes per unit of gas
// (ns/gas, wall, and cpu-ns/gas, the process's CPU time, which the other
// load of a shared machine stretches far less): the schedule tracks time
// when they agree across the workloads. Each
// sub-benchmark is one whole call (reset included) doing the same work n
// times; the counter increment and the wtoken transfer are whole calls of
// the example contracts. docs/contracts.md has the method and the table.
func BenchmarkGasSchedule(b *testing.B) {
	type load struct {
		name, contract, method, args string
	}
	loads := []load{
		{"empty-call", "gasbench", "arith", `{"n":0}`},
		{"arith", "gasbench", "arith", `{"n":100000}`},
		{"memory-copy-fill", "gasbench", "mem", `{"n":100}`},
		{"state-put-get", "gasbench", "state", `{"n":200}`},
		{"host-sha256-1KiB", "gasbench", "hash", `{"n":200}`},
		{"wasm-sha256-1KiB", "gasbench", "gohash", `{"n":50}`},
		{"json-roundtrip", "gasbench", "json", `{"n":100}`},
		{"counter-increment", "counter", "increment", `{"by":1}`},
		{"wtoken-transfer", "wtoken", "transfer", `{"to":"bob","amount":1}`},
	}
	for _, l := range loads {
		b.Run(l.name, func(b *testing.B) {
			c := install(b, Compiler, l.contract)
			h := newHost()
			call := func(method, args string) uint64 {
				h.begin()
				res, err := c.Call(context.Background(), Call{Method: method, Args: []byte(args),
					Caller: "alice", TxID: []byte("tx"), Time: 1, GasLimit: 1 << 40, Host: h})
				if err != nil {
					b.Fatalf("%s %s: %v", l.contract, method, err)
				}
				h.end(true)
				return res.GasUsed
			}
			if l.contract == "wtoken" {
				call("init", "")
				call("mint", fmt.Sprintf(`{"to":"alice","amount":%d}`, uint64(1)<<60))
			}
			var used uint64
			cpu := int64(0)
			for b.Loop() {
				c0 := processCPU()
				used += call(l.method, l.args)
				cpu += processCPU() - c0
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(used), "ns/gas")
			b.ReportMetric(float64(cpu)/float64(used), "cpu-ns/gas")
			b.ReportMetric(float64(used)/float64(b.N), "gas/op")
		})
	}
}
