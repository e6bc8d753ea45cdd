package instrument

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

// BenchmarkOverhead times a tight loop (count(100000), 13 instructions per
// iteration) on the compiler engine, plain and instrumented.
func BenchmarkOverhead(b *testing.B) {
	plain := countLoop()
	inst, _, err := Instrument(plain, Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		wasm []byte
	}{{"plain", plain}, {"instrumented", inst}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
			defer rt.Close(ctx)
			mod, err := rt.Instantiate(ctx, c.wasm)
			if err != nil {
				b.Fatal(err)
			}
			if g := mod.ExportedGlobal(GasGlobal); g != nil {
				mod.ExportedGlobal(DepthLimitGlobal).(interface{ Set(uint64) }).Set(100)
			}
			f := mod.ExportedFunction("count")
			for b.Loop() {
				if g := mod.ExportedGlobal(GasGlobal); g != nil {
					g.(interface{ Set(uint64) }).Set(1 << 40)
				}
				if _, err := f.Call(ctx, 100000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
