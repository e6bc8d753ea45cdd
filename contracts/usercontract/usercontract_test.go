package usercontract_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/usercontract"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/internal/wasmbuild"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
	"github.com/accord-chain/accord/vm/wasm"
)

const chainID = "uc-test"

var (
	buildDir string
	builds   sync.Map // package → *built
)

type built struct {
	once sync.Once
	code []byte
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "usercontract")
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
	"counter": "github.com/accord-chain/accord/examples/contracts/counter",
	"wtoken":  "github.com/accord-chain/accord/examples/contracts/wtoken",
	"vault":   "./testdata/vault",
}

func build(t testing.TB, name string) []byte {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &built{})
	b := v.(*built)
	b.once.Do(func() {
		out := filepath.Join(buildDir, name+".wasm")
		if b.err = wasmbuild.Build(packages[name], out); b.err == nil {
			b.code, b.err = os.ReadFile(out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.code
}

// world is a chain of blocks executed in memory.
type world struct {
	t       testing.TB
	exec    *execution.Executor
	runner  *usercontract.Contract
	state   *exectest.State
	height  uint64
	prev    types.Hash
	prevSt  types.Hash
	issuer  *exectest.Account
	alice   *exectest.Account
	bob     *exectest.Account
	results []*execution.Result
}

func newWorld(t testing.TB, engine wasm.Engine) *world {
	t.Helper()
	w := &world{t: t,
		issuer: exectest.NewAccount(crypto.Ed25519, 1, chainID, crypto.SHA256),
		alice:  exectest.NewAccount(crypto.Ed25519, 2, chainID, crypto.SHA256),
		bob:    exectest.NewAccount(crypto.Ed25519, 3, chainID, crypto.SHA256)}
	w.runner = usercontract.New(usercontract.Config{Hash: crypto.SHA256, Engine: engine, CacheDir: filepath.Join(buildDir, "cache-"+engine.String())})
	t.Cleanup(w.runner.Close)
	var err error
	w.exec, err = execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 1}, token.New(), w.runner)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := token.Genesis(w.issuer.Address, []token.Alloc{{Address: w.alice.Address, Amount: 1000}, {Address: w.issuer.Address, Amount: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := w.exec.Genesis(1, gen)
	if err != nil {
		t.Fatal(err)
	}
	w.state = exectest.NewState(g.Writes)
	w.prev, w.prevSt = g.Hash, g.StateHash
	return w
}

// block executes txs as the next block and applies it.
func (w *world) block(txs ...*types.Tx) []*pb.Receipt {
	w.t.Helper()
	w.height++
	res, err := w.exec.Execute(w.state, &execution.BlockInput{Height: w.height, Time: 1_700_000_000_000 + w.height,
		PrevHash: w.prev, PrevStateHash: w.prevSt, Txs: txs})
	if err != nil {
		w.t.Fatal(err)
	}
	w.state.Apply(res.Writes)
	w.prev, w.prevSt = res.Hash, res.StateHash
	w.results = append(w.results, res)
	return res.Receipts
}

func ok(t testing.TB, rs []*pb.Receipt) {
	t.Helper()
	for i, r := range rs {
		if r.Status != pb.TxStatus_TX_STATUS_OK {
			t.Fatalf("receipt %d: %v %s", i, r.Status, r.Message)
		}
	}
}

func (w *world) install(name, pkg string, from *exectest.Account) *pb.Receipt {
	w.t.Helper()
	code := build(w.t, pkg)
	h, ups := usercontract.Upload(code)
	var txs []*types.Tx
	for _, a := range ups {
		txs = append(txs, from.Tx(usercontract.Name, usercontract.MethodUpload, a))
	}
	txs = append(txs, from.Tx(usercontract.Name, usercontract.MethodInstall, usercontract.InstallArgs(name, h, nil)))
	rs := w.block(txs...)
	for _, r := range rs {
		if r.Status != pb.TxStatus_TX_STATUS_OK {
			return r
		}
	}
	return rs[len(rs)-1]
}

func (w *world) call(from *exectest.Account, name, method, args string, gas uint64) *pb.Receipt {
	w.t.Helper()
	tx := from.TxWith(&pb.TxPayload{Nonce: from.Nonce, Contract: name, Method: method, Args: []byte(args), GasLimit: gas})
	from.Nonce++
	return w.block(tx)[0]
}

func (w *world) query(name, method, args string) (string, error) {
	w.t.Helper()
	res, err := w.exec.Simulate(w.state, &execution.CallInput{Contract: name, Method: method, Args: []byte(args), Height: w.height, Time: 1})
	if err != nil {
		w.t.Fatal(err)
	}
	return string(res.Return), res.Err
}

func (w *world) balance(a types.Address) uint64 {
	b, err := token.Balance(w.state, a)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

func addr(name string) types.Address { return execution.ContractAddress(crypto.SHA256, name) }

func TestInstallCallQuery(t *testing.T) {
	w := newWorld(t, wasm.Compiler)
	if r := w.install("counter", "counter", w.issuer); r.Status != pb.TxStatus_TX_STATUS_OK {
		t.Fatalf("install: %v %s", r.Status, r.Message)
	}
	r := w.call(w.alice, "counter", "increment", `{"by":3}`, 0)
	if r.Status != pb.TxStatus_TX_STATUS_OK || string(r.Result) != `{"value":3}` || r.GasUsed == 0 {
		t.Fatalf("increment: %v %s result %s gas %d", r.Status, r.Message, r.Result, r.GasUsed)
	}
	if len(r.Events) != 1 || r.Events[0].Contract != "counter" || r.Events[0].Name != "incremented" ||
		!strings.Contains(r.Events[0].Attributes[0].Value, w.alice.Address.String()) {
		t.Fatalf("events = %v; want one incremented event naming alice", r.Events)
	}
	if got, err := w.query("counter", "get", ""); err != nil || got != `{"value":3}` {
		t.Fatalf("query get = %s, %v", got, err)
	}
	if v, _ := w.state.Get(execution.ContractKey("counter", []byte("value"))); string(v) != "3" {
		t.Fatalf("state c/counter/value = %q; want 3", v)
	}
	// Installing again, by someone else, or under a native name is refused.
	for _, c := range []struct {
		name string
		from *exectest.Account
		want string
	}{{"counter", w.issuer, "exists"}, {"c2", w.alice, "only the token issuer"}, {"token", w.issuer, "native contract"}} {
		if r := w.install(c.name, "counter", c.from); r.Status != pb.TxStatus_TX_STATUS_FAILED || !strings.Contains(r.Message, c.want) {
			t.Errorf("install %s: %v %s; want FAILED mentioning %q", c.name, r.Status, r.Message, c.want)
		}
	}
	if r := w.call(w.alice, "nothing", "x", "", 0); r.Status != pb.TxStatus_TX_STATUS_FAILED || !strings.Contains(r.Message, "unknown contract") {
		t.Fatalf("call of an unknown contract: %v %s", r.Status, r.Message)
	}
}

func TestOutOfGasKeepsOnlyTheNonce(t *testing.T) {
	w := newWorld(t, wasm.Compiler)
	ok(t, []*pb.Receipt{w.install("vault", "vault", w.issuer)})
	before := w.state.Clone()
	r := w.call(w.alice, "vault", "spin", "", 2_000_000)
	if r.Status != pb.TxStatus_TX_STATUS_FAILED || r.GasUsed != 2_000_000 || !strings.Contains(r.Message, "out of gas") {
		t.Fatalf("spin: %v %q gas %d; want FAILED out of gas with gas_used 2000000", r.Status, r.Message, r.GasUsed)
	}
	ws := w.results[len(w.results)-1].Writes
	if len(ws) != 1 || !bytes.Equal(ws[0].Key, execution.NonceKey(w.alice.Address)) {
		t.Fatalf("an out-of-gas call wrote %d keys; want only the nonce", len(ws))
	}
	_ = before
	// The node carries on.
	if r := w.call(w.alice, "vault", "put", `{"k":"a","v":"1"}`, 0); r.Status != pb.TxStatus_TX_STATUS_OK {
		t.Fatalf("put after spin: %v %s", r.Status, r.Message)
	}
	// Above the chain's maximum gas limit.
	if r := w.call(w.alice, "vault", "put", `{"k":"a","v":"1"}`, usercontract.DefaultTxGasMax+1); r.Status != pb.TxStatus_TX_STATUS_FAILED || !strings.Contains(r.Message, "gas limit above") {
		t.Fatalf("too much gas: %v %s", r.Status, r.Message)
	}
}

func TestNamespacesAndNestedCalls(t *testing.T) {
	w := newWorld(t, wasm.Compiler)
	ok(t, []*pb.Receipt{w.install("vault", "vault", w.issuer), w.install("vault2", "vault", w.issuer), w.install("counter", "counter", w.issuer)})
	r := w.call(w.alice, "vault", "put", `{"k":"shared","v":"mine"}`, 0)
	ok(t, []*pb.Receipt{r})
	for _, wr := range w.results[len(w.results)-1].Writes {
		if !bytes.HasPrefix(wr.Key, []byte("c/vault/")) && !bytes.HasPrefix(wr.Key, []byte("a/n/")) {
			t.Fatalf("vault wrote %q, outside its namespace", wr.Key)
		}
	}
	if got, _ := w.query("vault2", "get", `{"k":"shared"}`); got != `{"v":""}` {
		t.Fatalf("vault2 sees %s of vault's state; want nothing", got)
	}
	// vault2 calls counter: counter's caller is vault2's address; the
	// write lands in counter's namespace.
	r = w.call(w.alice, "vault2", "call", `{"contract":"counter","method":"increment","args":"{\"by\":2}"}`, 0)
	if r.Status != pb.TxStatus_TX_STATUS_OK || string(r.Result) != `{"ret":"{\"value\":2}"}` {
		t.Fatalf("nested call: %v %s %s", r.Status, r.Message, r.Result)
	}
	if len(r.Events) != 1 || r.Events[0].Contract != "counter" || !strings.Contains(r.Events[0].Attributes[0].Value, addr("vault2").String()) {
		t.Fatalf("nested events = %v; want counter's, with vault2 as caller", r.Events)
	}
	// The nested call pays its own call base on top of the outer one's.
	inc := w.call(w.alice, "counter", "increment", `{"by":1}`, 0)
	if ok(t, []*pb.Receipt{inc}); r.GasUsed < wasm.DefaultCallBase+inc.GasUsed {
		t.Fatalf("nested call used %d gas; want at least a call base %d more than a direct increment's %d", r.GasUsed, wasm.DefaultCallBase, inc.GasUsed)
	}
	// A caller failing after the call undoes the callee.
	r = w.call(w.alice, "vault2", "call", `{"contract":"counter","method":"increment","args":"{\"by\":5}","fail":true}`, 0)
	if r.Status != pb.TxStatus_TX_STATUS_FAILED {
		t.Fatalf("call then fail: %v", r.Status)
	}
	if got, _ := w.query("counter", "get", ""); got != `{"value":3}` {
		t.Fatalf("counter = %s after the caller failed; want 3", got)
	}
	// A callee's failure is the caller's to handle; calls back into a
	// running contract and into the registry are refused.
	for args, want := range map[string]string{
		`{"contract":"vault","method":"put","args":"{\"k\":\"x\",\"fail\":true}"}`: "wrote, then failed",
		`{"contract":"vault2","method":"get","args":"{}"}`:                         "already running",
		`{"contract":"contracts","method":"revoke","args":""}`:                     "cannot call the registry",
		`{"contract":"vault","method":"deposit","args":"{\"amount\":1}"}`:          "collect only in a call the caller signed",
	} {
		r = w.call(w.alice, "vault2", "call", args, 0)
		if r.Status != pb.TxStatus_TX_STATUS_OK || !strings.Contains(string(r.Result), want) {
			t.Errorf("call %s: %v %s %s; want a handled error mentioning %q", args, r.Status, r.Message, r.Result, want)
		}
	}
	if got, _ := w.query("vault", "get", `{"k":"x"}`); got != `{"v":""}` {
		t.Fatalf("a failed nested put left %s", got)
	}
}

func TestNativeTokensThroughContracts(t *testing.T) {
	w := newWorld(t, wasm.Compiler)
	ok(t, []*pb.Receipt{w.install("vault", "vault", w.issuer)})
	supply := func() uint64 {
		return w.balance(w.alice.Address) + w.balance(w.issuer.Address) + w.balance(w.bob.Address) + w.balance(addr("vault"))
	}
	r := w.call(w.alice, "vault", "deposit", `{"amount":100}`, 0)
	if r.Status != pb.TxStatus_TX_STATUS_OK || !strings.Contains(string(r.Result), `"balance":"100"`) ||
		!strings.Contains(string(r.Result), addr("vault").String()) {
		t.Fatalf("deposit: %v %s %s", r.Status, r.Message, r.Result)
	}
	if w.balance(w.alice.Address) != 900 || w.balance(addr("vault")) != 100 || supply() != 2000 {
		t.Fatalf("after deposit alice %d vault %d supply %d", w.balance(w.alice.Address), w.balance(addr("vault")), supply())
	}
	bob := w.bob.Address.String()
	if r := w.call(w.alice, "vault", "pay", `{"to":"`+bob+`","amount":30,"fail":true}`, 0); r.Status != pb.TxStatus_TX_STATUS_FAILED {
		t.Fatalf("pay then fail: %v", r.Status)
	}
	if w.balance(w.bob.Address) != 0 {
		t.Fatal("a failed call's transfer stayed")
	}
	ok(t, []*pb.Receipt{w.call(w.alice, "vault", "pay", `{"to":"`+bob+`","amount":30}`, 0)})
	if r := w.call(w.alice, "vault", "pay", `{"to":"`+bob+`","amount":71}`, 0); r.Status != pb.TxStatus_TX_STATUS_FAILED {
		t.Fatalf("overdraft: %v", r.Status)
	}
	if w.balance(w.bob.Address) != 30 || w.balance(addr("vault")) != 70 || supply() != 2000 {
		t.Fatalf("after pay bob %d vault %d supply %d", w.balance(w.bob.Address), w.balance(addr("vault")), supply())
	}
	if r := w.call(w.alice, "vault", "deposit", `{"amount":901}`, 0); r.Status != pb.TxStatus_TX_STATUS_FAILED || w.balance(w.alice.Address) != 900 {
		t.Fatalf("deposit beyond alice's balance: %v %s", r.Status, r.Message)
	}
}

func TestLifecycle(t *testing.T) {
	w := newWorld(t, wasm.Compiler)
	ok(t, []*pb.Receipt{w.install("vault", "vault", w.issuer)})
	ok(t, []*pb.Receipt{w.call(w.alice, "vault", "put", `{"k":"a","v":"1"}`, 0)})
	life := func(from *exectest.Account, method string) *pb.Receipt {
		return w.block(from.Tx(usercontract.Name, method, usercontract.NameArgs("vault")))[0]
	}
	if r := life(w.alice, usercontract.MethodFreeze); r.Status != pb.TxStatus_TX_STATUS_FAILED {
		t.Fatal("alice froze a contract; only the issuer may")
	}
	ok(t, []*pb.Receipt{life(w.issuer, usercontract.MethodFreeze)})
	if r := w.call(w.alice, "vault", "get", `{"k":"a"}`, 0); r.Status != pb.TxStatus_TX_STATUS_FAILED || !strings.Contains(r.Message, "frozen") {
		t.Fatalf("call of a frozen contract: %v %s", r.Status, r.Message)
	}
	if _, err := w.query("vault", "get", `{"k":"a"}`); err == nil {
		t.Fatal("a query of a frozen contract ran")
	}
	ok(t, []*pb.Receipt{life(w.issuer, usercontract.MethodUnfreeze)})
	// Upgrade keeps state and runs the upgrade export.
	h, _ := usercontract.Upload(build(t, "vault"))
	r := w.block(w.issuer.Tx(usercontract.Name, usercontract.MethodUpgrade, usercontract.InstallArgs("vault", h, nil)))[0]
	ok(t, []*pb.Receipt{r})
	if got, _ := w.query("vault", "get", `{"k":"a"}`); got != `{"v":"1"}` {
		t.Fatalf("after upgrade a = %s; want 1", got)
	}
	if got, _ := w.query("vault", "get", `{"k":"upgraded"}`); got != `{"v":"yes"}` {
		t.Fatalf("the upgrade export did not run: %s", got)
	}
	m, _, _ := usercontract.ReadMeta(w.state, "vault")
	if m.Version != 2 || m.Status != usercontract.Active || m.Code != h {
		t.Fatalf("meta after upgrade = %+v", m)
	}
	ok(t, []*pb.Receipt{life(w.issuer, usercontract.MethodRevoke)})
	for _, method := range []string{usercontract.MethodUnfreeze, usercontract.MethodFreeze, usercontract.MethodRevoke} {
		if r := life(w.issuer, method); r.Status != pb.TxStatus_TX_STATUS_FAILED || !strings.Contains(r.Message, "revoked") {
			t.Fatalf("%s after revoke: %v %s", method, r.Status, r.Message)
		}
	}
	if r := w.block(w.issuer.Tx(usercontract.Name, usercontract.MethodUpgrade, usercontract.InstallArgs("vault", h, nil)))[0]; r.Status != pb.TxStatus_TX_STATUS_FAILED {
		t.Fatal("a revoked contract was upgraded")
	}
	if r := w.call(w.alice, "vault", "get", `{"k":"a"}`, 0); r.Status != pb.TxStatus_TX_STATUS_FAILED || !strings.Contains(r.Message, "revoked") {
		t.Fatalf("call of a revoked contract: %v %s", r.Status, r.Message)
	}
}

func TestBlockGasLimit(t *testing.T) {
	w := newWorld(t, wasm.Compiler)
	ok(t, []*pb.Receipt{w.install("vault", "vault", w.issuer)})
	p := usercontract.DefaultParams()
	p.TxGasDefault, p.TxGasMax, p.BlockGasLimit = 3_000_000, 3_000_000, 5_000_000
	ok(t, w.block(w.issuer.Tx(usercontract.Name, usercontract.MethodSetParams, p.Encode())))
	spin := func() *types.Tx { return w.alice.Tx("vault", "spin", nil) }
	rs := w.block(spin(), spin())
	if rs[0].Status != pb.TxStatus_TX_STATUS_FAILED || rs[0].GasUsed != 3_000_000 ||
		rs[1].Status != pb.TxStatus_TX_STATUS_INVALID || !strings.Contains(rs[1].Message, "block's gas limit") {
		t.Fatalf("two spins in a 5M-gas block: %v %d, %v %s", rs[0].Status, rs[0].GasUsed, rs[1].Status, rs[1].Message)
	}
	if r := w.block(w.issuer.Tx(usercontract.Name, usercontract.MethodSetParams, []byte{1, 2}))[0]; r.Status != pb.TxStatus_TX_STATUS_FAILED {
		t.Fatal("malformed parameters were accepted")
	}
}

// TestEnginesAndRestartAgree runs the same seeded random calls (counter
// increments, vault writes that succeed or fail, deposits of native tokens,
// loops that run out of random gas limits) on a compiler runner, an
// interpreter runner and a fresh compiler runner over the state the first
// left (a restart): every block hash, and so every state hash, receipt,
// gas figure and event, must match. ACCORD_CONTRACT_CALLS sets the number
// of calls (default 40; 10000 for the full run, several minutes).
func TestEnginesAndRestartAgree(t *testing.T) {
	calls := 40
	if v := os.Getenv("ACCORD_CONTRACT_CALLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("ACCORD_CONTRACT_CALLS=%q: %v", v, err)
		}
		calls = n
	}
	worlds := []*world{newWorld(t, wasm.Compiler), newWorld(t, wasm.Interpreter)}
	steps := func(w *world) {
		ok(t, []*pb.Receipt{w.install("vault", "vault", w.issuer), w.install("counter", "counter", w.issuer)})
		rng := rand.New(rand.NewPCG(11, 11))
		var txs []*types.Tx
		for i := 0; i < calls; i++ {
			var tx *types.Tx
			gas := uint64(0)
			if rng.IntN(4) == 0 {
				gas = 50_000 + rng.Uint64N(400_000)
			}
			body := &pb.TxPayload{Nonce: w.alice.Nonce, GasLimit: gas}
			switch rng.IntN(5) {
			case 0:
				body.Contract, body.Method, body.Args = "counter", "increment", fmt.Appendf(nil, `{"by":%d}`, 1+rng.IntN(9))
			case 1:
				body.Contract, body.Method, body.Args = "vault", "put", fmt.Appendf(nil, `{"k":"k%d","v":"%d","fail":%v}`, rng.IntN(50), i, rng.IntN(5) == 0)
			case 2:
				body.Contract, body.Method, body.Args = "vault", "deposit", fmt.Appendf(nil, `{"amount":%d}`, rng.IntN(3))
			case 3:
				body.Contract, body.Method, body.Args = "vault", "spin", nil
				body.GasLimit = 100_000 + rng.Uint64N(200_000)
			case 4:
				body.Contract, body.Method, body.Args = "vault", "call", []byte(`{"contract":"counter","method":"get","args":""}`)
			}
			tx = w.alice.TxWith(body)
			w.alice.Nonce++
			txs = append(txs, tx)
			if len(txs) == 20 || i == calls-1 {
				w.block(txs...)
				txs = nil
			}
		}
	}
	for _, w := range worlds {
		steps(w)
	}
	a, b := worlds[0], worlds[1]
	for i := range a.results {
		ra, rb := a.results[i], b.results[i]
		if ra.Hash != rb.Hash {
			for j := range ra.Receipts {
				if x, y := ra.Receipts[j], rb.Receipts[j]; x.GasUsed != y.GasUsed || x.Message != y.Message {
					t.Errorf("block %d tx %d: compiler %d %q, interpreter %d %q", i+1, j, x.GasUsed, x.Message, y.GasUsed, y.Message)
				}
			}
			t.Fatalf("block %d: compiler and interpreter disagree", i+1)
		}
	}
	// A restart: a new runner, nothing compiled in memory, over a's state.
	re := newWorld(t, wasm.Compiler)
	re.state, re.height, re.prev, re.prevSt = a.state.Clone(), a.height, a.prev, a.prevSt
	re.alice.Nonce = a.alice.Nonce
	a.call(a.alice, "counter", "increment", `{"by":1}`, 0)
	re.call(re.alice, "counter", "increment", `{"by":1}`, 0)
	if x, y := a.results[len(a.results)-1], re.results[len(re.results)-1]; x.Hash != y.Hash || !bytes.Equal(x.Receipts[0].Result, y.Receipts[0].Result) {
		t.Fatalf("after a restart: %x %s, before %x %s", y.Hash, y.Receipts[0].Result, x.Hash, x.Receipts[0].Result)
	}
	if a.results[len(a.results)-1].Receipts[0].Status != pb.TxStatus_TX_STATUS_OK {
		t.Fatalf("increment after the random calls: %v", a.results[len(a.results)-1].Receipts[0])
	}
}

// TestSpeculativeBlocksMatch runs blocks of wtoken mints and transfers,
// some conflicting, on one worker and speculatively on four: the results
// must be identical.
func TestSpeculativeBlocksMatch(t *testing.T) {
	seq, par := newWorld(t, wasm.Compiler), newWorld(t, wasm.Compiler)
	var err error
	par.exec, err = execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 4}, token.New(), par.runner)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*world{seq, par} {
		ok(t, []*pb.Receipt{w.install("wtoken", "wtoken", w.issuer)})
	}
	payers := make([][2]*exectest.Account, 80)
	for i := range payers {
		payers[i] = [2]*exectest.Account{exectest.NewAccount(crypto.Ed25519, uint64(500+i), chainID, crypto.SHA256),
			exectest.NewAccount(crypto.Ed25519, uint64(500+i), chainID, crypto.SHA256)}
	}
	// Mints in blocks too small to speculate (the issuer's nonces would
	// make them all rerun).
	mint := func(lo, hi int) []func(int) *types.Tx {
		var fs []func(int) *types.Tx
		for i := lo; i < hi; i++ {
			fs = append(fs, func(k int) *types.Tx {
				w := []*world{seq, par}[k]
				return w.issuer.Tx("wtoken", "mint", fmt.Appendf(nil, `{"to":"%s","amount":100}`, payers[i][k].Address))
			})
		}
		return fs
	}
	transfers := func(payee func(i int) types.Address) []func(int) *types.Tx {
		var fs []func(int) *types.Tx
		for i := range payers {
			fs = append(fs, func(k int) *types.Tx {
				return payers[i][k].Tx("wtoken", "transfer", fmt.Appendf(nil, `{"to":"%s","amount":%d}`, payee(i), 1+i%50))
			})
		}
		return fs
	}
	blocks := [][]func(k int) *types.Tx{mint(0, 40), mint(40, 80),
		// Few conflicts: every tenth pays payer 79, the rest an outsider
		// each.
		transfers(func(i int) types.Address {
			if i%10 == 0 {
				return payers[79][0].Address
			}
			return types.Address{0xee, byte(i)}
		}),
		// Many: payers pay payers.
		transfers(func(i int) types.Address { return payers[(i*7)%len(payers)][0].Address }),
	}
	for b, fs := range blocks {
		for k, w := range []*world{seq, par} {
			txs := make([]*types.Tx, len(fs))
			for i, f := range fs {
				txs[i] = f(k)
			}
			w.block(txs...)
		}
		x, y := seq.results[len(seq.results)-1], par.results[len(par.results)-1]
		if b >= 2 && !y.Stats.Speculative {
			t.Fatalf("block %d ran %+v; want speculative", b, y.Stats)
		}
		if x.Hash != y.Hash {
			t.Fatalf("block %d: speculative %x, sequential %x", b, y.Hash, x.Hash)
		}
		t.Logf("block %d: %d transactions, %d reran", b, len(fs), y.Stats.Reran)
	}
}
