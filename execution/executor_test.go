package execution_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

const chainID = "test-chain"

var cfg = execution.Config{ChainID: chainID, Hash: crypto.SHA256}

// kv is a contract for testing the executor. Args are "k=v" pairs separated
// by ';'. It keeps the read and write sets of its last call.
type kv struct {
	reads  [][]byte
	writes []execution.Write
}

func (*kv) Name() string { return "kv" }

func (c *kv) Call(ctx *execution.Context, method string, args []byte) (err error) {
	defer func() {
		c.reads = cloneKeys(ctx.ReadSet())
		c.writes = nil
		for _, w := range ctx.WriteSet() {
			c.writes = append(c.writes, execution.Write{Key: bytes.Clone(w.Key), Value: bytes.Clone(w.Value), Delete: w.Delete})
		}
	}()
	pairs := func() [][2]string {
		var ps [][2]string
		for p := range strings.SplitSeq(string(args), ";") {
			k, v, _ := strings.Cut(p, "=")
			ps = append(ps, [2]string{k, v})
		}
		return ps
	}
	switch method {
	case "set", "fail":
		for _, p := range pairs() {
			ctx.Set([]byte(p[0]), []byte(p[1]))
		}
		ctx.Emit(method, &pb.Attribute{Key: "n", Value: fmt.Sprint(len(pairs()))})
		if method == "fail" {
			return errors.New("boom")
		}
	case "del":
		ctx.Delete(args)
	case "copy": // "src=dst": dst gets src's value, or "absent"
		for _, p := range pairs() {
			v, err := ctx.Get([]byte(p[0]))
			if err != nil {
				return err
			}
			if v == nil {
				v = []byte("absent")
			}
			ctx.Set([]byte(p[1]), v)
		}
	case "probe": // own writes are visible to the writer
		ctx.Set([]byte("p"), []byte("1"))
		if v, _ := ctx.Get([]byte("p")); string(v) != "1" {
			return fmt.Errorf("after Set, Get = %q", v)
		}
		ctx.Delete([]byte("p"))
		if v, _ := ctx.Get([]byte("p")); v != nil {
			return fmt.Errorf("after Delete, Get = %q", v)
		}
		ctx.Set([]byte("empty"), nil)
		if v, _ := ctx.Get([]byte("empty")); v == nil || len(v) != 0 {
			return fmt.Errorf("after Set(nil), Get = %#v, want empty and not nil", v)
		}
	case "big":
		ctx.Set([]byte("big"), make([]byte, execution.MaxValueLen+1))
	case "env":
		ctx.Emit("env", &pb.Attribute{Key: "height", Value: fmt.Sprint(ctx.Height())},
			&pb.Attribute{Key: "time", Value: fmt.Sprint(ctx.Time())},
			&pb.Attribute{Key: "sender", Value: ctx.Sender().String()},
			&pb.Attribute{Key: "contract", Value: ctx.Contract()})
	default:
		return fmt.Errorf("%w: %q", execution.ErrUnknownMethod, method)
	}
	return nil
}

func cloneKeys(ks [][]byte) [][]byte {
	var out [][]byte
	for _, k := range ks {
		out = append(out, bytes.Clone(k))
	}
	return out
}

// world is a chain under test: an executor, committed state and accounts.
type world struct {
	t     *testing.T
	ex    *execution.Executor
	kv    *kv
	state *exectest.State
	accts []*exectest.Account
	// the last committed block
	height    uint64
	hash      types.Hash
	stateHash types.Hash
}

// newWorld starts a chain with n accounts; account 0 is the token issuer
// and every account holds 1000 tokens.
func newWorld(t *testing.T, n int) *world {
	t.Helper()
	w := &world{t: t, kv: &kv{}}
	var err error
	w.ex, err = execution.New(cfg, token.New(), w.kv)
	if err != nil {
		t.Fatal(err)
	}
	var alloc []token.Alloc
	for i := range n {
		a := exectest.NewAccount(crypto.Ed25519, uint64(i), chainID, crypto.SHA256)
		w.accts = append(w.accts, a)
		alloc = append(alloc, token.Alloc{Address: a.Address, Amount: 1000})
	}
	gw, err := token.Genesis(w.accts[0].Address, alloc)
	if err != nil {
		t.Fatal(err)
	}
	g, err := w.ex.Genesis(1000, gw)
	if err != nil {
		t.Fatal(err)
	}
	w.state = exectest.NewState(g.Writes)
	w.hash, w.stateHash = g.Hash, g.StateHash
	return w
}

func (w *world) input(txs ...*types.Tx) *execution.BlockInput {
	return &execution.BlockInput{
		Height:        w.height + 1,
		Time:          1000 * (w.height + 2),
		PrevHash:      w.hash,
		PrevStateHash: w.stateHash,
		Proposer:      []byte("node-1"),
		Txs:           txs,
	}
}

// block executes txs as the next block and commits the result.
func (w *world) block(txs ...*types.Tx) *execution.Result {
	w.t.Helper()
	res, err := w.ex.Execute(w.state, w.input(txs...))
	if err != nil {
		w.t.Fatalf("Execute: %v", err)
	}
	w.state.Apply(res.Writes)
	w.height++
	w.hash, w.stateHash = res.Hash, res.StateHash
	return res
}

func (w *world) nonce(i int) uint64 {
	w.t.Helper()
	n, err := execution.Nonce(w.state, w.accts[i].Address)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) balance(i int) uint64 {
	w.t.Helper()
	b, err := token.Balance(w.state, w.accts[i].Address)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

func (w *world) transfer(from, to int, amount uint64) *types.Tx {
	return w.accts[from].Tx(token.Name, token.MethodTransfer, tokencall.Transfer(w.accts[to].Address, amount))
}

func wantStatus(t *testing.T, res *execution.Result, i int, status pb.TxStatus, msgPrefix string) {
	t.Helper()
	r := res.Receipts[i]
	if r.Status != status || !strings.HasPrefix(r.Message, msgPrefix) {
		t.Errorf("receipt %d = %v %q, want %v with a message starting %q", i, r.Status, r.Message, status, msgPrefix)
	}
}

var emptyWriteSet = types.Hash(crypto.SHA256.Sum())

func TestNewRejectsBadContracts(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  execution.Config
		cs   []execution.Contract
	}{
		{"duplicate", cfg, []execution.Contract{token.New(), token.New()}},
		{"nil", cfg, []execution.Contract{nil}},
		{"slash", cfg, []execution.Contract{named("a/b")}},
		{"empty name", cfg, []execution.Contract{named("")}},
		{"no chain id", execution.Config{Hash: crypto.SHA256}, nil},
		{"bad hash", execution.Config{ChainID: "c", Hash: 9}, nil},
	} {
		if _, err := execution.New(tc.cfg, tc.cs...); err == nil {
			t.Errorf("%s: New succeeded, want an error", tc.name)
		}
	}
	if _, err := execution.New(cfg, token.New(), named("other")); err != nil {
		t.Errorf("New with distinct contracts: %v", err)
	}
}

type named string

func (n named) Name() string                                { return string(n) }
func (named) Call(*execution.Context, string, []byte) error { return nil }

func TestBadNonceIsInvalidAndChangesNothing(t *testing.T) {
	w := newWorld(t, 2)
	w.block(w.transfer(0, 1, 1), w.transfer(0, 1, 1)) // nonce of 0 is now 2
	a := w.accts[0]
	stale := a.TxWith(&pb.TxPayload{Nonce: 1, Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(w.accts[1].Address, 5)})
	future := a.TxWith(&pb.TxPayload{Nonce: 3, Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(w.accts[1].Address, 5)})
	before := w.state.Clone()
	res := w.block(stale, future)
	wantStatus(t, res, 0, pb.TxStatus_TX_STATUS_INVALID, "nonce 1, expected 2")
	wantStatus(t, res, 1, pb.TxStatus_TX_STATUS_INVALID, "nonce 3, expected 2")
	if len(res.Writes) != 0 || res.WriteSetHash != emptyWriteSet {
		t.Errorf("invalid transactions wrote %d keys, write-set hash %s; want none and the hash of nothing", len(res.Writes), res.WriteSetHash)
	}
	if got, want := w.state.Keys(), before.Keys(); !slices.Equal(got, want) {
		t.Errorf("state keys changed by invalid transactions")
	}
	if w.nonce(0) != 2 || w.balance(0) != 998 {
		t.Errorf("after invalid txs: nonce %d balance %d, want 2 and 998", w.nonce(0), w.balance(0))
	}
	if len(res.Receipts[0].Events) != 0 {
		t.Errorf("invalid receipt has events")
	}
}

func TestFailedMovesOnlyNonce(t *testing.T) {
	w := newWorld(t, 2)
	res := w.block(
		w.transfer(1, 0, 5000),
		w.accts[1].Tx("kv", "fail", []byte("x=1;y=2")),
	)
	wantStatus(t, res, 0, pb.TxStatus_TX_STATUS_FAILED, "insufficient balance: have 1000, need 5000")
	wantStatus(t, res, 1, pb.TxStatus_TX_STATUS_FAILED, "boom")
	nk := execution.NonceKey(w.accts[1].Address)
	if len(res.Writes) != 1 || !bytes.Equal(res.Writes[0].Key, nk) || binary.BigEndian.Uint64(res.Writes[0].Value) != 2 {
		t.Errorf("writes = %v, want only the sender's nonce = 2", res.Writes)
	}
	for i, r := range res.Receipts {
		if len(r.Events) != 0 {
			t.Errorf("failed receipt %d kept %d events", i, len(r.Events))
		}
	}
	if w.nonce(1) != 2 || w.balance(1) != 1000 {
		t.Errorf("nonce %d balance %d, want 2 and 1000", w.nonce(1), w.balance(1))
	}
	// The executed-but-failed transactions are in the write-set hash.
	if res.WriteSetHash == emptyWriteSet {
		t.Error("failed transactions left the write-set hash empty; their nonce writes count")
	}
}

func TestExpiryAndChainID(t *testing.T) {
	w := newWorld(t, 2)
	in := w.input()
	a := w.accts[0]
	args := tokencall.Transfer(w.accts[1].Address, 1)
	expired := a.TxWith(&pb.TxPayload{Nonce: 0, ExpiresAt: in.Time - 1, Contract: token.Name, Method: token.MethodTransfer, Args: args})
	other := a.TxWith(&pb.TxPayload{Nonce: 0, ChainId: "other", Contract: token.Name, Method: token.MethodTransfer, Args: args})
	atLimit := a.TxWith(&pb.TxPayload{Nonce: 0, ExpiresAt: in.Time, Contract: token.Name, Method: token.MethodTransfer, Args: args})
	res := w.block(expired, other, atLimit)
	wantStatus(t, res, 0, pb.TxStatus_TX_STATUS_INVALID, fmt.Sprintf("expired at %d, block time %d", in.Time-1, in.Time))
	wantStatus(t, res, 1, pb.TxStatus_TX_STATUS_INVALID, `wrong chain id "other"`)
	wantStatus(t, res, 2, pb.TxStatus_TX_STATUS_OK, "")
	if w.nonce(0) != 1 {
		t.Errorf("nonce = %d, want 1 (only the unexpired tx executed)", w.nonce(0))
	}
}

func TestUnknownContractFailsAndMovesNonce(t *testing.T) {
	w := newWorld(t, 1)
	res := w.block(w.accts[0].Tx("nope", "x", nil), w.accts[0].Tx("kv", "nope", nil))
	wantStatus(t, res, 0, pb.TxStatus_TX_STATUS_FAILED, `unknown contract "nope"`)
	wantStatus(t, res, 1, pb.TxStatus_TX_STATUS_FAILED, `unknown method: "nope"`)
	if w.nonce(0) != 2 {
		t.Errorf("nonce = %d, want 2", w.nonce(0))
	}
}

func TestChainOfTransfersInOneBlock(t *testing.T) {
	w := newWorld(t, 4)
	// 3 starts empty: burn nothing, just move 1000 from 1 to 0 first.
	w.block(w.transfer(3, 0, 1000))
	res := w.block(
		w.transfer(1, 3, 1000), // 3 gets money it spends in the same block
		w.transfer(3, 2, 600),
		w.transfer(2, 1, 1500),
		w.transfer(1, 3, 1500),
		w.transfer(3, 0, 1900),
		w.transfer(3, 0, 1), // 3 is empty again
	)
	for i := range 5 {
		wantStatus(t, res, i, pb.TxStatus_TX_STATUS_OK, "")
	}
	wantStatus(t, res, 5, pb.TxStatus_TX_STATUS_FAILED, "insufficient balance: have 0, need 1")
	want := []uint64{2000 + 1900, 0, 100, 0}
	for i, b := range want {
		if got := w.balance(i); got != b {
			t.Errorf("balance of %d = %d, want %d", i, got, b)
		}
	}
	// Emptied balances are deleted, not stored as zero.
	for _, i := range []int{1, 3} {
		if v, _ := w.state.Get(token.BalanceKey(w.accts[i].Address)); v != nil {
			t.Errorf("balance key of %d holds %x, want it deleted", i, v)
		}
	}
	if w.nonce(3) != 4 || w.nonce(1) != 2 || w.nonce(2) != 1 {
		t.Errorf("nonces 1,2,3 = %d,%d,%d; want 2,1,4", w.nonce(1), w.nonce(2), w.nonce(3))
	}
}

func TestDeterministic(t *testing.T) {
	w := newWorld(t, 5)
	var txs []*types.Tx
	for i := range 40 {
		from, to := i%5, (i*3+1)%5
		txs = append(txs, w.transfer(from, to, uint64(i*37%900+1)))
		if i%7 == 0 {
			txs = append(txs, w.accts[from].Tx("kv", "set", fmt.Appendf(nil, "k%d=%d;j%d=x", i, i, 40-i)))
		}
		if i%9 == 0 {
			txs = append(txs, w.accts[from].Tx("kv", "fail", []byte("z=1")))
		}
	}
	in := w.input(txs...)
	a, err := w.ex.Execute(w.state, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.ex.Execute(w.state.Clone(), in)
	if err != nil {
		t.Fatal(err)
	}
	if x, y := resultBytes(a), resultBytes(b); !bytes.Equal(x, y) {
		t.Fatalf("two executions of one block differ (%d and %d bytes)", len(x), len(y))
	}
	// A fresh executor agrees too.
	ex2, err := execution.New(cfg, &kv{}, token.New())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ex2.Execute(w.state, in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resultBytes(a), resultBytes(c)) {
		t.Fatal("an executor with contracts registered in another order gives another result")
	}
}

// resultBytes serialises everything in a Result.
func resultBytes(r *execution.Result) []byte {
	var b []byte
	put := func(p []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	put(r.HeaderBytes)
	put(r.Hash[:])
	put(r.Block)
	for _, e := range r.EncodedReceipts {
		put(e)
	}
	for _, rc := range r.Receipts {
		put(types.EncodeReceipt(rc))
	}
	for _, w := range r.Writes {
		put(w.Key)
		put(w.Value)
		put([]byte(fmt.Sprint(w.Delete)))
	}
	put(r.WriteSetHash[:])
	put(r.StateHash[:])
	return b
}

func TestHeaderFields(t *testing.T) {
	w := newWorld(t, 3)
	genesisHash, genesisState := w.hash, w.stateHash
	txs := []*types.Tx{
		w.transfer(0, 1, 10),
		w.accts[1].TxWith(&pb.TxPayload{Nonce: 7, Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(w.accts[0].Address, 1)}),
		w.accts[2].Tx(token.Name, token.MethodMint, tokencall.Mint(w.accts[2].Address, 1)),
	}
	in := w.input(txs...)
	res := w.block(txs...)
	h := crypto.SHA256
	hdr := res.Header

	var ids, rleaves []types.Hash
	for i, tx := range txs {
		ids = append(ids, tx.ID)
		if !bytes.Equal(res.EncodedReceipts[i], types.EncodeReceipt(res.Receipts[i])) {
			t.Errorf("encoded receipt %d is not EncodeReceipt of receipt %d", i, i)
		}
		rleaves = append(rleaves, h.Sum(res.EncodedReceipts[i]))
	}
	txRoot, receiptRoot := types.MerkleRoot(h, ids), types.MerkleRoot(h, rleaves)

	// The write-set hash, rebuilt from the encoding documented on it:
	// tx 0 (transfer, OK) and tx 2 (mint by non-issuer, FAILED) executed.
	u32 := func(b []byte, v int) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }
	set := func(b, k, v []byte) []byte {
		b = append(u32(b, len(k)), k...)
		return append(u32(append(b, 0), len(v)), v...)
	}
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	var enc []byte
	enc = u32(u32(enc, 0), 3)
	enc = set(enc, execution.NonceKey(w.accts[0].Address), u64(1))
	enc = set(enc, token.BalanceKey(w.accts[0].Address), u64(990))
	enc = set(enc, token.BalanceKey(w.accts[1].Address), u64(1010))
	if bytes.Compare(token.BalanceKey(w.accts[0].Address), token.BalanceKey(w.accts[1].Address)) > 0 {
		t.Fatal("test assumes account 0's balance key sorts first; pick other seeds")
	}
	enc = u32(u32(enc, 2), 1)
	enc = set(enc, execution.NonceKey(w.accts[2].Address), u64(1))
	wsh := types.Hash(h.Sum(enc))
	stateHash := types.Hash(h.Sum(genesisState[:], wsh[:]))

	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"version", hdr.Version, uint32(types.HeaderVersion)},
		{"chain id", hdr.ChainId, chainID},
		{"height", hdr.Height, uint64(1)},
		{"time", hdr.Time, in.Time},
		{"prev hash", types.Hash(hdr.PrevHash), genesisHash},
		{"tx root", types.Hash(hdr.TxRoot), txRoot},
		{"receipt root", types.Hash(hdr.ReceiptRoot), receiptRoot},
		{"write set hash", types.Hash(hdr.WriteSetHash), wsh},
		{"result write set hash", res.WriteSetHash, wsh},
		{"state hash", types.Hash(hdr.StateHash), stateHash},
		{"result state hash", res.StateHash, stateHash},
		{"tx count", hdr.TxCount, uint32(3)},
		{"proposer", string(hdr.Proposer), "node-1"},
	} {
		if c.got != c.want {
			t.Errorf("header %s = %v, want %v", c.field, c.got, c.want)
		}
	}
	hash, hb, err := types.HeaderHash(h, hdr)
	if err != nil || hash != res.Hash || !bytes.Equal(hb, res.HeaderBytes) {
		t.Errorf("Hash/HeaderBytes are not HeaderHash of Header")
	}
	blk, err := types.DecodeBlock(res.Block, h)
	if err != nil {
		t.Fatalf("DecodeBlock: %v", err)
	}
	if blk.Hash != res.Hash || len(blk.Txs) != 3 || blk.Txs[2].ID != txs[2].ID {
		t.Errorf("decoded block: hash %s with %d txs, want %s with 3", blk.Hash, len(blk.Txs), res.Hash)
	}

	// The next block chains onto this one.
	res2 := w.block(w.transfer(1, 2, 5))
	if types.Hash(res2.Header.PrevHash) != res.Hash {
		t.Error("block 2's prev hash is not block 1's hash")
	}
	want := types.Hash(h.Sum(res.StateHash[:], res2.WriteSetHash[:]))
	if res2.StateHash != want || res2.Header.Height != 2 {
		t.Errorf("block 2 state hash = %s at height %d, want H(block 1 state hash || write set hash) = %s at 2", res2.StateHash, res2.Header.Height, want)
	}
}

func TestEmptyBlock(t *testing.T) {
	w := newWorld(t, 1)
	prevState := w.stateHash
	res := w.block()
	if res.Header.TxCount != 0 || !types.Hash(res.Header.TxRoot).IsZero() || !types.Hash(res.Header.ReceiptRoot).IsZero() {
		t.Errorf("empty block header: %v", res.Header)
	}
	if res.WriteSetHash != emptyWriteSet || res.StateHash != types.Hash(crypto.SHA256.Sum(prevState[:], emptyWriteSet[:])) {
		t.Error("empty block hashes are wrong")
	}
	if _, err := types.DecodeBlock(res.Block, crypto.SHA256); err != nil {
		t.Errorf("empty block does not decode: %v", err)
	}
}

func TestGenesis(t *testing.T) {
	ex, err := execution.New(cfg, token.New())
	if err != nil {
		t.Fatal(err)
	}
	ws := []execution.Write{{Key: []byte("z"), Value: []byte("2")}, {Key: []byte("a"), Value: []byte("1")}}
	g, err := ex.Genesis(42, ws)
	if err != nil {
		t.Fatal(err)
	}
	if string(g.Writes[0].Key) != "a" || string(g.Writes[1].Key) != "z" {
		t.Errorf("genesis writes not sorted: %q, %q", g.Writes[0].Key, g.Writes[1].Key)
	}
	if g.Header.Height != 0 || g.Header.Time != 42 || !types.Hash(g.Header.PrevHash).IsZero() || g.Header.TxCount != 0 {
		t.Errorf("genesis header = %v", g.Header)
	}
	enc := []byte{0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, '1', 0, 0, 0, 1, 'z', 0, 0, 0, 0, 1, '2'}
	if want := types.Hash(crypto.SHA256.Sum(enc)); g.WriteSetHash != want {
		t.Errorf("genesis write-set hash = %s, want %s (writes framed as transaction 0)", g.WriteSetHash, want)
	}
	var zero types.Hash
	if g.StateHash != types.Hash(crypto.SHA256.Sum(zero[:], g.WriteSetHash[:])) {
		t.Error("genesis state hash is not H(zero || write set hash)")
	}
	if _, err := types.DecodeBlock(g.Block, crypto.SHA256); err != nil {
		t.Errorf("genesis block does not decode: %v", err)
	}
	for name, bad := range map[string][]execution.Write{
		"duplicate": {{Key: []byte("a")}, {Key: []byte("a")}},
		"delete":    {{Key: []byte("a"), Delete: true}},
		"empty key": {{Value: []byte("a")}},
	} {
		if _, err := ex.Genesis(0, bad); err == nil {
			t.Errorf("Genesis with a %s write succeeded", name)
		}
	}
}

func TestContextRecordsReadsAndWrites(t *testing.T) {
	w := newWorld(t, 1)
	w.block(w.accts[0].Tx("kv", "set", []byte("a=1;b=2")))
	res := w.block(w.accts[0].Tx("kv", "copy", []byte("b=c;a=d;c=e;nothing=f")))
	wantStatus(t, res, 0, pb.TxStatus_TX_STATUS_OK, "")
	k := func(s string) string { return "c/kv/" + s }
	nk := string(execution.NonceKey(w.accts[0].Address))
	// c was read after this tx wrote it, so it is not a read from outside.
	if got, want := keyStrings(w.kv.reads), []string{nk, k("a"), k("b"), k("nothing")}; !slices.Equal(got, want) {
		t.Errorf("read set = %q, want %q", got, want)
	}
	var got []string
	for _, x := range w.kv.writes {
		got = append(got, fmt.Sprintf("%s=%s", x.Key, x.Value))
	}
	want := []string{nk + "=" + string(binary.BigEndian.AppendUint64(nil, 2)), k("c") + "=2", k("d") + "=1", k("e") + "=2", k("f") + "=absent"}
	if !slices.Equal(got, want) {
		t.Errorf("write set = %q, want %q", got, want)
	}
}

func TestOwnWritesAndLimits(t *testing.T) {
	w := newWorld(t, 1)
	res := w.block(
		w.accts[0].Tx("kv", "probe", nil),
		w.accts[0].Tx("kv", "big", nil),
		w.accts[0].Tx("kv", "env", nil),
	)
	wantStatus(t, res, 0, pb.TxStatus_TX_STATUS_OK, "")
	wantStatus(t, res, 1, pb.TxStatus_TX_STATUS_FAILED, execution.ErrTooLarge.Error())
	wantStatus(t, res, 2, pb.TxStatus_TX_STATUS_OK, "")
	if v, _ := w.state.Get([]byte("c/kv/empty")); v == nil || len(v) != 0 {
		t.Errorf("empty value stored as %#v, want empty and present", v)
	}
	if v, _ := w.state.Get([]byte("c/kv/p")); v != nil {
		t.Errorf("deleted key p = %q", v)
	}
	ev := res.Receipts[2].Events
	if len(ev) != 1 || ev[0].Contract != "kv" || ev[0].Name != "env" {
		t.Fatalf("events = %v", ev)
	}
	got := map[string]string{}
	for _, a := range ev[0].Attributes {
		got[a.Key] = a.Value
	}
	want := map[string]string{"height": "1", "time": "2000", "sender": w.accts[0].Address.String(), "contract": "kv"}
	if !maps.Equal(got, want) {
		t.Errorf("context seen by the contract = %v, want %v", got, want)
	}
}

func TestManyWritesInOneTx(t *testing.T) {
	w := newWorld(t, 1)
	var args []string
	for i := range 40 {
		args = append(args, fmt.Sprintf("k%02d=%d", i%25, i)) // keys 0..14 written twice
	}
	res := w.block(w.accts[0].Tx("kv", "set", []byte(strings.Join(args, ";"))))
	wantStatus(t, res, 0, pb.TxStatus_TX_STATUS_OK, "")
	if len(w.kv.writes) != 26 {
		t.Fatalf("write set has %d entries, want 25 keys and the nonce", len(w.kv.writes))
	}
	for i := range 25 {
		want := i
		if i < 15 {
			want = i + 25
		}
		if v, _ := w.state.Get(fmt.Appendf(nil, "c/kv/k%02d", i)); string(v) != fmt.Sprint(want) {
			t.Errorf("k%02d = %q, want %d (the last write wins)", i, v, want)
		}
	}
	if !slices.IsSortedFunc(res.Writes, func(a, b execution.Write) int { return bytes.Compare(a.Key, b.Key) }) {
		t.Error("Result.Writes is not sorted by key")
	}
}

// failingState fails every read of one key.
type failingState struct {
	execution.StateReader
	key string
}

var errDisk = errors.New("disk on fire")

func (f failingState) Get(k []byte) ([]byte, error) {
	if string(k) == f.key {
		return nil, errDisk
	}
	return f.StateReader.Get(k)
}

func TestStateErrorsAbortTheBlock(t *testing.T) {
	w := newWorld(t, 2)
	// The contract swallows the error; Execute must fail anyway.
	bad := failingState{w.state, string(token.BalanceKey(w.accts[1].Address))}
	if _, err := w.ex.Execute(bad, w.input(w.transfer(0, 1, 1))); !errors.Is(err, errDisk) {
		t.Errorf("Execute with an unreadable balance: err = %v, want %v", err, errDisk)
	}
	bad.key = string(execution.NonceKey(w.accts[0].Address))
	if _, err := w.ex.Execute(bad, w.input(w.transfer(0, 1, 1))); !errors.Is(err, errDisk) {
		t.Errorf("Execute with an unreadable nonce: err = %v, want %v", err, errDisk)
	}
	w.state.Set(execution.NonceKey(w.accts[0].Address), []byte{1})
	if _, err := w.ex.Execute(w.state, w.input(w.transfer(0, 1, 1))); !errors.Is(err, execution.ErrCorrupt) {
		t.Errorf("Execute with a 1-byte nonce: err = %v, want %v", err, execution.ErrCorrupt)
	}
	if _, err := w.ex.Execute(w.state, &execution.BlockInput{}); err == nil {
		t.Error("Execute at height 0 succeeded; genesis is built by Genesis")
	}
}

func keyStrings(ks [][]byte) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

// TestCheckAgreesWithSimulate: the admission check gives Simulate's
// verdict, for calls that succeed and calls that fail.
func TestCheckAgreesWithSimulate(t *testing.T) {
	w := newWorld(t, 2)
	calls := []struct {
		name     string
		in       execution.CallInput
		wantFail string
	}{
		{"transfer", execution.CallInput{Sender: w.accts[1].Address, Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(w.accts[0].Address, 10)}, ""},
		{"overdraft", execution.CallInput{Sender: w.accts[1].Address, Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(w.accts[0].Address, 5000)}, "insufficient balance"},
		{"not issuer", execution.CallInput{Sender: w.accts[1].Address, Contract: token.Name, Method: token.MethodMint, Args: tokencall.Mint(w.accts[1].Address, 1)}, "issuer"},
		{"unknown contract", execution.CallInput{Sender: w.accts[1].Address, Contract: "nope", Method: "x"}, "unknown contract"},
		{"contract failure", execution.CallInput{Sender: w.accts[1].Address, Contract: "kv", Method: "fail", Args: []byte("x=1")}, "boom"},
	}
	for _, c := range calls {
		c.in.Height, c.in.Time = w.height+1, 2000
		sim, err := w.ex.Simulate(w.state, &c.in)
		if err != nil {
			t.Fatalf("%s: Simulate: %v", c.name, err)
		}
		failure, err := w.ex.Check(w.state, &c.in)
		if err != nil {
			t.Fatalf("%s: Check: %v", c.name, err)
		}
		if fmt.Sprint(failure) != fmt.Sprint(sim.Err) {
			t.Errorf("%s: Check says %v, Simulate %v", c.name, failure, sim.Err)
		}
		if (failure != nil) != (c.wantFail != "") || (failure != nil && !strings.Contains(failure.Error(), c.wantFail)) {
			t.Errorf("%s: verdict %v, want failure %q", c.name, failure, c.wantFail)
		}
	}
}
