package wasm

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/accord-chain/accord/crypto"
)

// Building a Go contract and compiling it takes seconds, so each module is
// built once per test binary and installed once per engine; calls reset
// the instance, so tests can share an installed contract (that they can is
// itself what reset promises).

var (
	buildDir  string
	buildOnce sync.Map // name → *builtModule
	instOnce  sync.Map // engine/name → *installed
)

type builtModule struct {
	once sync.Once
	code []byte
	err  error
}

type installed struct {
	once sync.Once
	c    *Contract
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vmwasm")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var packages = map[string]string{
	"counter":  "github.com/accord-chain/accord/examples/contracts/counter",
	"probe":    "./testdata/probe",
	"gasbench": "./testdata/gasbench",
	"wtoken":   "github.com/accord-chain/accord/examples/contracts/wtoken",
}

// build compiles a contract package with the installed Go toolchain.
func build(t testing.TB, name string) []byte {
	t.Helper()
	v, _ := buildOnce.LoadOrStore(name, &builtModule{})
	bm := v.(*builtModule)
	bm.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			bm.err = fmt.Errorf("no go toolchain on PATH: %w", err)
			return
		}
		out := filepath.Join(buildDir, name+".wasm")
		cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", out, packages[name])
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			bm.err = fmt.Errorf("building %s: %v\n%s", name, err, msg)
			return
		}
		bm.code, bm.err = os.ReadFile(out)
	})
	if bm.err != nil {
		t.Fatal(bm.err)
	}
	return bm.code
}

var runtimes sync.Map // Engine → *Runtime

func runtimeFor(t testing.TB, e Engine) *Runtime {
	t.Helper()
	v, ok := runtimes.Load(e)
	if ok {
		return v.(*Runtime)
	}
	r, err := NewRuntime(context.Background(), Params{Engine: e}, "")
	if err != nil {
		t.Fatal(err)
	}
	v, _ = runtimes.LoadOrStore(e, r)
	return v.(*Runtime)
}

func install(t testing.TB, e Engine, name string) *Contract {
	t.Helper()
	code := build(t, name)
	v, _ := instOnce.LoadOrStore(e.String()+"/"+name, &installed{})
	in := v.(*installed)
	in.once.Do(func() { in.c, in.err = runtimeFor(t, e).Install(context.Background(), code) })
	if in.err != nil {
		t.Fatalf("%s: install %s: %v", e, name, in.err)
	}
	return in.c
}

// memHost is a Host over a map that, like the executor, keeps a call's
// writes and events only when the call succeeds.
type memHost struct {
	state   map[string]string
	pending map[string]*string
	events  []string
	newEv   []string
	// balances are native token balances; a call's moves are in moved
	// until it ends.
	balances map[string]uint64
	moved    map[string]uint64
}

func newHost() *memHost {
	return &memHost{state: map[string]string{}, balances: map[string]uint64{}}
}

func (h *memHost) CallContract(contract, method string, args []byte, gas uint64) ([]byte, uint64, error) {
	if contract == "other" && method == "echo" {
		return append([]byte("echo:"), args...), min(gas, 5000), nil
	}
	return nil, min(gas, 1000), fmt.Errorf("%s.%s failed on purpose", contract, method)
}

func (h *memHost) bal(a string) uint64 {
	if v, ok := h.moved[a]; ok {
		return v
	}
	return h.balances[a]
}

func (h *memHost) Balance(a string) (uint64, error) { return h.bal(a), nil }

func (h *memHost) move(from, to string, n uint64) error {
	if h.bal(from) < n {
		return fmt.Errorf("%s holds %d, needs %d", from, h.bal(from), n)
	}
	f, t := h.bal(from)-n, h.bal(to)+n
	h.moved[from], h.moved[to] = f, t
	return nil
}

func (h *memHost) Transfer(to string, n uint64) error { return h.move("contract", to, n) }
func (h *memHost) Collect(n uint64) error             { return h.move("alice", "contract", n) }

func (h *memHost) PolicySatisfied(policy string, as []Approval) (bool, error) {
	if policy != "p" {
		return false, fmt.Errorf("no policy %q", policy)
	}
	return len(as) == 2 && as[0] == Approval{"org1", "admin"} && as[1] == Approval{"org2", "admin"}, nil
}

func (h *memHost) Get(k []byte) ([]byte, bool, error) {
	if v, ok := h.pending[string(k)]; ok {
		if v == nil {
			return nil, false, nil
		}
		return []byte(*v), true, nil
	}
	v, ok := h.state[string(k)]
	return []byte(v), ok, nil
}
func (h *memHost) Put(k, v []byte) error { s := string(v); h.pending[string(k)] = &s; return nil }
func (h *memHost) Delete(k []byte) error { h.pending[string(k)] = nil; return nil }
func (h *memHost) Emit(topic string, data []byte) error {
	h.newEv = append(h.newEv, topic+":"+string(data))
	return nil
}

func (h *memHost) Range(start, end []byte, limit int) ([]Entry, bool, error) {
	merged := map[string]string{}
	for k, v := range h.state {
		merged[k] = v
	}
	for k, v := range h.pending {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = *v
		}
	}
	var keys []string
	for k := range merged {
		if k >= string(start) && (len(end) == 0 || k < string(end)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	var out []Entry
	for _, k := range keys {
		out = append(out, Entry{Key: []byte(k), Value: []byte(merged[k])})
	}
	return out, more, nil
}

func (h *memHost) begin() {
	h.pending, h.newEv, h.moved = map[string]*string{}, nil, map[string]uint64{}
}
func (h *memHost) end(ok bool) {
	if ok {
		for a, v := range h.moved {
			h.balances[a] = v
		}
		for k, v := range h.pending {
			if v == nil {
				delete(h.state, k)
			} else {
				h.state[k] = *v
			}
		}
		h.events = append(h.events, h.newEv...)
	}
	h.pending, h.newEv, h.moved = nil, nil, nil
}

func (h *memHost) dump() string {
	var keys []string
	for k := range h.state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, h.state[k])
	}
	var accounts []string
	for a := range h.balances {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		fmt.Fprintf(&b, "$%s=%d;", a, h.balances[a])
	}
	return b.String() + strings.Join(h.events, "|")
}

type outcome struct {
	ret  string
	gas  uint64
	err  error
	host string
}

func (o outcome) String() string {
	return fmt.Sprintf("ret %q gas %d err %v", o.ret, o.gas, o.err)
}

func call(t testing.TB, c *Contract, h *memHost, method, args string, gas uint64) outcome {
	t.Helper()
	h.begin()
	res, err := c.Call(context.Background(), Call{Method: method, Args: []byte(args), Caller: "alice",
		CallerOrg: "org1", CallerRole: "admin", Self: "contract", TxID: []byte("tx-1"), Height: 7, Time: 1_700_000_000_000, GasLimit: gas, Host: h})
	h.end(err == nil)
	checkReset(t, c)
	return outcome{ret: string(res.Return), gas: res.GasUsed, err: err, host: h.dump()}
}

// checkReset fails unless the contract's instance is exactly its snapshot:
// the promise every call relies on.
func checkReset(t testing.TB, c *Contract) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	mem := c.inst.mod.Memory()
	b, _ := mem.Read(0, mem.Size())
	if !bytes.Equal(b, c.snap.mem) {
		t.Fatalf("after a call the memory (%d bytes) differs from the snapshot (%d bytes)", len(b), len(c.snap.mem))
	}
	for i, g := range c.inst.state {
		if g.Get() != c.snap.globals[i] {
			t.Fatalf("after a call global %s is %d, want the snapshot's %d", c.info.StateGlobals[i], g.Get(), c.snap.globals[i])
		}
	}
}

// both runs the same call on each engine and fails unless they agree on
// result, gas, error and host state.
func both(t *testing.T, hosts [2]*memHost, name, method, args string, gas uint64) outcome {
	t.Helper()
	c := call(t, install(t, Compiler, name), hosts[0], method, args, gas)
	i := call(t, install(t, Interpreter, name), hosts[1], method, args, gas)
	if c.ret != i.ret || c.gas != i.gas || fmt.Sprint(c.err) != fmt.Sprint(i.err) || c.host != i.host {
		t.Fatalf("%s %s: engines disagree:\ncompiler    %v %s\ninterpreter %v %s", method, args, c, c.host, i, i.host)
	}
	return c
}

const gas = 50_000_000

func TestCounterSameOnBothEngines(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	sum := 0
	for by := 1; by <= 20; by++ {
		sum += by
		o := both(t, h, "counter", "increment", fmt.Sprintf(`{"by": %d}`, by), gas)
		if o.err != nil || o.ret != fmt.Sprintf(`{"value":%d}`, sum) {
			t.Fatalf("increment by %d: %v; want value %d", by, o, sum)
		}
	}
	o := both(t, h, "counter", "get", "", gas)
	if o.err != nil || o.ret != fmt.Sprintf(`{"value":%d}`, sum) || o.gas == 0 {
		t.Fatalf("get: %v; want value %d", o, sum)
	}
	if len(h[0].events) != 20 || !strings.Contains(h[0].events[19], `"caller":"alice"`) {
		t.Fatalf("events %q; want 20 incremented events from alice", h[0].events)
	}
	bad := both(t, h, "counter", "increment", `{"by": 0}`, gas)
	var rev *RevertError
	if !errors.As(bad.err, &rev) || !strings.Contains(rev.Message, `"by" must be at least 1`) {
		t.Fatalf("increment by 0: %v; want a revert saying by must be at least 1", bad)
	}
	if after := both(t, h, "counter", "get", "", gas); after.ret != o.ret {
		t.Fatalf("a reverted call changed state: get = %s, want %s", after.ret, o.ret)
	}
}

func TestInfiniteLoopEndsOutOfGas(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	o := both(t, h, "probe", "spin", "", 2_000_000)
	if !errors.Is(o.err, ErrOutOfGas) || o.gas != 2_000_000 {
		t.Fatalf("spin: %v; want ErrOutOfGas with gas used 2000000", o)
	}
	if next := both(t, h, "probe", "leak", "", gas); next.err != nil || next.ret != "1" {
		t.Fatalf("a call after running out of gas: %v; want a normal result", next)
	}
}

func TestDeepRecursionFailsAtTheSameDepth(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	if o := both(t, h, "probe", "recurse", `{"n": 100}`, gas); o.err != nil || o.ret != "100" {
		t.Fatalf("recurse 100: %v; want 100", o)
	}
	// Equal gas on both engines means both stopped at the same instruction.
	o := both(t, h, "probe", "recurse", `{"n": 100000}`, gas)
	if !errors.Is(o.err, ErrCallDepth) {
		t.Fatalf("recurse 100000: %v; want ErrCallDepth", o)
	}
}

func TestMemoryBombIsRefused(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	if o := both(t, h, "probe", "bomb", `{"n": 4}`, 1_000_000_000); o.err != nil || o.ret != "4" {
		t.Fatalf("allocating 4 MiB: %v; want success", o)
	}
	// The default limit is 32 MiB: memory.grow fails and Go's runtime dies.
	o := both(t, h, "probe", "bomb", `{"n": 64}`, 1_000_000_000)
	if !errors.Is(o.err, ErrTrap) || !strings.Contains(o.err.Error(), "fatal error: out of memory") {
		t.Fatalf("allocating 64 MiB: %v; want a trap quoting Go's out of memory", o)
	}
	if o := both(t, h, "probe", "leak", "", gas); o.err != nil || o.ret != "1" {
		t.Fatalf("a call after the bomb: %v; want a fresh instance", o)
	}
	for _, e := range []Engine{Compiler, Interpreter} {
		c := install(t, e, "probe")
		if got := c.inst.mod.Memory().Size(); got != uint32(len(c.snap.mem)) {
			t.Errorf("%s: memory is %d bytes after a grown call; want the snapshot's %d", e, got, len(c.snap.mem))
		}
	}
}

func TestNothingLeaksBetweenCalls(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	first := both(t, h, "probe", "leak", "", gas)
	for i := 0; i < 3; i++ {
		o := both(t, h, "probe", "leak", "", gas)
		if o.err != nil || o.ret != "1" || o.gas != first.gas {
			t.Fatalf("call %d: %v; want result 1 and gas %d like the first", i+2, o, first.gas)
		}
	}
}

func TestNaNIsCanonicalOnBothEngines(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	o := both(t, h, "probe", "nan", `{"a": 0, "b": 0}`, gas)
	if o.err != nil || o.ret != `"7ff8000000000000"` {
		t.Fatalf("0/0: %v; want the canonical NaN 7ff8000000000000", o)
	}
}

func TestEnvironmentIsDeterministic(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	a := both(t, h, "probe", "env", "", gas)
	b := both(t, h, "probe", "env", "", gas)
	if a.err != nil || a.ret != b.ret || a.gas != b.gas {
		t.Fatalf("env twice: %v then %v; want the same", a, b)
	}
	other, err := install(t, Compiler, "probe").Call(context.Background(), Call{Method: "env", TxID: []byte("tx-2"),
		Time: 1_700_000_000_000, GasLimit: gas, Host: newHost()})
	if err != nil || !strings.Contains(string(other.Return), `"rand":"`) || randOf(other.Return) == randOf([]byte(a.ret)) {
		t.Fatalf("env under another tx id: %s, %v; want different randomness than %s", other.Return, err, a.ret)
	}
	for _, want := range []string{`"now":1700000000000`, `"caller":"alice"`, `"height":7`, `"args":0`} {
		if !strings.Contains(a.ret, want) {
			t.Errorf("env = %s; want it to contain %s", a.ret, want)
		}
	}
}

func TestUnsupportedWASINamesTheFunction(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	o := both(t, h, "probe", "sleep", "", gas)
	if !errors.Is(o.err, ErrWASI) || !strings.Contains(o.err.Error(), "wasi_snapshot_preview1.") {
		t.Fatalf("sleep: %v; want ErrWASI naming the function", o)
	}
}

func TestPanicAndRevert(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	o := both(t, h, "probe", "boom", "", gas)
	if !errors.Is(o.err, ErrTrap) || !strings.Contains(o.err.Error(), "panic: boom") {
		t.Fatalf("boom: %v; want a trap quoting the panic", o)
	}
	o = both(t, h, "probe", "exit", "", gas)
	var exit *ExitError
	if !errors.As(o.err, &exit) || exit.Code != 3 {
		t.Fatalf("exit: %v; want ExitError with code 3", o)
	}
	o = both(t, h, "probe", "revert", "", gas)
	var rev *RevertError
	if !errors.As(o.err, &rev) || rev.Message != "permission denied" || o.host != "" {
		t.Fatalf("revert: %v host %q; want a revert with the error text and no state", o, o.host)
	}
	o = both(t, h, "probe", "write", "", gas)
	if o.err != nil || o.host != "k=v;wrote:k" {
		t.Fatalf("write: %v host %q; want k=v and one event", o, o.host)
	}
}

func TestCallChecksMethod(t *testing.T) {
	c := install(t, Compiler, "counter")
	if got := strings.Join(c.Methods(), ","); got != "get,increment" {
		t.Fatalf("methods = %s; want get,increment", got)
	}
	for _, m := range []string{"_initialize", "nope", "memory"} {
		_, err := c.Call(context.Background(), Call{Method: m, GasLimit: gas, Host: newHost()})
		if !errors.Is(err, ErrNoMethod) {
			t.Errorf("call %s: %v; want ErrNoMethod", m, err)
		}
	}
}

// module assembles a module from raw sections, for install refusals.
func module(sections ...[]byte) []byte {
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	for _, s := range sections {
		out = append(out, s...)
	}
	return out
}

func section(id byte, payload ...byte) []byte {
	return append([]byte{id, byte(len(payload))}, payload...)
}

func TestInstallRefusals(t *testing.T) {
	types := section(1, 1, 0x60, 0, 0)
	funcs := section(3, 1, 0)
	code := section(10, 1, 2, 0, 0x0b)
	mem := func(pages byte) []byte { return section(5, 1, 0, pages) }
	exp := section(7, 2, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, 11, '_', 'i', 'n', 'i', 't', 'i', 'a', 'l', 'i', 'z', 'e', 0, 0)
	expNoInit := section(7, 1, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0)
	imp := func(mod, name string, typ byte) []byte {
		p := []byte{1, byte(len(mod))}
		p = append(p, mod...)
		p = append(p, byte(len(name)))
		p = append(p, name...)
		return section(2, append(p, 0, typ)...)
	}
	types2 := section(1, 2, 0x60, 0, 0, 0x60, 1, 0x7f, 0)
	cases := []struct {
		name, want string
		wasm       []byte
	}{
		{"ok", "", module(types, funcs, mem(1), exp, code)},
		{"foreign import", "import env.foo: contracts may import only", module(types, imp("env", "foo", 0), funcs, mem(1), exp, code)},
		{"unknown host function", "import accord.steal does not exist", module(types, imp("accord", "steal", 0), funcs, mem(1), exp, code)},
		{"wrong type", "import wasi_snapshot_preview1.proc_exit has type () -> ()", module(types, imp("wasi_snapshot_preview1", "proc_exit", 0), funcs, mem(1), exp, code)},
		{"no init", "no _initialize() export", module(types, funcs, mem(1), expNoInit, code)},
		{"memory above limit", "starts with 600 memory pages", module(types, funcs, section(5, 1, 0, 0xd8, 0x04), exp, code)},
		{"not wasm", "not a WebAssembly", []byte("\x7fELF\x02\x01\x01\x00")},
		{"unsupported instruction", "SIMD", module(types, funcs, mem(1), exp, section(10, 1, 4, 0, 0xfd, 0, 0x0b))},
	}
	_ = types2
	r := runtimeFor(t, Interpreter)
	for _, c := range cases {
		ct, err := r.Install(context.Background(), c.wasm)
		if c.want == "" {
			if err != nil {
				t.Fatalf("%s: %v; want it installed", c.name, err)
			}
			ct.Close(context.Background())
			continue
		}
		if !errors.Is(err, ErrInstall) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want ErrInstall mentioning %q", c.name, err, c.want)
		}
	}
	small, err := NewRuntime(context.Background(), Params{Engine: Interpreter, MaxCodeSize: 20}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close(context.Background())
	if _, err := small.Install(context.Background(), cases[0].wasm); !errors.Is(err, ErrInstall) || !strings.Contains(err.Error(), "20-byte limit") {
		t.Errorf("oversize module: %v; want ErrInstall naming the size limit", err)
	}
}

func TestParamsValidate(t *testing.T) {
	for _, p := range []Params{{MaxCallDepth: 1901}, {MemoryLimitPages: 70000}, {Engine: 7}, {Gas: Schedule{Page: 1 << 30}}} {
		p.EnsureDefaults()
		if err := p.Validate(); !errors.Is(err, ErrBadParams) {
			t.Errorf("%+v: %v; want ErrBadParams", p, err)
		}
	}
	var p Params
	p.EnsureDefaults()
	if err := p.Validate(); err != nil || p.MaxCallDepth != 1000 || p.MemoryLimitPages != 512 {
		t.Fatalf("defaults %+v: %v", p, err)
	}
}

func TestRestoreCopiesOnlyDirtyChunks(t *testing.T) {
	snap := bytes.Repeat([]byte{1}, 10*chunk+100)
	mem := append([]byte(nil), snap...)
	mem[5] = 9
	mem[3*chunk+7] = 9
	mem[len(mem)-1] = 9
	if n := restore(mem, snap); n != 3 || !bytes.Equal(mem, snap) {
		t.Fatalf("restore copied %d chunks, equal %v; want 3 and equal", n, bytes.Equal(mem, snap))
	}
}

func TestWarmedCachesMakeCallsCheap(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	if o := both(t, h, "probe", "noop_run", "", gas); o.err != nil || o.gas < DefaultCallBase || o.gas > DefaultCallBase+1000 {
		t.Fatalf("an empty method: %v; want the call base and under 1000 gas more", o)
	}
	// Without contract.Warm in the probe's init, encoding/json rebuilds its
	// type cache on every call: about 570k gas instead of about 80k, on top
	// of the call base.
	a := both(t, h, "probe", "json_once", `{"n": 1}`, gas)
	b := both(t, h, "probe", "json_once", `{"n": 1}`, gas)
	if a.err != nil || a.ret != `{"n":1,"a":0,"b":0}` || a.gas != b.gas || a.gas > DefaultCallBase+200_000 {
		t.Fatalf("json round trip: %v then %v; want equal gas under the call base + 200000", a, b)
	}
}

func TestCallBaseChargedBeforeCode(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	// Below the base nothing runs: the whole limit is used and the state
	// is untouched.
	o := both(t, h, "counter", "increment", `{"by": 1}`, DefaultCallBase-1)
	if !errors.Is(o.err, ErrOutOfGas) || o.gas != DefaultCallBase-1 || len(h[0].state) != 0 {
		t.Fatalf("a limit below the call base: %v, state %v; want out of gas using it all", o, h[0].state)
	}
	// At exactly the base the code starts and runs out at once.
	if o := both(t, h, "counter", "increment", `{"by": 1}`, DefaultCallBase); !errors.Is(o.err, ErrOutOfGas) || o.gas != DefaultCallBase {
		t.Fatalf("a limit of the call base: %v; want out of gas using it all", o)
	}
	o = both(t, h, "counter", "increment", `{"by": 1}`, gas)
	if o.err != nil || o.gas <= DefaultCallBase {
		t.Fatalf("an increment: %v; want success using more than the call base %d", o, DefaultCallBase)
	}
}

func randOf(b []byte) string {
	s := string(b)
	i := strings.Index(s, `"rand":"`)
	if i < 0 {
		return ""
	}
	return s[i : i+40]
}

func TestLogIsCappedAndCharged(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	small := both(t, h, "probe", "spam", `{"n": 100}`, gas)
	big := both(t, h, "probe", "spam", `{"n": 20000}`, gas)
	c := install(t, Compiler, "probe")
	res, err := c.Call(context.Background(), Call{Method: "spam", Args: []byte(`{"n": 20000}`), GasLimit: gas, Host: newHost()})
	if small.err != nil || err != nil || len(res.Log) != c.r.p.LogLimit || big.gas < small.gas+20000*c.r.p.Gas.HostByte {
		t.Fatalf("spam: log %d bytes (want %d), gas %d vs %d; want the log capped and every byte charged",
			len(res.Log), c.r.p.LogLimit, big.gas, small.gas)
	}
}

func TestCompiledCodeIsCachedOnDisk(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r, err := NewRuntime(ctx, Params{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	ok := module(section(1, 1, 0x60, 0, 0), section(3, 1, 0), section(5, 1, 0, 1),
		section(7, 2, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, 11, '_', 'i', 'n', 'i', 't', 'i', 'a', 'l', 'i', 'z', 'e', 0, 0),
		section(10, 1, 2, 0, 0x0b))
	if _, err := r.Install(ctx, ok); err != nil {
		t.Fatal(err)
	}
	var files int
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files == 0 {
		t.Fatalf("no compiled code under %s after install; want the cache written", dir)
	}
}

func TestBadPointerFailsTheCall(t *testing.T) {
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	m := module(
		section(1, 2, 0x60, 0, 0, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 0),
		section(2, cat([]byte{1}, name("accord"), name("state_put"), []byte{0, 1})...),
		section(3, 2, 0, 0),
		section(5, 1, 0, 1),
		section(7, cat([]byte{3}, name("memory"), []byte{2, 0}, name("_initialize"), []byte{0, 1}, name("bad"), []byte{0, 2})...),
		// bad: state_put(key at 0xffffff00, 100 bytes, value at 0, 0 bytes)
		section(10, 2, 2, 0, 0x0b, 14, 0, 0x41, 0x80, 0x7e, 0x41, 0xe4, 0, 0x41, 0, 0x41, 0, 0x10, 0, 0x0b),
	)
	for _, e := range []Engine{Compiler, Interpreter} {
		c, err := runtimeFor(t, e).Install(context.Background(), m)
		if err != nil {
			t.Fatalf("%s: install: %v", e, err)
		}
		h := newHost()
		h.begin()
		res, err := c.Call(context.Background(), Call{Method: "bad", GasLimit: gas, Host: h})
		if !errors.Is(err, ErrBadPointer) || res.GasUsed == 0 || len(h.pending) != 0 {
			t.Errorf("%s: %v, gas %d, %d writes; want ErrBadPointer, gas charged, nothing written", e, err, res.GasUsed, len(h.pending))
		}
		c.Close(context.Background())
	}
}

func TestCopyOnWriteMemoryOnLinux(t *testing.T) {
	c := install(t, Compiler, "probe")
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("copy-on-write reset needs Linux on amd64 or arm64")
	}
	if _, err := os.Stat("/proc/self/pagemap"); err != nil {
		t.Skipf("no pagemap: %v", err)
	}
	c.mu.Lock()
	cow := c.inst.cow
	c.mu.Unlock()
	if cow == nil {
		t.Fatal("the instance's memory is not copy-on-write")
	}
	h := newHost()
	call(t, c, h, "leak", "", gas)
	c.mu.Lock()
	defer c.mu.Unlock()
	// The reset after that call left the written pages private; restoring
	// again copies them (and only them) again.
	n, err := c.inst.cow.restore()
	if err != nil || n == 0 || n >= len(c.snap.mem)/pageSize {
		t.Fatalf("restore copied %d of %d pages, %v; want some but not all", n, len(c.snap.mem)/pageSize, err)
	}
}

func TestIdentityHashesAndSignatures(t *testing.T) {
	key, err := crypto.GenerateKey(crypto.SM2, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := key.Sign([]byte("pay 5"))
	if err != nil {
		t.Fatal(err)
	}
	args := func(msg string) string {
		b, _ := json.Marshal(map[string]any{"data": "abc", "scheme": crypto.SM2, "pub": key.Public().Bytes(), "msg": []byte(msg), "sig": sig})
		return string(b)
	}
	h := [2]*memHost{newHost(), newHost()}
	good := both(t, h, "probe", "crypto", args("pay 5"), gas)
	sha, sm3 := sha256.Sum256([]byte("abc")), crypto.SM3.Sum([]byte("abc"))
	for _, want := range []string{`"org":"org1"`, `"role":"admin"`, `"valid":true`,
		`"sha256":"` + hex.EncodeToString(sha[:]), `"sm3":"` + hex.EncodeToString(sm3[:])} {
		if !strings.Contains(good.ret, want) {
			t.Errorf("crypto = %s, %v; want it to contain %s", good.ret, good.err, want)
		}
	}
	if bad := both(t, h, "probe", "crypto", args("pay 500"), gas); !strings.Contains(bad.ret, `"valid":false`) || bad.gas < good.gas {
		t.Errorf("a signature over another message: %v; want valid false", bad)
	}
}

func TestScanOnBothEngines(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	// 1,234 entries: more than one host page (1,000) and many SDK pages (100).
	o := both(t, h, "probe", "scan", `{"n": 1234}`, 1_000_000_000)
	if o.err != nil || o.ret != `{"n":1233,"sum":760758}` {
		t.Fatalf("scan = %v; want 1233 entries summing to 760758", o)
	}
	if len(h[0].state) != 1233 {
		t.Fatalf("%d keys stored; want 1233", len(h[0].state))
	}
}

func TestChainHostFunctions(t *testing.T) {
	h := [2]*memHost{newHost(), newHost()}
	h[0].balances["alice"], h[1].balances["alice"] = 100, 100
	o := both(t, h, "probe", "chain", `{"x":1}`, gas)
	if o.err != nil {
		t.Fatal(o.err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(o.ret), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"self": "contract", "call": `echo:{"x":1}`, "call_err": "<nil>",
		"fail_err":     "other.fail: contract call failed: other.fail failed on purpose",
		"transfer_err": "transfer: refused: contract holds 7, needs 1000",
		"balance":      float64(4), "balance_err": "<nil>",
		"policy": true, "policy_err": "<nil>",
		"policy_bad_err": `policy bad: refused: no policy "bad"`,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v; want %#v", k, got[k], v)
		}
	}
	if h[0].balances["alice"] != 93 || h[0].balances["bob"] != 3 || h[0].balances["contract"] != 4 {
		t.Errorf("balances after the call = %v; want alice 93, bob 3, contract 4", h[0].balances)
	}
	// The callee's gas is the caller's: a call that spends it all leaves
	// the caller out of gas.
	if o := both(t, h, "probe", "chain", `{}`, 150_000); !errors.Is(o.err, ErrOutOfGas) || o.gas != 150_000 {
		t.Errorf("chain with little gas: %v; want out of gas at the limit", o)
	}
	if h[0].balances["alice"] != 93 {
		t.Errorf("a failed call moved tokens: %v", h[0].balances)
	}
}
