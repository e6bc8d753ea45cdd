package instrument

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

var engines = []struct {
	name string
	cfg  func() wazero.RuntimeConfig
}{
	{"compiler", wazero.NewRuntimeConfigCompiler},
	{"interpreter", wazero.NewRuntimeConfigInterpreter},
}

type outcome struct {
	res     []uint64
	gasLeft int64
	depth   uint32
	err     error
}

// run instruments m and calls fn on each engine.
func run(t *testing.T, m []byte, fn string, gas int64, limit uint32, args ...uint64) map[string]outcome {
	t.Helper()
	inst, _, err := Instrument(m, Config{PageCost: 100})
	if err != nil {
		t.Fatalf("Instrument: %v", err)
	}
	out := map[string]outcome{}
	for _, e := range engines {
		ctx := context.Background()
		rt := wazero.NewRuntimeWithConfig(ctx, e.cfg().WithMemoryLimitPages(4).
			WithCoreFeatures(api.CoreFeaturesV2&^api.CoreFeatureSIMD))
		mod, err := rt.Instantiate(ctx, inst)
		if err != nil {
			t.Fatalf("%s: instantiate instrumented module: %v", e.name, err)
		}
		mod.ExportedGlobal(GasGlobal).(api.MutableGlobal).Set(uint64(gas))
		mod.ExportedGlobal(DepthLimitGlobal).(api.MutableGlobal).Set(uint64(limit))
		var o outcome
		o.res, o.err = mod.ExportedFunction(fn).Call(ctx, args...)
		o.gasLeft = int64(mod.ExportedGlobal(GasGlobal).Get())
		o.depth = uint32(mod.ExportedGlobal(DepthGlobal).Get())
		out[e.name] = o
		rt.Close(ctx)
	}
	return out
}

// same fails unless both engines agree on results, gas and depth.
func same(t *testing.T, o map[string]outcome) outcome {
	t.Helper()
	c, i := o["compiler"], o["interpreter"]
	if (c.err == nil) != (i.err == nil) || c.gasLeft != i.gasLeft || c.depth != i.depth || len(c.res) != len(i.res) {
		t.Fatalf("engines disagree: compiler %+v, interpreter %+v", c, i)
	}
	for k := range c.res {
		if c.res[k] != i.res[k] {
			t.Fatalf("engines disagree on result %d: %x vs %x", k, c.res[k], i.res[k])
		}
	}
	return c
}

var i32i32 = FuncType{Params: []ValType{I32}, Results: []ValType{I32}}

func countLoop() []byte {
	return tmod{funcs: []tfunc{{typ: i32i32, export: "count", locals: []byte{1, 1, byte(I32)}, code: cat(
		op(0x02, 0x40, 0x03, 0x40),
		op(0x20, 0, 0x45, 0x0d, 1),
		op(0x20, 0), i32c(1), op(0x6b, 0x21, 0),
		op(0x20, 1), i32c(1), op(0x6a, 0x21, 1),
		op(0x0c, 0, 0x0b, 0x0b),
		op(0x20, 1, 0x0b),
	)}}}.bytes()
}

func TestLoopPaysPerIteration(t *testing.T) {
	m := countLoop()
	for _, n := range []uint64{0, 1, 10, 1000} {
		o := same(t, run(t, m, "count", 1<<40, 100, n))
		if o.err != nil || o.res[0] != n {
			t.Fatalf("count(%d) = %v, %v; want %d", n, o.res, o.err, n)
		}
		// 2 to enter, 13 per iteration, 3 for the test that exits (the
		// branch skips the rest) and 2 after the block.
		if used, want := int64(1<<40)-o.gasLeft, int64(13*n+7); used != want {
			t.Errorf("count(%d) used %d gas, want %d", n, used, want)
		}
		if o.depth != 0 {
			t.Errorf("depth after return = %d, want 0", o.depth)
		}
	}
}

func TestInfiniteLoopRunsOutOfGas(t *testing.T) {
	m := tmod{funcs: []tfunc{{typ: FuncType{}, export: "spin", code: op(0x03, 0x40, 0x0c, 0, 0x0b, 0x0b)}}}.bytes()
	o := same(t, run(t, m, "spin", 10000, 100))
	if o.err == nil || o.gasLeft >= 0 {
		t.Fatalf("spin: err %v, gas left %d; want a trap with negative gas", o.err, o.gasLeft)
	}
}

func TestOutOfGasBeforeWork(t *testing.T) {
	// count(10) needs 137 gas; with 136 it must trap, with 137 succeed.
	m := countLoop()
	if o := same(t, run(t, m, "count", 136, 100, 10)); o.err == nil {
		t.Fatal("count(10) with 136 gas succeeded; want out of gas")
	}
	if o := same(t, run(t, m, "count", 137, 100, 10)); o.err != nil || o.gasLeft != 0 {
		t.Fatalf("count(10) with 137 gas: %v, left %d; want success with 0 left", o.err, o.gasLeft)
	}
}

func recursive() []byte {
	// rec(n) = n == 0 ? 0 : rec(n-1) + 1, using return in a nested block.
	return tmod{funcs: []tfunc{{typ: i32i32, export: "rec", code: cat(
		op(0x20, 0, 0x45, 0x04, 0x40), i32c(0), op(0x0f, 0x0b),
		op(0x20, 0), i32c(1), op(0x6b, 0x10, 0), i32c(1), op(0x6a, 0x0b),
	)}}}.bytes()
}

func TestDepthLimitIsTheSameOnBothEngines(t *testing.T) {
	m := recursive()
	for _, limit := range []uint32{10, 500} {
		ok := same(t, run(t, m, "rec", 1<<40, limit, uint64(limit-1)))
		if ok.err != nil || ok.res[0] != uint64(limit-1) || ok.depth != 0 {
			t.Fatalf("rec(%d) under limit %d: %v %v depth %d; want success", limit-1, limit, ok.res, ok.err, ok.depth)
		}
		bad := same(t, run(t, m, "rec", 1<<40, limit, uint64(limit)))
		if bad.err == nil || bad.depth != limit+1 {
			t.Fatalf("rec(%d) under limit %d: err %v depth %d; want a trap at depth %d", limit, limit, bad.err, bad.depth, limit+1)
		}
	}
}

func TestBranchOutOfFunctionLeavesDepth(t *testing.T) {
	// early() exits through br_if to its own label; loop() calls it 1000
	// times under a depth limit of 3, which only works if each exit counts.
	m := tmod{funcs: []tfunc{
		{typ: FuncType{}, code: cat(i32c(1), op(0x0d, 0), op(0x00, 0x0b))},
		{typ: i32i32, export: "loop", code: cat(
			op(0x03, 0x40), op(0x10, 0), op(0x20, 0), i32c(1), op(0x6b, 0x22, 0, 0x0d, 0, 0x0b),
			op(0x20, 0, 0x0b))},
	}}.bytes()
	o := same(t, run(t, m, "loop", 1<<40, 3, 1000))
	if o.err != nil || o.depth != 0 {
		t.Fatalf("loop: %v, depth %d; want success at depth 0", o.err, o.depth)
	}
}

func TestNaNIsCanonical(t *testing.T) {
	i64 := FuncType{Results: []ValType{I64}}
	i32 := FuncType{Results: []ValType{I32}}
	zero64 := op(0x44, 0, 0, 0, 0, 0, 0, 0, 0)
	zero32 := op(0x43, 0, 0, 0, 0)
	m := tmod{funcs: []tfunc{
		{typ: i64, export: "div64", code: cat(zero64, zero64, op(0xa3, 0xbd, 0x0b))},
		{typ: i32, export: "div32", code: cat(zero32, zero32, op(0x95, 0xbc, 0x0b))},
		// sqrt(-1) and -(0/0) through promote: canonical, then neg flips the sign bit.
		{typ: i64, export: "negnan", code: cat(zero32, zero32, op(0x95, 0xbb, 0x9a, 0xbd, 0x0b))},
	}}.bytes()
	for fn, want := range map[string]uint64{"div64": 0x7ff8000000000000, "div32": 0x7fc00000, "negnan": 0xfff8000000000000} {
		o := same(t, run(t, m, fn, 1<<40, 10))
		if o.err != nil || o.res[0] != want {
			t.Errorf("%s = %x, %v; want %x", fn, o.res, o.err, want)
		}
	}
}

func TestBulkMemoryAndGrowAreCharged(t *testing.T) {
	v := FuncType{Params: []ValType{I32}, Results: []ValType{I32}}
	m := tmod{memMin: 1, funcs: []tfunc{
		{typ: v, export: "grow", code: op(0x20, 0, 0x40, 0, 0x0b)},
		{typ: v, export: "fill", code: cat(i32c(0), i32c(7), op(0x20, 0, 0xfc, 11, 0), i32c(0), op(0x0b))},
	}}.bytes()
	base := same(t, run(t, m, "grow", 1<<40, 10, 0))
	two := same(t, run(t, m, "grow", 1<<40, 10, 2))
	if two.res[0] != 1 || base.gasLeft-two.gasLeft != 200 {
		t.Errorf("grow(2) returned %d and cost %d more than grow(0); want 1 and 200", int32(two.res[0]), base.gasLeft-two.gasLeft)
	}
	over := same(t, run(t, m, "grow", 1<<40, 10, 10))
	if int32(over.res[0]) != -1 || base.gasLeft-over.gasLeft != 1000 {
		t.Errorf("grow(10) past the 4-page limit returned %d and cost %d; want -1 and 1000", int32(over.res[0]), base.gasLeft-over.gasLeft)
	}
	f0 := same(t, run(t, m, "fill", 1<<40, 10, 0))
	f1 := same(t, run(t, m, "fill", 1<<40, 10, 5000))
	// Bytes are charged per 4-byte word, rounded up.
	if f0.gasLeft-f1.gasLeft != 1250 {
		t.Errorf("filling 5000 bytes cost %d more than 0 bytes; want 1250", f0.gasLeft-f1.gasLeft)
	}
	if f2 := same(t, run(t, m, "fill", 1<<40, 10, 5001)); f0.gasLeft-f2.gasLeft != 1251 {
		t.Errorf("filling 5001 bytes cost %d more than 0 bytes; want 1251", f0.gasLeft-f2.gasLeft)
	}
}

func TestMutableGlobalsAreExported(t *testing.T) {
	g := cat(op(byte(I32), 0), i32c(5), op(0x0b), op(byte(I64), 1), i64c(7), op(0x0b), op(byte(I32), 1), i32c(9), op(0x0b))
	m := tmod{globals: g, nglob: 3, funcs: []tfunc{{typ: FuncType{}, export: "f", code: op(0x0b)}}}.bytes()
	_, info, err := Instrument(m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(info.StateGlobals, ","); got != "__accord_g1,__accord_g2" {
		t.Errorf("StateGlobals = %s; want __accord_g1,__accord_g2", got)
	}
}

func TestRefusals(t *testing.T) {
	ok := tmod{funcs: []tfunc{{typ: FuncType{}, export: "f", code: op(0x0b)}}}
	withCode := func(code []byte) []byte {
		m := ok
		m.funcs = []tfunc{{typ: FuncType{}, export: "f", code: code}}
		return m.bytes()
	}
	startSec := ok
	startSec.start = true
	reserved := ok
	reserved.funcs = []tfunc{{typ: FuncType{}, export: "__accord_x", code: op(0x0b)}}
	good := ok.bytes()
	memImport := append(append([]byte{}, good[:8]...), appendSection(nil, 2, vec(1, cat(encName("env"), encName("mem"), op(2, 0, 1))))...)
	cases := []struct {
		name string
		wasm []byte
		err  error
		msg  string
	}{
		{"bad magic", []byte("\x00asn\x01\x00\x00\x00"), ErrMalformed, "magic"},
		{"truncated", good[:len(good)-3], ErrMalformed, ""},
		{"simd", withCode(op(0xfd, 12, 0x0b)), ErrUnsupported, "SIMD"},
		{"atomics", withCode(op(0xfe, 0, 0x0b)), ErrUnsupported, "threads"},
		{"tail call", withCode(op(0x12, 0, 0x0b)), ErrUnsupported, "tail calls"},
		{"data.drop", withCode(op(0xfc, 9, 0, 0x0b)), ErrUnsupported, "data.drop"},
		{"start", startSec.bytes(), ErrUnsupported, "_initialize"},
		{"reserved export", reserved.bytes(), ErrUnsupported, "__accord_x"},
		{"memory import", memImport, ErrUnsupported, "env.mem is a memory"},
		{"unknown opcode", withCode(op(0xe0, 0x0b)), ErrMalformed, "0xe0"},
	}
	if _, _, err := Instrument(good, Config{}); err != nil {
		t.Fatalf("the base module must pass: %v", err)
	}
	for _, c := range cases {
		_, _, err := Instrument(c.wasm, Config{})
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v; want %v mentioning %q", c.name, err, c.err, c.msg)
		}
	}
}

func TestMultiValueFunctionBranchesToItsLabel(t *testing.T) {
	two := FuncType{Params: []ValType{I32}, Results: []ValType{I32, I64}}
	// pair(x) = x != 0 ? (x, 7) via br 1 out of a nested block : (0, 9)
	m := tmod{funcs: []tfunc{{typ: two, export: "pair", code: cat(
		op(0x02, 0x40), op(0x20, 0), i64c(7), op(0x20, 0), op(0x0d, 1), op(0x1a, 0x1a, 0x0b),
		i32c(0), i64c(9), op(0x0b))}}}.bytes()
	for x, want := range map[uint64][2]uint64{0: {0, 9}, 5: {5, 7}} {
		o := same(t, run(t, m, "pair", 1<<40, 10, x))
		if o.err != nil || len(o.res) != 2 || o.res[0] != want[0] || o.res[1] != want[1] || o.depth != 0 {
			t.Errorf("pair(%d) = %v, %v, depth %d; want %v at depth 0", x, o.res, o.err, o.depth, want)
		}
	}
}
