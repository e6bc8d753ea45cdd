package execution

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Contract is a native contract. Call reads and writes state only through
// ctx and must be deterministic. A returned error fails the transaction: its
// writes and events are discarded, its receipt is FAILED with the error's
// message, and only the sender's nonce moves. That message is hashed into
// the block, so it must be deterministic too: never include the text of an
// error whose wording may vary (protobuf-go varies its on purpose). Call may be made from several
// goroutines at once, each with its own Context.
type Contract interface {
	// Name is the contract's name in transactions and in its state
	// namespace: 1 to types.MaxNameLen bytes, no '/'.
	Name() string
	Call(ctx *Context, method string, args []byte) error
}

// Config is what the executor needs to know about the chain.
type Config struct {
	// ChainID is the chain's id; a transaction for another chain is
	// invalid. Required: 1 to types.MaxChainIDLen bytes.
	ChainID string
	// Hash is the chain's hash function (crypto.SHA256 or crypto.SM3).
	Hash crypto.Hash
	// Workers is the number of goroutines that execute a block: 0 (the
	// default) means runtime.GOMAXPROCS(0); 1 runs every block
	// sequentially, in block order, which is the reference the parallel
	// path reproduces byte for byte. With more than one, the StateReader
	// given to Execute must be safe for concurrent use.
	Workers int
	// Gate, if not nil, decides who may send what (a permissioned chain);
	// nil, the default, is an open chain where any key may send.
	Gate Gate
}

// Validate reports a configuration the executor cannot run with.
func (c Config) Validate() error {
	if len(c.ChainID) == 0 || len(c.ChainID) > types.MaxChainIDLen {
		return fmt.Errorf("execution: chain id must be 1 to %d bytes", types.MaxChainIDLen)
	}
	if !c.Hash.Valid() {
		return fmt.Errorf("execution: unknown hash function %s", c.Hash)
	}
	if c.Workers < 0 {
		return fmt.Errorf("execution: %d workers: want 0 (one per CPU) or more", c.Workers)
	}
	return nil
}

// minParallel is the smallest block worth running in parallel: below it,
// starting goroutines and planning cost more than they save.
const minParallel = 64

// Executor executes blocks. It holds no state between calls that a result
// depends on (only whether to speculate on the next blocks of user-contract
// calls): Execute and Genesis may run concurrently, on different inputs or
// the same.
type Executor struct {
	cfg       Config
	contracts map[string]registered
	user      UserContracts // nil: no user contracts
	// pause counts the user-contract blocks still to run sequentially
	// after a speculative block reran too much (speculate.go); noPause
	// (tests) never pauses.
	pause       atomic.Int32
	noPause     bool
	minParallel int // smaller blocks run sequentially; tests lower it
}

type registered struct {
	Contract
	predictor Predictor // nil if the contract cannot predict its accesses
	prefix    string    // "c/" + name + "/"
}

// New returns an executor running the given contracts. Names must be valid
// and distinct.
func New(cfg Config, contracts ...Contract) (*Executor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Executor{cfg: cfg, contracts: make(map[string]registered, len(contracts)), minParallel: minParallel}
	for _, c := range contracts {
		if c == nil {
			return nil, errors.New("execution: nil contract")
		}
		name := c.Name()
		if len(name) == 0 || len(name) > types.MaxNameLen || strings.Contains(name, "/") {
			return nil, fmt.Errorf("execution: contract name %q must be 1 to %d bytes without '/'", name, types.MaxNameLen)
		}
		if _, dup := e.contracts[name]; dup {
			return nil, fmt.Errorf("execution: two contracts are named %q", name)
		}
		if u, ok := c.(UserContracts); ok {
			if e.user != nil {
				return nil, errors.New("execution: two contracts run user contracts")
			}
			e.user = u
		}
		p, _ := c.(Predictor)
		e.contracts[name] = registered{Contract: c, predictor: p, prefix: contractPrefix + name + "/"}
	}
	return e, nil
}

// BlockInput is a decided block before execution.
type BlockInput struct {
	Height uint64 // at least 1
	Time   uint64 // unix milliseconds; transactions expiring earlier are invalid
	// PrevHash is the previous block's hash; for block 1, the hash of the
	// genesis block (Genesis's Result.Hash).
	PrevHash types.Hash
	// PrevStateHash is the previous block's state hash (for block 1, the
	// genesis block's).
	PrevStateHash types.Hash
	Proposer      []byte // node id
	// Txs are decoded and signature-verified by the caller. Execute checks
	// chain id, expiry and nonce itself.
	Txs []*types.Tx
	// Gate, if not nil, is this block's gate, made by the caller from
	// Config.Gate with the same state, height and time Execute gets (the
	// caller needed it first, to bind the block's signers before verifying
	// them); Execute then uses it instead of asking Config.Gate again.
	Gate BlockGate
}

// Result is an executed block. Nothing in it aliases the input except Block,
// which embeds the transactions' raw bytes.
type Result struct {
	// Header is fully filled: version, chain id, height, time, prev hash,
	// tx_root (types.MerkleRoot of the tx ids), write_set_hash, state_hash
	// = H(prev state hash || write_set_hash), receipt_root (types.MerkleRoot
	// of H(encoded receipt)), tx_count and proposer.
	Header      *pb.Header
	HeaderBytes []byte     // deterministic encoding of Header
	Hash        types.Hash // types.HeaderHash
	Block       []byte     // types.EncodeBlock(HeaderBytes, txs)
	// Receipts has one receipt per transaction, in block order, invalid
	// ones included; EncodedReceipts holds their types.EncodeReceipt bytes.
	Receipts        []*pb.Receipt
	EncodedReceipts [][]byte
	// Writes is the final value of every key the block wrote, sorted by
	// key, each key once: what the store applies in one batch.
	Writes       []Write
	WriteSetHash types.Hash
	StateHash    types.Hash
	// Stats says how the block was executed. It is not part of the block:
	// nodes that agree on everything above may differ here.
	Stats Stats
}

// Stats describes how Execute ran a block, for metrics and logs.
type Stats struct {
	// Workers is the number of goroutines that executed transactions: 1
	// when the block ran sequentially.
	Workers int
	// Groups is the number of groups the block was split into (the
	// transactions that access one key exclusively form one group, which
	// runs in block order), and LargestGroup the size of the largest; both
	// are 0 when the block ran sequentially.
	Groups, LargestGroup int
	// Fallback says why a block that could have run in parallel ran
	// sequentially: a contract that cannot predict its accesses, a
	// transaction that touched a key it had not declared, a credit that
	// would overflow. It is empty when the block ran in parallel, or when
	// it was too small or Config.Workers is 1.
	Fallback string
	// Speculative is true for a block that calls user contracts and ran
	// speculatively (speculate.go); Reran is how many of its transactions
	// ran again after validation.
	Speculative bool
	Reran       int
}

const (
	statusOK      = pb.TxStatus_TX_STATUS_OK
	statusFailed  = pb.TxStatus_TX_STATUS_FAILED
	statusInvalid = pb.TxStatus_TX_STATUS_INVALID
)

// Execute runs the block's transactions in order over state, which it does
// not change. For each transaction:
//
//   - a wrong chain id, an expiry before the block time, or a nonce other
//     than the sender's current one makes it INVALID: nothing changes;
//   - otherwise the sender's nonce moves up by one whatever follows, and
//     the contract is called; an unknown contract or a returned error makes
//     it FAILED and discards the contract's writes and events; success
//     makes it OK and applies them for the transactions after it.
//
// An error means the block could not be executed at all (state could not be
// read or is corrupt, or the input is malformed); no partial result is
// returned.
func (e *Executor) Execute(state StateReader, in *BlockInput) (*Result, error) {
	if in.Height == 0 {
		return nil, errors.New("execution: height 0 is the genesis block: use Genesis")
	}
	if uint64(len(in.Txs)) > math.MaxUint32 {
		return nil, fmt.Errorf("execution: block %d has %d transactions, more than a header can count", in.Height, len(in.Txs))
	}
	gv, err := e.judge(state, in)
	if err != nil {
		return nil, err
	}
	var fallback string
	if w := e.workers(); w > 1 && len(in.Txs) >= e.minParallel && e.userCall(in) {
		if e.noPause || e.pause.Load() <= 0 {
			return e.executeSpeculative(state, in, w, gv)
		}
		e.pause.Add(-1)
		fallback = "speculation paused: recent blocks of user-contract calls conflicted too much"
	} else if w := e.workers(); w > 1 && len(in.Txs) >= e.minParallel {
		res, why := e.executeParallel(state, in, w, gv)
		if res != nil {
			return res, nil
		}
		fallback = why
	}
	res, err := e.executeSequential(state, in, gv)
	if err != nil {
		return nil, err
	}
	res.Stats = Stats{Workers: 1, Fallback: fallback}
	return res, nil
}

// workers is the number of goroutines a block may use.
func (e *Executor) workers() int {
	if e.cfg.Workers == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return e.cfg.Workers
}

// executeSequential runs the block's transactions one after another: the
// reference semantics.
func (e *Executor) executeSequential(state StateReader, in *BlockInput, gv verdicts) (*Result, error) {
	r := e.newRun(state, len(in.Txs))
	var blockGas uint64
	ctx := &Context{view: &r.overlay, arena: &r.arena, height: in.Height, time: in.Time, exec: e, blockGas: &blockGas}
	receipts := make([]pb.Receipt, len(in.Txs))
	res := &Result{Receipts: make([]*pb.Receipt, len(in.Txs))}
	for i, tx := range in.Txs {
		if tx == nil || tx.Body == nil {
			return nil, notDecoded(in.Height, i)
		}
		ctx.tx = int32(i)
		status, msg, err := e.execTx(ctx, tx, gv.at(i))
		if err != nil {
			return nil, fmt.Errorf("execution: block %d, transaction %d: %w", in.Height, i, err)
		}
		rc := &receipts[i]
		rc.Status, rc.Message = status, msg
		if status != statusInvalid {
			rc.GasUsed, blockGas = ctx.gasUsed, blockGas+ctx.gasUsed
			if status == statusOK {
				rc.Result = ctx.result
			}
			ws := ctx.sortedWrites()
			r.hasher.add(uint32(i), ws)
			r.overlay.apply(ws)
			rc.Events = ctx.takeEvents()
		}
		res.Receipts[i] = rc
	}
	res.Writes = r.overlay.sorted()
	res.WriteSetHash = types.Hash(r.hasher.sum())
	txRoot, receiptRoot := e.roots(in.Txs, res)
	if err := e.seal(newHeader(in), in.PrevStateHash, txRoot, receiptRoot, in.Txs, res); err != nil {
		return nil, fmt.Errorf("execution: block %d: %w", in.Height, err)
	}
	return res, nil
}

func notDecoded(height uint64, i int) error {
	return fmt.Errorf("execution: block %d: transaction %d is not decoded", height, i)
}

// newHeader starts a block's header from its input; seal fills the rest.
func newHeader(in *BlockInput) *pb.Header {
	return &pb.Header{
		Height:   in.Height,
		Time:     in.Time,
		PrevHash: bytes.Clone(in.PrevHash[:]),
		Proposer: bytes.Clone(in.Proposer),
	}
}

// Genesis builds the block at height 0 from the initial state, given as
// writes (for example from token.Genesis; the caller concatenates those of
// several contracts). The writes are framed in the write-set hash as
// transaction 0; the previous hashes are zero and there are no
// transactions. The node stores Result.Writes and Result.Block; Result.Hash
// is block 1's PrevHash and Result.StateHash its PrevStateHash. Keys must be
// distinct and writes may not delete. Result.Writes shares the slices of
// writes.
func (e *Executor) Genesis(time uint64, writes []Write) (*Result, error) {
	ws := slices.Clone(writes)
	slices.SortFunc(ws, func(a, b Write) int { return bytes.Compare(a.Key, b.Key) })
	for i, w := range ws {
		switch {
		case w.Delete:
			return nil, fmt.Errorf("execution: genesis deletes %q", w.Key)
		case len(w.Key) == 0:
			return nil, errors.New("execution: genesis writes an empty key")
		case len(w.Key) > MaxKeyLen || len(w.Value) > MaxValueLen:
			return nil, fmt.Errorf("execution: genesis: %w: key %q of %d bytes, value of %d bytes", ErrTooLarge, w.Key, len(w.Key), len(w.Value))
		case i > 0 && bytes.Equal(ws[i-1].Key, w.Key):
			return nil, fmt.Errorf("execution: genesis writes %q twice", w.Key)
		}
	}
	r := e.newRun(nil, 0)
	r.hasher.add(0, ws)
	res := &Result{Writes: ws, WriteSetHash: types.Hash(r.hasher.sum())}
	hdr := &pb.Header{Time: time, PrevHash: make([]byte, len(types.Hash{}))}
	txRoot, receiptRoot := e.roots(nil, res)
	if err := e.seal(hdr, types.Hash{}, txRoot, receiptRoot, nil, res); err != nil {
		return nil, fmt.Errorf("execution: genesis: %w", err)
	}
	return res, nil
}

// run is the working state of one Execute or Genesis call.
type run struct {
	overlay overlay
	arena   arena
	hasher  writeSetHasher
}

// newRun sizes the block's overlay for txs transactions: a transfer writes
// three keys, two of them often new to the block.
func (e *Executor) newRun(state StateReader, txs int) *run {
	return &run{
		overlay: overlay{state: state, index: make(map[string]int, 3*txs), entries: make([]Write, 0, 3*txs)},
		hasher:  writeSetHasher{h: e.cfg.Hash.New()},
	}
}

// execTx runs one transaction. It changes nothing but ctx: its outcome is
// ctx's write set and events, which the caller commits in block order. That
// split is what lets a scheduler run independent transactions concurrently,
// each in its own Context. An error aborts the block.
func (e *Executor) execTx(ctx *Context, tx *types.Tx, gv *verdict) (pb.TxStatus, string, error) {
	body := tx.Body
	ctx.begin(tx.Sender)
	ctx.txID = tx.ID
	if msg, ok := e.precheck(tx, ctx.time, gv); !ok {
		return statusInvalid, msg, nil
	}
	nk := ctx.arena.concat(noncePrefix, tx.Sender[:])
	v, err := ctx.get(nk)
	if err != nil {
		return 0, "", err
	}
	n, err := decodeNonce(nk, v)
	if err != nil {
		return 0, "", err
	}
	if body.Nonce != n {
		return statusInvalid, fmt.Sprintf("nonce %d, expected %d", body.Nonce, n), nil
	}
	if n == math.MaxUint64 {
		return statusInvalid, "the sender has used every nonce", nil
	}
	nv := ctx.arena.alloc(8)
	binary.BigEndian.PutUint64(nv, n+1)
	ctx.put(nk, nv, false)

	if gv != nil {
		if gv.failed != "" {
			return statusFailed, gv.failed, nil
		}
		ctx.signer = gv.signer
	}
	ctx.gasLimit = body.GasLimit
	c, ok := e.contracts[body.Contract]
	var failure error
	switch {
	case ok:
		failure, err = call(ctx, c, body.Contract, body.Method, body.Args)
	case e.user != nil:
		failure, err = e.callUser(ctx, body.Contract, body.Method, body.Args)
	default:
		return statusFailed, unknownContract(body.Contract).Error(), nil
	}
	if err != nil {
		return 0, "", err
	}
	if errors.Is(failure, ErrBlockGasFull) {
		ctx.rollback(0)
		ctx.gasUsed = 0
		return statusInvalid, failure.Error(), nil
	}
	if failure != nil {
		// The nonce key ("a/...") sorts before every contract key ("c/..."),
		// so it is the first write even if the contract called WriteSet.
		ctx.rollback(1)
		msg := failure.Error()
		if msg == "" {
			msg = "contract failed without a message"
		}
		return statusFailed, msg, nil
	}
	return statusOK, "", nil
}

// precheck is what makes a transaction invalid whatever the block's
// transactions do: its chain id, its expiry and the Gate's verdict on its
// signer. It returns the receipt's message and false for an invalid one.
func (e *Executor) precheck(tx *types.Tx, time uint64, v *verdict) (string, bool) {
	body := tx.Body
	if v != nil && v.invalid != "" {
		return v.invalid, false
	}
	if body.ChainId != e.cfg.ChainID {
		return fmt.Sprintf("wrong chain id %q, this chain is %q", body.ChainId, e.cfg.ChainID), false
	}
	if tx.Expired(time) {
		return fmt.Sprintf("expired at %d, block time %d", body.ExpiresAt, time), false
	}
	return "", true
}

// call runs a contract in ctx. failure is why the call failed, if it did;
// abort is a state error that must stop the block whatever the contract
// made of it.
func call(ctx *Context, c registered, name, method string, args []byte) (failure, abort error) {
	ctx.enter(name, c.prefix)
	err := c.Call(ctx, method, args)
	if ctx.stateErr != nil {
		return nil, ctx.stateErr
	}
	if ctx.err != nil {
		return ctx.err, nil
	}
	return err, nil
}

// callUser runs an installed contract in ctx, as call does a native one.
func (e *Executor) callUser(ctx *Context, name, method string, args []byte) (failure, abort error) {
	if len(name) == 0 || len(name) > types.MaxNameLen || strings.Contains(name, "/") {
		return unknownContract(name), nil
	}
	ctx.enter(name, contractPrefix+name+"/")
	err := e.user.CallUser(ctx, name, method, args)
	if ctx.stateErr != nil {
		return nil, ctx.stateErr
	}
	if ctx.err != nil {
		return ctx.err, nil
	}
	return err, nil
}

func unknownContract(name string) error {
	return fmt.Errorf("%w %q", ErrUnknownContract, name)
}

// CallInput is a contract call to simulate.
type CallInput struct {
	Sender types.Address
	// Signer is what the contract sees as Context.Signer: what a Gate
	// said of the sender; nil on an open chain.
	Signer           any
	Height, Time     uint64
	Contract, Method string
	Args             []byte
	// GasLimit is a user-contract call's gas limit (0: the chain's default).
	GasLimit uint64
}

// CallResult is the outcome of a simulated call.
type CallResult struct {
	// Err is the error exactly as the contract returned it, so that callers
	// can match a contract's sentinel errors with errors.Is; nil on success.
	Err error
	// Return and GasUsed are a user contract's return value and gas.
	Return  []byte
	GasUsed uint64
	// Events, Reads and Writes are the call's events, read set and write
	// set (full keys, sorted). A failed call has no events and no writes.
	Events []*pb.Event
	Reads  [][]byte
	Writes []Write
}

// Simulate runs one contract call against state as if it were in a block at
// the given height and time, and changes nothing. It checks no chain id,
// expiry or nonce and writes no nonce. The API uses it to dry-run calls;
// contract tests use it to reach a contract's errors. An error means state
// could not be read.
func (e *Executor) Simulate(state StateReader, in *CallInput) (*CallResult, error) {
	ctx, failure, err := e.dryRun(state, in, false)
	if err != nil || ctx == nil {
		return &CallResult{Err: failure}, err
	}
	if failure != nil {
		ctx.rollback(0)
	}
	res := &CallResult{Err: failure, Events: ctx.takeEvents(), Reads: ctx.ReadSet(), Writes: ctx.sortedWrites(), GasUsed: ctx.gasUsed}
	if failure == nil {
		res.Return = ctx.result
	}
	return res, nil
}

// Check runs a call as Simulate does and returns only why it would fail
// (nil if it would succeed): the pool's admission check, which keeps none
// of the call's reads, writes or events.
//
// A call of a user contract is not run: its outcome depends on its gas
// limit and its code, which the block decides; only an unknown contract
// name is refused here (by the runner, with ErrUnknownContract), and a gas
// limit above the chain's per-transaction maximum (ErrTxGasLimit), which
// could never fit in a block.
func (e *Executor) Check(state StateReader, in *CallInput) (failure, err error) {
	if _, native := e.contracts[in.Contract]; !native && e.user != nil {
		if failure := e.user.Admit(state, in.Contract); failure != nil {
			return failure, nil
		}
		if g, ok := e.user.(GasLimits); ok && in.GasLimit != 0 {
			_, txMax, block, err := g.GasLimits(state)
			if err != nil {
				return nil, err
			}
			if in.GasLimit > txMax {
				return fmt.Errorf("%w: the transaction names %d gas; a transaction may use at most %d and a block %d: send it with a lower --gas", ErrTxGasLimit, in.GasLimit, txMax, block), nil
			}
		}
		return nil, nil
	}
	_, failure, err = e.dryRun(state, in, true)
	return failure, err
}

// dryRun makes a one-call run over state and calls in; ctx is nil when the
// contract is unknown.
func (e *Executor) dryRun(state StateReader, in *CallInput, checking bool) (ctx *Context, failure, err error) {
	c, ok := e.contracts[in.Contract]
	if !ok && e.user == nil {
		return nil, unknownContract(in.Contract), nil
	}
	r := e.newRun(state, 1)
	// One call needs a few hundred bytes, not a block's arena chunk: the
	// pool dry-runs every admitted transaction through here.
	r.arena.buf = make([]byte, 0, 512)
	ctx = &Context{view: &r.overlay, arena: &r.arena, height: in.Height, time: in.Time, checking: checking, exec: e}
	ctx.begin(in.Sender)
	ctx.signer = in.Signer
	ctx.gasLimit = in.GasLimit
	if ok {
		failure, err = call(ctx, c, in.Contract, in.Method, in.Args)
	} else {
		failure, err = e.callUser(ctx, in.Contract, in.Method, in.Args)
	}
	if err != nil {
		return nil, nil, err
	}
	return ctx, failure, nil
}

// roots computes the block's tx root and, from res.Receipts, its encoded
// receipts and receipt root.
func (e *Executor) roots(txs []*types.Tx, res *Result) (txRoot, receiptRoot types.Hash) {
	h := e.cfg.Hash
	leaves := make([]types.Hash, len(txs))
	for i, tx := range txs {
		leaves[i] = tx.ID
	}
	txRoot = types.MerkleRoot(h, leaves)
	res.EncodedReceipts = make([][]byte, len(res.Receipts))
	for i, rc := range res.Receipts {
		b := types.EncodeReceipt(rc)
		res.EncodedReceipts[i] = b
		leaves[i] = h.Sum(b)
	}
	return txRoot, types.MerkleRoot(h, leaves)
}

// seal fills the header's computed fields, the state hash and the block
// bytes; res.WriteSetHash is already set.
func (e *Executor) seal(hdr *pb.Header, prevState, txRoot, receiptRoot types.Hash, txs []*types.Tx, res *Result) error {
	h := e.cfg.Hash
	res.StateHash = types.Hash(h.Sum(prevState[:], res.WriteSetHash[:]))
	hdr.Version = types.HeaderVersion
	hdr.ChainId = e.cfg.ChainID
	hdr.TxRoot = bytes.Clone(txRoot[:])
	hdr.WriteSetHash = bytes.Clone(res.WriteSetHash[:])
	hdr.StateHash = bytes.Clone(res.StateHash[:])
	hdr.ReceiptRoot = bytes.Clone(receiptRoot[:])
	hdr.TxCount = uint32(len(txs))
	hash, hb, err := types.HeaderHash(h, hdr)
	if err != nil {
		return err
	}
	res.Header, res.HeaderBytes, res.Hash = hdr, hb, hash
	res.Block = types.EncodeBlock(hb, txs)
	return nil
}
