package execution

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// parallelRun is the working state of one block executed in parallel.
type parallelRun struct {
	e     *Executor
	state StateReader
	in    *BlockInput
	gv    verdicts
	s     *schedule

	receipts []pb.Receipt
	encoded  [][]byte
	leaves   []types.Hash // H(encoded receipt), the receipt root's leaves

	// What the executed transactions leave for the merge: transaction i's
	// sorted write set and the number of each write's key at its offset
	// (txPlan.off) in writes and ids, its credits at txPlan.coff in
	// credits, and their counts in nwrites and ncredits. A transaction
	// writes and credits only keys it declared, so what it declared is
	// room enough.
	writes            []Write
	ids               []int32
	credits           []mergeCredit
	nwrites, ncredits []int32
	// last is the last write of each key that no transaction credits;
	// the merge finds the others'.
	last []*Write

	// vals holds each key's value as its owner group has it so far; only
	// the lane running the owner's segment touches an entry.
	vals []keyState
	// deltas holds the amounts of the credits in the schedule's slots: 0
	// for a credit not made (its transaction failed or was invalid).
	deltas []uint64

	pending []atomic.Int32 // per segment: predecessors not done, +1 until claimed
	claim   atomic.Int32   // the next segment to claim
	ran     atomic.Int32   // segments run

	failed   atomic.Bool
	failOnce sync.Once
	why      string
	// panicked is the first panic of a lane, raised again on Execute's
	// goroutine.
	panicked  any
	panicOnce sync.Once
}

type keyState struct {
	val    []byte // nil when absent
	loaded bool
	next   int32 // the first slot not yet added in
}

type mergeCredit struct {
	id    int32
	delta uint64
	// val is the 8 bytes of the credit's write, or nil for a credit that
	// its failed transaction discarded: the merge only checks that it
	// would have succeeded.
	val []byte
}

// executeParallel runs the block in parallel when it can; otherwise it
// returns a nil result and why not. It never returns a result that differs
// from executeSequential's.
func (e *Executor) executeParallel(state StateReader, in *BlockInput, workers int, gv verdicts) (*Result, string) {
	n := len(in.Txs)
	h := e.cfg.Hash
	r := &parallelRun{
		e: e, state: state, in: in, gv: gv,
		receipts: make([]pb.Receipt, n),
		encoded:  make([][]byte, n),
		leaves:   make([]types.Hash, n),
	}
	var wg sync.WaitGroup
	var txRoot types.Hash
	wg.Go(func() {
		ids := make([]types.Hash, n)
		for i, tx := range in.Txs {
			if tx != nil {
				ids[i] = tx.ID
			}
		}
		txRoot = types.MerkleRoot(h, ids)
	})
	defer wg.Wait()

	s, why := e.plan(in, gv, workers, r.receipts, r.encoded, r.leaves)
	if why != "" {
		return nil, why
	}
	if s.groups < 2 {
		return nil, fmt.Sprintf("its transactions form %d group(s): nothing to run in parallel", s.groups)
	}
	nseg := len(s.npred)
	r.s = s
	r.writes = make([]Write, s.naccess)
	r.ids = make([]int32, s.naccess)
	r.credits = make([]mergeCredit, s.ncredits)
	r.nwrites, r.ncredits = make([]int32, n), make([]int32, n)
	r.last = make([]*Write, len(s.keys))
	r.vals = make([]keyState, len(s.keys))
	r.deltas = make([]uint64, len(s.slotTx))
	r.pending = make([]atomic.Int32, nseg)
	for g, p := range s.npred {
		r.pending[g].Store(p + 1)
	}
	var order []int32 // key numbers in key order, for Result.Writes
	wg.Go(func() { order = s.sortedKeys() })
	lanes := min(workers, s.groups)
	var lw sync.WaitGroup
	for range lanes - 1 {
		lw.Go(func() { r.newLane().work() })
	}
	r.newLane().work()
	lw.Wait()
	if r.panicked != nil {
		panic(r.panicked)
	}
	if r.failed.Load() {
		return nil, r.why
	}
	if int(r.ran.Load()) != nseg {
		panic(fmt.Sprintf("execution: block %d: %d of %d segments ran", in.Height, r.ran.Load(), nseg))
	}

	res := &Result{Receipts: make([]*pb.Receipt, n), EncodedReceipts: r.encoded}
	for i := range r.receipts {
		res.Receipts[i] = &r.receipts[i]
	}
	wg.Wait()
	var receiptRoot types.Hash
	wg.Go(func() { receiptRoot = types.MerkleRoot(h, r.leaves) })
	if why := r.merge(res, order); why != "" {
		return nil, why
	}
	wg.Wait()
	if err := e.seal(newHeader(in), in.PrevStateHash, txRoot, receiptRoot, in.Txs, res); err != nil {
		return nil, err.Error()
	}
	res.Stats = Stats{Workers: lanes, Groups: s.groups, LargestGroup: s.largest}
	return res, ""
}

// fail stops the run; the first reason wins.
func (r *parallelRun) fail(why string) {
	r.failOnce.Do(func() {
		r.why = why
		r.failed.Store(true)
	})
}

// lane is one goroutine of a parallel run, with its own Context and arena.
type lane struct {
	run   *parallelRun
	ctx   Context
	arena arena
	ready []int32 // segments it made runnable
}

func (r *parallelRun) newLane() *lane {
	l := &lane{run: r}
	l.ctx = Context{lane: l, arena: &l.arena, height: r.in.Height, time: r.in.Time}
	return l
}

// work claims segments in order and runs those whose predecessors are
// done. A segment whose last predecessor finishes after it was claimed is
// run by the lane that finished that predecessor, so no lane ever waits.
func (l *lane) work() {
	r := l.run
	defer func() {
		if p := recover(); p != nil {
			r.panicOnce.Do(func() { r.panicked = p })
			r.fail("a contract panicked")
		}
	}()
	nseg := int32(len(r.pending))
	for !r.failed.Load() {
		g := r.claim.Add(1) - 1
		if g >= nseg {
			return
		}
		if r.pending[g].Add(-1) != 0 {
			continue
		}
		l.ready = append(l.ready[:0], g)
		for len(l.ready) > 0 && !r.failed.Load() {
			g := l.ready[len(l.ready)-1]
			l.ready = l.ready[:len(l.ready)-1]
			if !l.runSegment(g) {
				return
			}
			r.ran.Add(1)
			for _, s := range r.s.succ[r.s.succStart[g]:r.s.succStart[g+1]] {
				if r.pending[s].Add(-1) == 0 {
					l.ready = append(l.ready, s)
				}
			}
		}
	}
}

// runSegment executes one segment's transactions in block order. It
// reports false when the run must stop.
func (l *lane) runSegment(g int32) bool {
	r := l.run
	s := r.s
	c := &l.ctx
	for _, i := range s.segs[s.sstart[g]:s.sstart[g+1]] {
		t := &s.txs[i]
		c.tx, c.acc, c.kept = i, t.acc, t.kept
		// The transaction writes only keys it declared, so its window
		// holds its write set: the Context writes there directly.
		c.writes = r.writes[t.off : t.off : int(t.off)+len(t.acc)]
		status, msg, err := r.e.execTx(c, r.in.Txs[i], r.gv.at(int(i)))
		if err != nil {
			r.fail(err.Error())
			return false
		}
		rc := &r.receipts[i]
		rc.Status, rc.Message = status, msg
		if status != statusInvalid {
			l.commit(i, c.sortedWrites())
			rc.Events = c.takeEvents()
		}
		r.encoded[i] = types.EncodeReceipt(rc)
		r.leaves[i] = r.e.cfg.Hash.Sum(r.encoded[i])
	}
	return true
}

// commit keeps transaction i's write set, which its Context wrote into its
// window in r.writes, for the merge and makes it its group's state. Its
// credits leave their amounts in their slots, if any.
func (l *lane) commit(i int32, ws []Write) {
	r, c := l.run, &l.ctx
	off, coff := r.s.txs[i].off, r.s.txs[i].coff
	if len(ws) > 0 && &ws[0] != &r.writes[off] {
		panic(fmt.Sprintf("execution: transaction %d wrote more keys than it declared", i))
	}
	r.nwrites[i] = int32(len(ws))
	for j := range ws {
		w := &ws[j]
		a := &c.acc[c.declared(w.Key)]
		r.ids[off+int32(j)] = a.id
		if !r.s.credited[a.id] {
			r.last[a.id] = w
		}
		if a.kind == credit {
			continue // the merge gives it its value
		}
		// The write replaces whatever the credits before it added.
		k := l.key(a.id)
		for end := r.s.keys[a.id].slotEnd; k.next < end && r.s.slotTx[k.next] < i; {
			k.next++
		}
		k.val = w.Value
		if w.Delete {
			k.val = nil
		}
	}
	credits := r.credits[coff : coff+int32(len(c.credits))]
	r.ncredits[i] = int32(len(c.credits))
	for j, p := range c.credits {
		a := &c.acc[p.acc]
		credits[j] = mergeCredit{id: a.id, delta: p.delta}
		if c.creditsVoid {
			continue
		}
		credits[j].val = p.val
		if a.slot >= 0 {
			r.deltas[a.slot] = p.delta
		}
	}
}

// key returns the group state of key id, marking it loaded: the caller
// sets its value.
func (l *lane) key(id int32) *keyState {
	k := &l.run.vals[id]
	if !k.loaded {
		k.loaded, k.next = true, l.run.s.keys[id].slot0
	}
	return k
}

// value is the state of a key the group owns, as transaction tx must see
// it: the group's last write to it or the committed value, plus the credits
// made to it since, up to tx.
func (l *lane) value(id, tx int32, full []byte) ([]byte, error) {
	r := l.run
	k := &r.vals[id]
	if !k.loaded {
		v, err := r.state.Get(full)
		if err != nil {
			return nil, err
		}
		l.key(id).val = v
	}
	end := r.s.keys[id].slotEnd
	for ; k.next < end && r.s.slotTx[k.next] < tx; k.next++ {
		d := r.deltas[k.next]
		if d == 0 {
			continue
		}
		cur, ok := decodeCounter(k.val)
		if !ok {
			return nil, fmt.Errorf("%w: transaction %d credited %q, which holds %d bytes", errSequential, r.s.slotTx[k.next], full, len(k.val))
		}
		sum, carry := bits.Add64(cur, d, 0)
		if carry != 0 {
			return nil, fmt.Errorf("%w: transaction %d overflows %q", errSequential, r.s.slotTx[k.next], full)
		}
		k.val = l.arena.alloc(8)
		binary.BigEndian.PutUint64(k.val, sum)
	}
	return k.val, nil
}

// mergeKey follows the value of a credited key through the block.
type mergeKey struct {
	val   uint64
	known bool // val is the key's value
	bad   bool // the key holds something other than a counter
}

// merge replays the transactions' results in block order: it gives every
// credit the value sequential execution writes (the key's value so far plus
// the amount), hashes each write set, and lists the block's final writes
// in key order. It returns why the block must run sequentially after all: a
// credit that overflows or meets a value that is not a counter, or a state
// error.
func (r *parallelRun) merge(res *Result, order []int32) string {
	s := r.s
	hasher := writeSetHasher{h: r.e.cfg.Hash.New()}
	m := make([]mergeKey, len(s.keys))
	for i := range s.txs {
		nw := r.nwrites[i]
		if nw == 0 {
			continue // invalid
		}
		off, coff := s.txs[i].off, s.txs[i].coff
		for _, c := range r.credits[coff : coff+r.ncredits[i]] {
			k := &m[c.id]
			if !k.known {
				v, err := r.state.Get(s.keys[c.id].key)
				if err != nil {
					return fmt.Sprintf("reading state key %q: %v", s.keys[c.id].key, err)
				}
				var ok bool
				k.val, ok = decodeCounter(v)
				k.bad, k.known = !ok, true
			}
			sum, carry := bits.Add64(k.val, c.delta, 0)
			if k.bad || carry != 0 {
				return fmt.Sprintf("%v: transaction %d cannot credit %q", errSequential, i, s.keys[c.id].key)
			}
			if c.val != nil {
				k.val = sum
				binary.BigEndian.PutUint64(c.val, sum)
			}
		}
		ws := r.writes[off : off+nw]
		for j, id := range r.ids[off : off+nw] {
			if s.credited[id] {
				k := &m[id]
				r.last[id] = &ws[j]
				var ok bool
				k.val, ok = decodeCounter(ws[j].Value) // a delete has no value: 0
				k.bad, k.known = !ok, true
			}
		}
		hasher.add(uint32(i), ws)
	}
	res.WriteSetHash = types.Hash(hasher.sum())
	n := 0
	for _, w := range r.last {
		if w != nil {
			n++
		}
	}
	res.Writes = make([]Write, 0, n)
	for _, id := range order {
		if w := r.last[id]; w != nil {
			res.Writes = append(res.Writes, *w)
		}
	}
	return ""
}
