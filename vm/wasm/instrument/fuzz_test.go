package instrument

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// FuzzInstrument feeds outside bytes to the parser. It must never panic, and
// whenever the original is a valid module that Instrument accepts, the
// output must be valid too.
func FuzzInstrument(f *testing.F) {
	f.Add(countLoop())
	f.Add(recursive())
	f.Add(tmod{memMin: 1, funcs: []tfunc{{typ: i32i32, export: "grow", code: op(0x20, 0, 0x40, 0, 0x0b)}}}.bytes())
	f.Add(tmod{funcs: []tfunc{{typ: FuncType{Results: []ValType{I64}}, export: "nan",
		code: op(0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0xbd, 0x0b)}}}.bytes())
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().
		WithCoreFeatures(api.CoreFeaturesV2&^api.CoreFeatureSIMD))
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, _, err := Instrument(wasm, Config{})
		if err != nil {
			return
		}
		orig, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			return
		}
		orig.Close(ctx)
		inst, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("the original compiles but its instrumented form does not: %v", err)
		}
		inst.Close(ctx)
	})
}
