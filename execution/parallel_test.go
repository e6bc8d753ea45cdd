package execution_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// tally is a test contract of counters that predicts its accesses. Args are
// "key=n".
//
//	add      credit key with n (AddUint64, declared as a credit)
//	add2     credit key with n twice
//	addfail  credit key with n, then fail
//	addx     AddUint64 on key declared exclusive
//	double   read key as a counter and write twice its value
//	reset    delete key
//	setstr   set key to a value that is not a counter
type tally struct{}

func (tally) Name() string { return "tally" }

func parseTally(args []byte) (key []byte, n uint64, ok bool) {
	k, v, found := strings.Cut(string(args), "=")
	n, err := strconv.ParseUint(v, 10, 64)
	return []byte(k), n, found && err == nil && k != ""
}

func (tally) Predict(acc *execution.AccessList, _ types.Address, method string, args []byte) bool {
	key, _, ok := parseTally(args)
	if !ok {
		return true
	}
	switch method {
	case "add", "add2", "addfail":
		acc.Credit(key)
	case "addx", "double", "reset", "setstr":
		acc.Exclusive(key)
	}
	return true
}

func (tally) Call(ctx *execution.Context, method string, args []byte) error {
	key, n, ok := parseTally(args)
	if !ok {
		return errors.New("bad args")
	}
	switch method {
	case "add", "addx":
		return ctx.AddUint64(key, n)
	case "add2":
		if err := ctx.AddUint64(key, n); err != nil {
			return err
		}
		return ctx.AddUint64(key, n)
	case "addfail":
		if err := ctx.AddUint64(key, n); err != nil {
			return err
		}
		return errors.New("failed after crediting")
	case "double":
		v, err := ctx.Get(key)
		if err != nil {
			return err
		}
		if len(v) != 0 && len(v) != 8 {
			return fmt.Errorf("%q is not a counter", key)
		}
		var x uint64
		if len(v) == 8 {
			x = binary.BigEndian.Uint64(v)
		}
		if x > math.MaxUint64/2 {
			return errors.New("double overflows")
		}
		ctx.Set(key, binary.BigEndian.AppendUint64(nil, 2*x))
	case "reset":
		ctx.Delete(key)
	case "setstr":
		ctx.Set(key, []byte("not a counter"))
	default:
		return execution.ErrUnknownMethod
	}
	ctx.Emit(method, &pb.Attribute{Key: "key", Value: string(key)})
	return nil
}

// metaKeys are the keys of the metamorphic test's accounts, made once.
var metaKeys = sync.OnceValue(func() []exectest.Account {
	as := make([]exectest.Account, 48)
	for i := range as {
		as[i] = *exectest.NewAccount(crypto.Ed25519, uint64(1000+i), chainID, crypto.SHA256)
	}
	return as
})

// The cast of a metamorphic run.
const (
	issuerIdx   = 0
	merchantIdx = 1
	hotFirst    = 2 // accounts 2..4 are rich and busy
	coldFirst   = 5 // 5..31 hold little
	freshFirst  = 32
	castSize    = 48 // 32..47 start empty: links of chains
)

// metaRun is one seed's chain, executed sequentially (the reference) and by
// parallel executors.
type metaRun struct {
	t     *testing.T
	seed  uint64
	rng   *rand.Rand
	seq   *execution.Executor
	par   map[int]*execution.Executor // by workers
	state *exectest.State
	accts []*exectest.Account

	height          uint64
	hash, stateHash types.Hash

	// mayFallBack is set for a block that may rightly run sequentially:
	// one that may credit a key where the sum overflows or that holds a
	// value that is not a counter.
	mayFallBack bool
	// parallel and fellBack count the parallel executions that ran in
	// parallel and those that rightly ran sequentially.
	parallel, fellBack int
	// chain holds the hops still to make: each moves what the previous
	// one brought.
	chain []hop
	// requests are the hot merchant's payment requests so far; payments
	// its payments so far; added counts merchants added by transactions.
	requests []types.Hash
	payments []paidAt
	added    int
	// unpaid are merchants added by transactions and not yet paid.
	unpaid []string
	// unpredictable is set for a block that may hold calls no Predictor
	// can declare (refunds, payments that do not name the owner).
	unpredictable bool
}

type hop struct {
	from, to int
	amount   uint64
}

func newMetaRun(t *testing.T, seed uint64) *metaRun {
	m := &metaRun{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x5eed)), par: map[int]*execution.Executor{}}
	var err error
	m.seq, err = execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 1}, token.New(), tally{}, pay.New())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 4, 8} {
		ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: w}, tally{}, token.New(), pay.New())
		if err != nil {
			t.Fatal(err)
		}
		if w != 2 {
			ex.SetMinParallel(1) // small blocks too; workers=2 keeps the real threshold
		}
		m.par[w] = ex
	}
	keys := metaKeys()
	var alloc []token.Alloc
	for i := range castSize {
		a := keys[i] // a copy: nonces start at 0
		m.accts = append(m.accts, &a)
		var amount uint64
		switch {
		case i < coldFirst:
			amount = 1_000_000 + m.rng.Uint64N(1000)
		case i < freshFirst:
			amount = m.rng.Uint64N(300)
		}
		alloc = append(alloc, token.Alloc{Address: a.Address, Amount: amount})
	}
	gw, err := token.Genesis(m.accts[issuerIdx].Address, alloc)
	if err != nil {
		t.Fatal(err)
	}
	// The hot merchant is paid to the merchant account, which also pays
	// others; a cold one to a cold account.
	for _, mc := range []struct {
		id    string
		owner int
	}{{"hot", merchantIdx}, {"cold", coldFirst + 1}} {
		w, err := pay.GenesisMerchant(mc.id, mc.id, m.accts[mc.owner].Address)
		if err != nil {
			t.Fatal(err)
		}
		gw = append(gw, w)
	}
	g, err := m.seq.Genesis(1000, gw)
	if err != nil {
		t.Fatal(err)
	}
	m.state = exectest.NewState(g.Writes)
	m.hash, m.stateHash = g.Hash, g.StateHash
	if seed%5 == 0 {
		// State no transaction could make: a balance that overflows when
		// credited, so the parallel run must notice and fall back.
		m.state.Set(token.BalanceKey(m.accts[coldFirst].Address), binary.BigEndian.AppendUint64(nil, math.MaxUint64-5))
	}
	return m
}

func (m *metaRun) pick(lo, hi int) int { return lo + m.rng.IntN(hi-lo) }

// anyone is any account, mostly hot or merchant ones.
func (m *metaRun) anyone() int {
	switch m.rng.IntN(4) {
	case 0:
		return m.pick(hotFirst, coldFirst)
	case 1:
		return merchantIdx
	}
	return m.pick(0, castSize)
}

func (m *metaRun) transfer(from, to int, amount uint64) *types.Tx {
	return m.accts[from].Tx(token.Name, token.MethodTransfer, tokencall.Transfer(m.accts[to].Address, amount))
}

// withNonce signs a call from a with the given nonce and leaves a's nonce
// alone.
func (m *metaRun) withNonce(a int, nonce uint64, body *pb.TxPayload) *types.Tx {
	body.Nonce = nonce
	return m.accts[a].TxWith(body)
}

func (m *metaRun) tallyKey() string {
	if m.rng.IntN(3) == 0 {
		return fmt.Sprintf("cold%d", m.rng.IntN(20))
	}
	return fmt.Sprintf("hot%d", m.rng.IntN(3))
}

// paidAt is a payment and its place, which a refund names.
type paidAt struct {
	id types.Hash
	at paycall.Place
}

// payTx draws a call of the pay contract: mostly payments to the hot
// merchant, with and without its requests, and some that fail.
func (m *metaRun) payTx() *types.Tx {
	hot := m.accts[merchantIdx].Address
	amount := 1 + m.rng.Uint64N(200)
	payer := m.pick(hotFirst, freshFirst)
	call := func(from int, method string, args []byte) *types.Tx {
		return m.accts[from].Tx(paycall.Name, method, args)
	}
	switch r := m.rng.IntN(100); {
	case r < 50:
		return call(payer, paycall.MethodPay, paycall.Pay(types.Hash{}, "hot", amount, hot))
	case r < 58:
		return call(payer, paycall.MethodPay, paycall.Pay(types.Hash{}, "cold", amount, m.accts[coldFirst+1].Address))
	case r < 66:
		return call(merchantIdx, paycall.MethodRequest, paycall.Request("hot", amount, 1000*(m.height+3), ""))
	case r < 78 && len(m.requests) > 0: // some twice, some expired
		req := m.requests[m.rng.IntN(len(m.requests))]
		return call(payer, paycall.MethodPay, paycall.Pay(req, "hot", 0, hot))
	case r < 82: // a stale owner: fails
		return call(payer, paycall.MethodPay, paycall.Pay(types.Hash{}, "hot", amount, m.accts[0].Address))
	case r < 85: // unknown merchant
		return call(payer, paycall.MethodPay, paycall.Pay(types.Hash{}, "ghost", amount, hot))
	case r < 88: // a merchant added in this block and paid in it
		m.added++
		id := "new" + strconv.Itoa(m.added)
		m.unpaid = append(m.unpaid, id)
		return call(issuerIdx, paycall.MethodAddMerchant, paycall.AddMerchant(id, id, m.accts[freshFirst].Address))
	case r < 94 && m.unpredictable && len(m.payments) > 0: // cannot be predicted
		p := m.payments[m.rng.IntN(len(m.payments))]
		return call(merchantIdx, paycall.MethodRefund, paycall.Refund(p.id, p.at, 1+m.rng.Uint64N(60)))
	case r < 97 && m.unpredictable:
		return call(payer, paycall.MethodPay, paycall.Pay(types.Hash{}, "hot", amount, types.Address{}))
	}
	return call(payer, paycall.MethodPay, paycall.Pay(types.Hash{}, "hot", 1_000_000_000, hot)) // insufficient
}

// tx draws the next transaction of a block.
func (m *metaRun) tx() *types.Tx {
	if len(m.unpaid) > 0 && m.rng.IntN(2) == 0 {
		id := m.unpaid[0]
		m.unpaid = m.unpaid[1:]
		return m.accts[m.pick(hotFirst, coldFirst)].Tx(paycall.Name, paycall.MethodPay,
			paycall.Pay(types.Hash{}, id, 1+m.rng.Uint64N(9), m.accts[freshFirst].Address))
	}
	if m.rng.IntN(4) == 0 {
		return m.payTx()
	}
	if len(m.chain) > 0 && m.rng.IntN(4) == 0 {
		h := m.chain[0]
		m.chain = m.chain[1:]
		return m.transfer(h.from, h.to, h.amount)
	}
	amount := func() uint64 { return 1 + m.rng.Uint64N(200) }
	switch r := m.rng.IntN(100); {
	case r < 30: // the hot merchant is paid
		return m.transfer(m.pick(hotFirst, freshFirst), merchantIdx, amount())
	case r < 36: // and pays
		return m.transfer(merchantIdx, m.pick(0, castSize), amount())
	case r < 50:
		return m.transfer(m.anyone(), m.anyone(), amount())
	case r < 53: // a chain through accounts that start empty
		a := amount()
		from := m.pick(hotFirst, coldFirst)
		links := 2 + m.rng.IntN(3)
		for range links {
			to := m.pick(freshFirst, castSize)
			m.chain = append(m.chain, hop{from, to, a})
			from = to
		}
		h := m.chain[0]
		m.chain = m.chain[1:]
		return m.transfer(h.from, h.to, h.amount)
	case r < 56:
		a := m.anyone()
		return m.transfer(a, a, amount())
	case r < 59: // insufficient balance
		return m.transfer(m.pick(coldFirst, castSize), m.anyone(), 1000+amount())
	case r < 61:
		return m.accts[m.anyone()].Tx(token.Name, token.MethodTransfer, []byte{0xff, 0x01})
	case r < 62:
		return m.transfer(m.anyone(), m.anyone(), 0)
	case r < 64: // wrong nonce: invalid, nothing moves
		a := m.anyone()
		n := m.accts[a].Nonce + 1 + m.rng.Uint64N(3)
		if m.accts[a].Nonce > 0 && m.rng.IntN(2) == 0 {
			n = m.accts[a].Nonce - 1
		}
		return m.withNonce(a, n, &pb.TxPayload{Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(m.accts[merchantIdx].Address, 1)})
	case r < 65: // invalid whatever the state
		a := m.anyone()
		body := &pb.TxPayload{Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(m.accts[merchantIdx].Address, 1)}
		if m.rng.IntN(2) == 0 {
			body.ChainId = "other-chain"
		} else {
			body.ExpiresAt = 1
		}
		return m.withNonce(a, m.accts[a].Nonce, body)
	case r < 70:
		return m.accts[issuerIdx].Tx(token.Name, token.MethodMint, tokencall.Mint(m.accts[m.anyone()].Address, amount()))
	case r < 72:
		return m.accts[m.anyone()].Tx(token.Name, token.MethodMint, tokencall.Mint(m.accts[merchantIdx].Address, amount()))
	case r < 75:
		return m.accts[issuerIdx].Tx(token.Name, token.MethodBurn, tokencall.Burn(amount()*m.rng.Uint64N(20000)))
	case r < 76:
		return m.accts[m.anyone()].Tx(token.Name, token.MethodBurn, tokencall.Burn(1))
	case r < 77:
		return m.accts[m.anyone()].Tx(token.Name, "approve", nil)
	case r < 78:
		return m.accts[m.anyone()].Tx("nope", "x", nil)
	}
	// The tally contract: credits and exclusive uses of shared counters.
	methods := []string{"add", "add", "add", "add2", "addfail", "addx", "double", "reset"}
	method := methods[m.rng.IntN(len(methods))]
	key, n := m.tallyKey(), amount()
	switch m.rng.IntN(30) {
	case 0:
		return m.accts[m.anyone()].Tx("tally", method, []byte("no equals sign"))
	case 1, 2:
		if !m.mayFallBack {
			break
		}
		// Keys where credits overflow or meet a value that is not a counter.
		key = fmt.Sprintf("edge%d", m.rng.IntN(2))
		switch m.rng.IntN(3) {
		case 0:
			n = math.MaxUint64 - m.rng.Uint64N(3)
		case 1:
			method = "setstr"
		}
	}
	return m.accts[m.anyone()].Tx("tally", method, fmt.Appendf(nil, "%s=%d", key, n))
}

func (m *metaRun) block(size int) {
	m.t.Helper()
	// A balance that overflows, or keys that break credits.
	m.mayFallBack = m.seed%5 == 0 || m.rng.IntN(4) == 0
	m.unpredictable = m.rng.IntN(10) == 0
	m.mayFallBack = m.mayFallBack || m.unpredictable
	txs := make([]*types.Tx, size)
	for i := range txs {
		txs[i] = m.tx()
	}
	in := &execution.BlockInput{
		Height:        m.height + 1,
		Time:          1000 * (m.height + 2),
		PrevHash:      m.hash,
		PrevStateHash: m.stateHash,
		Proposer:      []byte("node-1"),
		Txs:           txs,
	}
	want, err := m.seq.Execute(m.state, in)
	if err != nil {
		m.t.Fatalf("seed %d, block %d: sequential: %v", m.seed, in.Height, err)
	}
	wantBytes := resultBytes(want)
	for _, w := range []int{2, 4, 8} {
		got, err := m.par[w].Execute(m.state, in)
		if err != nil {
			m.t.Fatalf("seed %d, block %d, %d workers: %v", m.seed, in.Height, w, err)
		}
		if !bytes.Equal(resultBytes(got), wantBytes) {
			m.t.Fatalf("seed %d, block %d of %d txs, %d workers (%+v): result differs from sequential execution\n%s",
				m.seed, in.Height, size, w, got.Stats, firstDifference(want, got))
		}
		switch st := got.Stats; {
		case size < 64 && w == 2: // sequential by design: a small block
		case st.Fallback == "":
			m.parallel++
		case m.mayFallBack || strings.Contains(st.Fallback, "nothing to run in parallel"):
			m.fellBack++
		default:
			m.t.Fatalf("seed %d, block %d, %d workers: fell back to sequential: %s", m.seed, in.Height, w, st.Fallback)
		}
	}
	for i, rc := range want.Receipts {
		if rc.Status != pb.TxStatus_TX_STATUS_OK || txs[i].Body.Contract != paycall.Name {
			continue
		}
		switch txs[i].Body.Method {
		case paycall.MethodRequest:
			m.requests = append(m.requests, txs[i].ID)
		case paycall.MethodPay:
			at, _ := pay.PaymentPlace(paycall.Name, paycall.MethodPay, txs[i].Body.Args, in.Height, in.Time, uint32(i))
			m.payments = append(m.payments, paidAt{txs[i].ID, at})
		}
	}
	m.state.Apply(want.Writes)
	m.height++
	m.hash, m.stateHash = want.Hash, want.StateHash
}

// firstDifference describes where two results of one block part.
func firstDifference(want, got *execution.Result) string {
	for i := range want.Receipts {
		if i >= len(got.Receipts) {
			return fmt.Sprintf("receipt %d missing", i)
		}
		if a, b := types.EncodeReceipt(want.Receipts[i]), types.EncodeReceipt(got.Receipts[i]); !bytes.Equal(a, b) {
			return fmt.Sprintf("receipt %d: want %v, got %v", i, want.Receipts[i], got.Receipts[i])
		}
	}
	for i := range want.Writes {
		if i >= len(got.Writes) {
			return fmt.Sprintf("write %d (%q) missing", i, want.Writes[i].Key)
		}
		if w, g := want.Writes[i], got.Writes[i]; !bytes.Equal(w.Key, g.Key) || !bytes.Equal(w.Value, g.Value) || w.Delete != g.Delete {
			return fmt.Sprintf("write %d: want %q=%x (delete %v), got %q=%x (delete %v)", i, w.Key, w.Value, w.Delete, g.Key, g.Value, g.Delete)
		}
	}
	if len(got.Writes) != len(want.Writes) {
		return fmt.Sprintf("%d writes, want %d", len(got.Writes), len(want.Writes))
	}
	return fmt.Sprintf("write-set hash %s, want %s", got.WriteSetHash, want.WriteSetHash)
}

// TestParallelMatchesSequential is the metamorphic test of parallel
// execution: random chains of blocks (a hot merchant paid by most
// transactions and paying others, chains of transfers through empty
// accounts inside one block, failures and invalid transactions mid-block,
// mints and burns, credits and exclusive uses of shared counters) run with
// 1 worker and with 2, 4 and 8, and every result must be byte-identical:
// header, hash, receipts, writes and hashes. A failure names its seed.
func TestParallelMatchesSequential(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	parallel, fellBack := 0, 0
	for seed := range uint64(seeds) {
		m := newMetaRun(t, seed)
		for range 4 {
			size := 1 + m.rng.IntN(300)
			if m.rng.IntN(3) == 0 {
				size = 64 + m.rng.IntN(40)
			}
			m.block(size)
		}
		parallel, fellBack = parallel+m.parallel, fellBack+m.fellBack
	}
	t.Logf("%d executions ran in parallel, %d rightly fell back", parallel, fellBack)
	if parallel < 2*fellBack {
		t.Errorf("only %d of %d executions that could run in parallel did: the test no longer compares much", parallel, parallel+fellBack)
	}
}

// liar predicts wrongly in the ways its methods name; "honest" declares
// and touches many keys, more than a short scan covers.
type liar struct{}

func (liar) Name() string { return "liar" }

func (liar) Predict(acc *execution.AccessList, _ types.Address, method string, _ []byte) bool {
	switch method {
	case "credit-read", "credit-set", "peek":
		acc.Credit([]byte("k"))
	case "shared-read", "read-set":
		acc.Read([]byte("k"))
	case "honest":
		for i := range 20 {
			acc.Exclusive(fmt.Appendf(nil, "x%d", i))
			acc.Credit(fmt.Appendf(nil, "c%d", i))
		}
		acc.Credit([]byte("x3")) // declared both ways: exclusive
	case "cannot":
		return false
	}
	return true
}

func (liar) Call(ctx *execution.Context, method string, _ []byte) error {
	switch method {
	case "write", "credit-set", "read-set":
		ctx.Set([]byte("k"), []byte("v"))
	case "read", "credit-read", "shared-read":
		if _, err := ctx.Get([]byte("k")); err != nil {
			return err
		}
	case "add":
		return ctx.AddUint64([]byte("k"), 1)
	case "peek":
		if err := ctx.AddUint64([]byte("k"), 1); err != nil {
			return err
		}
		ctx.WriteSet()
	case "panic":
		panic("liar panics")
	case "honest":
		for i := range 20 {
			v, err := ctx.Get(fmt.Appendf(nil, "x%d", i))
			if err != nil {
				return err
			}
			ctx.Set(fmt.Appendf(nil, "x%d", i), append(v, 'x'))
			if err := ctx.AddUint64(fmt.Appendf(nil, "c%d", i), uint64(i+1)); err != nil {
				return err
			}
		}
		return ctx.AddUint64([]byte("x3"), 1) // the value is not a counter
	}
	return nil
}

// bothWays executes one block with 1 worker and with 4, checks that the
// results are identical and returns the parallel one.
func bothWays(t *testing.T, state execution.StateReader, in *execution.BlockInput, contracts ...func() execution.Contract) *execution.Result {
	t.Helper()
	results := make([]*execution.Result, 2)
	for i, w := range []int{1, 4} {
		var cs []execution.Contract
		for _, c := range contracts {
			cs = append(cs, c())
		}
		ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: w}, cs...)
		if err != nil {
			t.Fatal(err)
		}
		if results[i], err = ex.Execute(state, in); err != nil {
			t.Fatalf("%d workers: %v", w, err)
		}
	}
	if !bytes.Equal(resultBytes(results[0]), resultBytes(results[1])) {
		t.Fatalf("4 workers (%+v) and 1 give different results:\n%s", results[1].Stats, firstDifference(results[0], results[1]))
	}
	return results[1]
}

// TestFallbackKeepsResults checks that blocks the parallel path cannot run,
// or must abandon, give the sequential result: a contract without a
// Predictor, one that cannot predict a call, and predictions that turn out
// wrong while the block runs.
func TestFallbackKeepsResults(t *testing.T) {
	for _, tc := range []struct {
		contract, method string
		fallback         string // a part of Stats.Fallback; empty: ran in parallel
	}{
		{"kv", "set", `contract "kv" does not predict its accesses`},
		{"liar", "cannot", `contract "liar" cannot predict transaction`},
		{"liar", "write", `wrote "c/liar/k", which it did not declare`},
		{"liar", "read", `read "c/liar/k", which it did not declare`},
		{"liar", "add", `added to "c/liar/k", which it did not declare`},
		{"liar", "credit-read", `read "c/liar/k", which it declared as a credit`},
		{"liar", "credit-set", `wrote "c/liar/k", which it declared as a credit`},
		{"liar", "peek", "looked at its credits through WriteSet"},
		{"liar", "read-set", `wrote "c/liar/k", which it declared as read only`},
		{"liar", "shared-read", ""},
		{"liar", "honest", ""},
	} {
		t.Run(tc.contract+"/"+tc.method, func(t *testing.T) {
			w := newWorld(t, 40)
			var txs []*types.Tx
			for i := range 100 {
				if i == 70 || i == 80 {
					txs = append(txs, w.accts[i%40].Tx(tc.contract, tc.method, []byte("k=v")))
					continue
				}
				txs = append(txs, w.transfer(i%40, (i*7+3)%40, uint64(i+1)))
			}
			res := bothWays(t, w.state, w.input(txs...),
				func() execution.Contract { return token.New() },
				func() execution.Contract { return &kv{} },
				func() execution.Contract { return liar{} })
			switch {
			case tc.fallback == "" && (res.Stats.Fallback != "" || res.Stats.Workers < 2):
				t.Errorf("block ran sequentially (%+v), want parallel", res.Stats)
			case !strings.Contains(res.Stats.Fallback, tc.fallback):
				t.Errorf("Stats.Fallback = %q, want it to say %q", res.Stats.Fallback, tc.fallback)
			}
			if tc.fallback != "" && res.Stats.Workers != 1 {
				t.Errorf("Stats.Workers = %d after a fallback, want 1", res.Stats.Workers)
			}
		})
	}
}

// TestParallelPanicReachesCaller checks that a contract's panic in a
// worker reaches Execute's caller, as it does when the block runs
// sequentially, rather than ending the process.
func TestParallelPanicReachesCaller(t *testing.T) {
	w := newWorld(t, 20)
	var txs []*types.Tx
	for i := range 100 {
		txs = append(txs, w.transfer(i%20, (i+1)%20, 1))
	}
	txs = append(txs, w.accts[3].Tx("liar", "panic", nil))
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 4}, token.New(), liar{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if p := recover(); p != "liar panics" {
			t.Errorf("recovered %v, want the contract's panic", p)
		}
	}()
	ex.Execute(w.state, w.input(txs...))
	t.Error("Execute returned; want the contract's panic")
}

// TestParallelStateErrors checks that a state read error aborts a parallel
// block as it does a sequential one.
func TestParallelStateErrors(t *testing.T) {
	w := newWorld(t, 20)
	var txs []*types.Tx
	for i := range 100 {
		txs = append(txs, w.transfer(i%20, (i+1)%20, 1))
	}
	for _, key := range [][]byte{token.BalanceKey(w.accts[7].Address), execution.NonceKey(w.accts[3].Address)} {
		ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 4}, token.New())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ex.Execute(failingState{w.state, string(key)}, w.input(txs...)); !errors.Is(err, errDisk) {
			t.Errorf("Execute with %q unreadable: err = %v, want %v", key, err, errDisk)
		}
	}
}

// TestHotMerchantDoesNotSerialise checks the point of credits: a block in
// which most transfers pay one merchant, who also pays suppliers along the
// way, still splits into many small groups, and the merchant's payments see
// every credit before them.
func TestHotMerchantDoesNotSerialise(t *testing.T) {
	w := newWorld(t, 300)
	rng := rand.New(rand.NewPCG(7, 7))
	var txs []*types.Tx
	for i := range 1000 {
		switch {
		case i%200 == 199: // the merchant spends more than it started with
			txs = append(txs, w.transfer(1, 2+rng.IntN(298), 1000+uint64(i)))
		case rng.IntN(5) < 4:
			txs = append(txs, w.transfer(2+rng.IntN(298), 1, 1+rng.Uint64N(50)))
		default:
			txs = append(txs, w.transfer(2+rng.IntN(298), 2+rng.IntN(298), 1+rng.Uint64N(50)))
		}
	}
	res := bothWays(t, w.state, w.input(txs...), func() execution.Contract { return token.New() })
	if st := res.Stats; st.Workers != 4 || st.Groups < 250 || st.LargestGroup > 20 {
		t.Errorf("stats = %+v; want 4 workers and the block in hundreds of small groups", st)
	}
	for i, r := range res.Receipts {
		if r.Status != pb.TxStatus_TX_STATUS_OK {
			t.Errorf("receipt %d = %v %q, want OK", i, r.Status, r.Message)
		}
	}
}

// TestHotMerchantPaymentsDoNotSerialise is the same for the pay contract:
// a block in which most transactions pay one merchant (each reading the
// merchant, crediting its owner, and writing its own payment and
// statement entry) still splits into many small groups,
// and the day's statement counts every payment.
func TestHotMerchantPaymentsDoNotSerialise(t *testing.T) {
	w := newWorld(t, 300)
	owner := w.accts[1].Address
	mw, err := pay.GenesisMerchant("hot", "Hot", owner)
	if err != nil {
		t.Fatal(err)
	}
	w.state.Apply([]execution.Write{mw})
	rng := rand.New(rand.NewPCG(8, 8))
	var txs []*types.Tx
	var sum uint64
	for range 1000 {
		payer := 2 + rng.IntN(298)
		if rng.IntN(5) < 4 {
			a := 1 + rng.Uint64N(3)
			sum += a
			txs = append(txs, w.accts[payer].Tx(paycall.Name, paycall.MethodPay, paycall.Pay(types.Hash{}, "hot", a, owner)))
		} else {
			txs = append(txs, w.transfer(payer, 2+rng.IntN(298), 1+rng.Uint64N(3)))
		}
	}
	in := w.input(txs...)
	res := bothWays(t, w.state, in, func() execution.Contract { return token.New() }, func() execution.Contract { return pay.New() })
	if st := res.Stats; st.Workers != 4 || st.Groups < 250 || st.LargestGroup > 20 {
		t.Errorf("stats = %+v; want 4 workers and the block in hundreds of small groups", st)
	}
	for i, r := range res.Receipts {
		if r.Status != pb.TxStatus_TX_STATUS_OK {
			t.Errorf("receipt %d = %v %q, want OK", i, r.Status, r.Message)
		}
	}
	w.state.Apply(res.Writes)
	var es []pay.EntryAt
	lo, hi := pay.EntryBounds("hot", paycall.Day(in.Time))
	for _, k := range w.state.Keys() {
		if k >= string(lo) && k < string(hi) {
			v, _ := w.state.Get([]byte(k))
			e, err := pay.DecodeEntry([]byte(k), v)
			if err != nil {
				t.Fatal(err)
			}
			es = append(es, e)
		}
	}
	ps, _, err := pay.DayTotals(es)
	if err != nil || ps.Sum != sum || ps.Count == 0 {
		t.Errorf("day totals %v, %v; want a sum of %d", ps, err, sum)
	}
}
