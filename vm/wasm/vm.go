// Package wasm runs user contracts: WebAssembly modules on wazero, made
// deterministic by Accord rather than by the runtime. It owns install
// (checks, instrumentation, compilation, initialisation), the host API
// ("accord") and a deterministic WASI subset, gas and depth accounting, and
// the reset that starts every call from the same post-initialisation
// snapshot.
//
// It knows nothing of execution or the store: a call reaches chain state
// only through the Host the caller passes in, and the caller decides what to
// keep.
package wasm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/accord-chain/accord/vm/wasm/instrument"
)

// InitExport is the reactor initialiser a contract must export; Install
// runs it once and snapshots the result.
const InitExport = "_initialize"

// Runtime compiles and runs contracts under one set of Params. It is safe
// for concurrent use, and so is each Contract.
type Runtime struct {
	p  Params
	rt wazero.Runtime
}

// NewRuntime starts a runtime. cacheDir, if not empty, keeps compiled code
// on disk so a restart does not recompile.
func NewRuntime(ctx context.Context, p Params, cacheDir string) (*Runtime, error) {
	p.EnsureDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cfg := wazero.NewRuntimeConfigCompiler()
	if p.Engine == Interpreter {
		cfg = wazero.NewRuntimeConfigInterpreter()
	}
	// WebAssembly 2.0 without SIMD; threads and the other post-2.0 features
	// are off by default.
	cfg = cfg.WithCoreFeatures(api.CoreFeaturesV2 &^ api.CoreFeatureSIMD).
		WithMemoryLimitPages(p.MemoryLimitPages).
		WithCloseOnContextDone(false)
	if cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			return nil, fmt.Errorf("contract code cache %s: %w", cacheDir, err)
		}
		cfg = cfg.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if err := instantiateWASI(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	if err := instantiateHostAPI(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, err
	}
	return &Runtime{p: p, rt: rt}, nil
}

// Params returns the runtime's parameters with defaults filled in.
func (r *Runtime) Params() Params { return r.p }

// Close releases every contract compiled by the runtime.
func (r *Runtime) Close(ctx context.Context) error { return r.rt.Close(ctx) }

// Contract is an installed contract: instrumented, compiled and
// initialised. Concurrent calls run on instances of their own, each reset
// to the snapshot after every call; idle ones are kept for the next.
type Contract struct {
	r        *Runtime
	compiled wazero.CompiledModule
	info     *instrument.Info
	methods  []string
	// Code is the instrumented module, what a node stores and compiles.
	Code []byte

	mu       sync.Mutex
	inst     *instance // the first instance; nil once closed
	instBusy bool
	idle     []*instance // more instances, made while inst was busy
	snap     snapshot
	img      *image // the snapshot as a copy-on-write image; nil where unsupported
}

// instance is a live module with its exported globals looked up once.
type instance struct {
	mod        api.Module
	gas, depth api.MutableGlobal
	limit      api.MutableGlobal
	state      []api.MutableGlobal
	cow        *cowMemory // nil for a memory wazero allocated
}

// Install checks a contract module, instruments it, compiles it, runs its
// _initialize and takes the snapshot every call starts from. Errors wrap
// ErrInstall and name what is wrong.
func (r *Runtime) Install(ctx context.Context, code []byte) (*Contract, error) {
	if len(code) > r.p.MaxCodeSize {
		return nil, fmt.Errorf("%w: the module is %d bytes, above the %d-byte limit", ErrInstall, len(code), r.p.MaxCodeSize)
	}
	out, info, err := instrument.Instrument(code, r.p.instrumentConfig())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInstall, err)
	}
	if err := r.checkModule(info); err != nil {
		return nil, err
	}
	compiled, err := r.rt.CompileModule(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInstall, err)
	}
	c := &Contract{r: r, compiled: compiled, info: info, Code: out}
	for _, f := range info.Funcs {
		if isMethod(f) {
			c.methods = append(c.methods, f.Name)
		}
	}
	sort.Strings(c.methods)
	if err := c.initialise(ctx); err != nil {
		compiled.Close(ctx)
		return nil, err
	}
	return c, nil
}

func isMethod(f instrument.Export) bool {
	return f.Name != InitExport && len(f.Type.Params) == 0 && len(f.Type.Results) == 0
}

func (r *Runtime) checkModule(info *instrument.Info) error {
	for _, im := range info.Imports {
		var want []struct {
			name string
			sig  instrument.FuncType
		}
		switch im.Module {
		case wasiModule:
			want = wasiSigs
		case HostModule:
			for _, h := range hostAPI {
				want = append(want, struct {
					name string
					sig  instrument.FuncType
				}{h.name, h.sig})
			}
		default:
			return fmt.Errorf("%w: import %s.%s: contracts may import only from %q and %q", ErrInstall, im.Module, im.Name, HostModule, wasiModule)
		}
		found := false
		for _, w := range want {
			if w.name != im.Name {
				continue
			}
			found = true
			if !w.sig.Equal(im.Type) {
				return fmt.Errorf("%w: import %s.%s has type %s; the host provides %s", ErrInstall, im.Module, im.Name, im.Type, w.sig)
			}
		}
		if !found {
			return fmt.Errorf("%w: import %s.%s does not exist", ErrInstall, im.Module, im.Name)
		}
	}
	if !info.HasMemory || info.MemoryExport != "memory" {
		return fmt.Errorf("%w: the module must define one memory and export it as \"memory\"", ErrInstall)
	}
	if info.MemoryMin > r.p.MemoryLimitPages {
		return fmt.Errorf("%w: the module starts with %d memory pages, above the limit of %d", ErrInstall, info.MemoryMin, r.p.MemoryLimitPages)
	}
	hasInit := false
	for _, f := range info.Funcs {
		if f.Name == InitExport {
			hasInit = len(f.Type.Params) == 0 && len(f.Type.Results) == 0
		}
	}
	if !hasInit {
		return fmt.Errorf("%w: no %s() export; build a reactor (go build -buildmode=c-shared)", ErrInstall, InitExport)
	}
	return nil
}

// Methods lists the callable exports (no parameters, no results), sorted.
func (c *Contract) Methods() []string { return append([]string(nil), c.methods...) }

// Close releases the contract's instance and compiled code.
func (c *Contract) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inst != nil {
		c.inst.mod.Close(ctx)
		c.inst = nil
	}
	for _, in := range c.idle {
		in.mod.Close(ctx)
	}
	c.idle = nil
	return c.compiled.Close(ctx)
}

func (c *Contract) instantiate(ctx context.Context) (*instance, error) {
	var cow *cowMemory
	if c.img != nil {
		ctx = experimental.WithMemoryAllocator(ctx, c.img.allocator(&cow))
	}
	mod, err := c.r.rt.InstantiateModule(ctx, c.compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("%w: instantiate: %w", ErrInstall, err)
	}
	in := &instance{mod: mod, cow: cow}
	g := func(name string) api.MutableGlobal { return mod.ExportedGlobal(name).(api.MutableGlobal) }
	in.gas, in.depth, in.limit = g(instrument.GasGlobal), g(instrument.DepthGlobal), g(instrument.DepthLimitGlobal)
	for _, name := range c.info.StateGlobals {
		in.state = append(in.state, g(name))
	}
	return in, nil
}

func (c *Contract) initialise(ctx context.Context) error {
	in, err := c.instantiate(ctx)
	if err != nil {
		return err
	}
	c.inst = in
	st := &callState{call: &Call{}, p: &c.r.p, init: true, logLimit: c.r.p.LogLimit}
	if _, err := c.run(ctx, in, st, InitExport, c.r.p.InitGas); err != nil {
		in.mod.Close(ctx)
		return fmt.Errorf("%w: %s failed: %w", ErrInstall, InitExport, err)
	}
	c.snap = take(in)
	// Move to a copy-on-write instance where the platform allows; the
	// first instance's memory was allocated by wazero.
	if c.img = newImage(c.snap.mem); c.img != nil {
		fresh, err := c.freshInstance(ctx)
		if err != nil {
			c.img = nil
			return nil
		}
		in.mod.Close(ctx)
		c.inst = fresh
	}
	return nil
}

// run calls an export on the current instance with fresh gas and depth and
// classifies what happened. It returns the gas used.
func (c *Contract) run(ctx context.Context, in *instance, st *callState, fn string, limit uint64) (uint64, error) {
	st.gas = in.gas
	in.gas.Set(limit)
	in.depth.Set(0)
	in.limit.Set(uint64(c.r.p.MaxCallDepth))
	f := in.mod.ExportedFunction(fn)
	_, err := f.Call(context.WithValue(ctx, stateKey{}, st))
	left := int64(in.gas.Get())
	if left < 0 {
		return limit, ErrOutOfGas
	}
	used := limit - uint64(left)
	switch {
	case err == nil:
		return used, nil
	case st.err != nil:
		return used, st.err
	case uint32(in.depth.Get()) > c.r.p.MaxCallDepth:
		return used, ErrCallDepth
	case ctx.Err() != nil:
		return used, ctx.Err()
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i] // drop wazero's stack trace
	}
	if len(st.log) > 0 {
		msg += ": " + st.logHead()
	}
	return used, fmt.Errorf("%w: %s", ErrTrap, msg)
}

// Call runs one method from the post-initialisation snapshot. The returned
// Result is filled in whatever the error; on error the caller must drop
// everything the call did through its Host.
func (c *Contract) Call(ctx context.Context, call Call) (Result, error) {
	if call.Host == nil {
		return Result{}, errors.New("contract call without a Host")
	}
	if call.GasLimit > 1<<62 {
		return Result{}, fmt.Errorf("gas limit %d is above 2^62", call.GasLimit)
	}
	ok := false
	for _, m := range c.methods {
		ok = ok || m == call.Method
	}
	if !ok {
		return Result{}, fmt.Errorf("%w: %q (it has %s)", ErrNoMethod, call.Method, strings.Join(c.methods, ", "))
	}
	// The base charge pays the call's fixed cost (acquire and reset, the
	// SDK's start-up), the same on every engine and for nested calls.
	base := c.r.p.Gas.CallBase
	if call.GasLimit < base {
		return Result{GasUsed: call.GasLimit}, ErrOutOfGas
	}
	in, err := c.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	st := &callState{call: &call, p: &c.r.p, logLimit: c.r.p.LogLimit}
	used, err := c.run(ctx, in, st, call.Method, call.GasLimit-base)
	used += base
	res := Result{GasUsed: used, Log: st.log}
	if err == nil {
		res.Return = st.ret
	}
	next, rerr := c.reset(ctx, in)
	if rerr != nil {
		// An instance that could not be reset must never run again: the
		// next call would see this one's leftovers.
		in.mod.Close(ctx)
		c.release(in, nil)
		return res, fmt.Errorf("contract reset failed, the contract must be reloaded: %w", rerr)
	}
	c.release(in, next)
	return res, err
}

// maxIdle bounds the idle instances a contract keeps besides its first.
const maxIdle = 16

// acquire returns an instance in the snapshot's state for one call: the
// first instance if it is free, else an idle one, else a fresh one.
func (c *Contract) acquire(ctx context.Context) (*instance, error) {
	c.mu.Lock()
	switch {
	case c.inst == nil:
		c.mu.Unlock()
		return nil, errors.New("contract is closed")
	case !c.instBusy:
		c.instBusy = true
		in := c.inst
		c.mu.Unlock()
		return in, nil
	case len(c.idle) > 0:
		in := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		c.mu.Unlock()
		return in, nil
	}
	c.mu.Unlock()
	return c.freshInstance(ctx)
}

// release takes back in after a call; next replaces it (nil: it is gone).
func (c *Contract) release(in, next *instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in == c.inst {
		c.inst, c.instBusy = next, false
		if next == nil && len(c.idle) > 0 {
			c.inst, c.idle = c.idle[len(c.idle)-1], c.idle[:len(c.idle)-1]
		}
		return
	}
	if next == nil {
		return
	}
	if c.inst == nil || len(c.idle) >= maxIdle {
		next.mod.Close(context.Background())
		return
	}
	c.idle = append(c.idle, next)
}
