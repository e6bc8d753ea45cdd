package execution

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Speculative execution, for blocks that call user contracts, in the
// manner of Block-STM. User contracts cannot declare their accesses, so the
// scheduled path of parallel.go cannot run them; instead:
//
// Speculate. Every transaction runs at once on the workers, each in its
// own Context over the block's starting state (committed state alone),
// recording the keys it read (present or absent), the key ranges it listed
// and the block-gas checks it made.
//
// Validate and commit, in block order. A transaction is valid when no
// transaction committed before it in the block wrote a key it read or a key
// inside a range it listed, and each of its block-gas checks comes out the
// same with the gas the block has really used so far. Its run then saw
// exactly what a sequential run would have seen, so, contracts being
// deterministic, it did exactly what a sequential run does: its writes,
// events and receipt are kept. An invalid transaction runs again, there and
// then, on the block's state so far, which is the sequential run itself.
//
// So the result is the sequential one byte for byte, whatever the timing;
// conflicts cost only their re-runs (a block whose every transaction
// touches one key runs about twice).

// pausedBlocks is how many blocks run sequentially after a speculative
// block that reran more than a third of its transactions.
const pausedBlocks = 8

// gasCheck is one block-gas check a speculative run made.
type gasCheck struct {
	limit, blockLimit uint64
	fits              bool
}

// keyRange is a range a transaction listed: [lo, hi), hi nil for no bound.
type keyRange struct{ lo, hi []byte }

// BlockGasFits reports whether a call with this gas limit fits in what is
// left of the block's gas limit. A dry run always fits.
func (c *Context) BlockGasFits(limit, blockLimit uint64) bool {
	if c.blockGas == nil {
		return true
	}
	fits := limit <= blockLimit && *c.blockGas <= blockLimit-limit
	if c.spec {
		c.gasChecks = append(c.gasChecks, gasCheck{limit, blockLimit, fits})
	}
	return fits
}

// userCall reports whether the block calls a contract that is not native.
func (e *Executor) userCall(in *BlockInput) bool {
	if e.user == nil {
		return false
	}
	for _, tx := range in.Txs {
		if tx != nil && tx.Body != nil {
			if _, native := e.contracts[tx.Body.Contract]; !native {
				return true
			}
		}
	}
	return false
}

// speculated is one transaction's speculative run.
type speculated struct {
	ctx    *Context
	status pb.TxStatus
	msg    string
	err    error
	failed bool // a panic or an error: run it again
}

// stale reports whether a speculative run may have seen something other
// than what a sequential run sees at this point of the block.
func (s *speculated) stale(o *overlay, blockGas uint64) bool {
	if s.failed {
		return true
	}
	c := s.ctx
	for _, k := range c.reads {
		if _, ok := o.index[string(k)]; ok {
			return true
		}
	}
	for _, r := range c.ranges {
		for i := range o.entries {
			if inRange(o.entries[i].Key, r.lo, r.hi) {
				return true
			}
		}
	}
	for _, g := range c.gasChecks {
		if (g.limit <= g.blockLimit && blockGas <= g.blockLimit-g.limit) != g.fits {
			return true
		}
	}
	return false
}

// executeSpeculative runs a block that calls user contracts on w workers.
func (e *Executor) executeSpeculative(state StateReader, in *BlockInput, w int, gv verdicts) (*Result, error) {
	n := len(in.Txs)
	for i, tx := range in.Txs {
		if tx == nil || tx.Body == nil {
			return nil, notDecoded(in.Height, i)
		}
	}
	start := &overlay{state: state, index: map[string]int{}}
	specs := make([]speculated, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(w, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ar := &arena{}
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				specs[i] = e.speculate(start, ar, in, i, gv)
			}
		}()
	}
	wg.Wait()

	r := e.newRun(state, n)
	var blockGas uint64
	seq := &Context{view: &r.overlay, arena: &r.arena, height: in.Height, time: in.Time, exec: e, blockGas: &blockGas}
	receipts := make([]pb.Receipt, n)
	res := &Result{Receipts: make([]*pb.Receipt, n)}
	reran := 0
	for i, tx := range in.Txs {
		s := &specs[i]
		ctx, status, msg := s.ctx, s.status, s.msg
		if s.stale(&r.overlay, blockGas) {
			reran++
			var err error
			if status, msg, err = e.execTx(seq, tx, gv.at(i)); err != nil {
				return nil, fmt.Errorf("execution: block %d, transaction %d: %w", in.Height, i, err)
			}
			ctx = seq
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
	res.Stats = Stats{Workers: min(w, n), Speculative: true, Reran: reran}
	if 3*reran > n {
		// Re-runs are sequential: with this many, speculating cost more
		// than it saved. Run the next few such blocks sequentially, then
		// try again. Either way gives the same result.
		e.pause.Store(pausedBlocks)
	}
	return res, nil
}

// speculate runs transaction i on the block's starting state. A panic or a
// state error marks it for a re-run, which reproduces either in block
// order, as a sequential run would.
func (e *Executor) speculate(start *overlay, ar *arena, in *BlockInput, i int, gv verdicts) (s speculated) {
	zero := uint64(0)
	ctx := &Context{view: start, arena: ar, height: in.Height, time: in.Time, exec: e, blockGas: &zero, spec: true}
	s.ctx = ctx
	defer func() {
		if p := recover(); p != nil {
			s.failed = true
		}
	}()
	s.status, s.msg, s.err = e.execTx(ctx, in.Txs[i], gv.at(i))
	s.failed = s.err != nil
	return s
}
