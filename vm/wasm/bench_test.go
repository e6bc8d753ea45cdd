package wasm

import (
	"context"
	"testing"
)

// dirty runs one counter increment without the reset Call does, so the
// benchmarks can time the reset alone.
func dirty(b *testing.B, c *Contract, h *memHost) {
	h.begin()
	st := &callState{call: &Call{Method: "increment", Args: []byte(`{"by":1}`), Caller: "alice",
		TxID: []byte("tx"), Time: 1, Host: h}, p: &c.r.p, logLimit: 64}
	if _, err := c.run(context.Background(), c.inst, st, "increment", gas); err != nil {
		b.Fatal(err)
	}
	h.end(false)
}

// BenchmarkReset measures returning the counter's instance to its
// post-initialisation snapshot after a real call: the dirty-chunk restore
// Call uses, against copying all of memory and against a fresh instance.
func BenchmarkReset(b *testing.B) {
	ctx := context.Background()
	c := install(b, Compiler, "counter")
	c.mu.Lock()
	defer c.mu.Unlock()
	h := newHost()
	globals := func() {
		for i, g := range c.inst.state {
			g.Set(c.snap.globals[i])
		}
	}
	if c.inst.cow != nil {
		b.Run("copy-on-write", func(b *testing.B) {
			var pages int
			for b.Loop() {
				b.StopTimer()
				dirty(b, c, h)
				b.StartTimer()
				n, err := c.inst.cow.restore()
				if err != nil {
					b.Fatal(err)
				}
				pages += n
				globals()
			}
			b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
		})
	}
	b.Run("compare-chunks", func(b *testing.B) {
		var chunks int
		for b.Loop() {
			b.StopTimer()
			dirty(b, c, h)
			b.StartTimer()
			mem, _ := c.inst.mod.Memory().Read(0, c.inst.mod.Memory().Size())
			chunks += restore(mem, c.snap.mem)
			globals()
		}
		b.ReportMetric(float64(chunks)/float64(b.N), "chunks/op")
		b.ReportMetric(float64(len(c.snap.mem)), "memory-bytes")
	})
	b.Run("full-copy", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dirty(b, c, h)
			b.StartTimer()
			mem, _ := c.inst.mod.Memory().Read(0, c.inst.mod.Memory().Size())
			copy(mem, c.snap.mem)
			globals()
		}
	})
	b.Run("fresh-instance", func(b *testing.B) {
		for b.Loop() {
			in, err := c.freshInstance(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			in.mod.Close(ctx)
			b.StartTimer()
		}
	})
}

// BenchmarkCall is a whole counter call, reset included, on each engine.
func BenchmarkCall(b *testing.B) {
	for _, e := range []Engine{Compiler, Interpreter} {
		b.Run(e.String(), func(b *testing.B) {
			c := install(b, e, "counter")
			h := newHost()
			var used uint64
			for b.Loop() {
				h.begin()
				res, err := c.Call(context.Background(), Call{Method: "increment", Args: []byte(`{"by":1}`),
					Caller: "alice", TxID: []byte("tx"), Time: 1, GasLimit: gas, Host: h})
				if err != nil {
					b.Fatal(err)
				}
				h.end(true)
				used = res.GasUsed
			}
			b.ReportMetric(float64(used), "gas/op")
		})
	}
}
