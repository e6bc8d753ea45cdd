package bft

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// Execution. A vote carries the parent block's result, and a block
// commits only once its child is certified, so every block is executed
// before it is decided: speculatively, by the Applier, which keeps the
// result until the block commits (ApplyBlock) or loses. The core hands
// out certified blocks to execute (Ready.Execute); the driver also starts
// on every new block whose parent it executes, as soon as the block
// arrives, so that by the time the block is certified (the next round's
// proposal) and its result is needed for the vote, it is usually known.
// Execution runs on a goroutine of its own: the consensus goroutine keeps
// receiving and voting meanwhile, and results come back to it through
// Run, which reports those the core asked for with Executed.

// Applier executes blocks for the driver. *chain.Chain implements it.
type Applier interface {
	consensus.Applier
	// Speculate executes p, the block with id (its hash here), on top of
	// the block parent: the last block applied (or named by Anchor) or a
	// block speculated before. It returns the block's result, the chain's
	// hash of it, without committing it. The same block always gives the
	// same result.
	Speculate(id, parent []byte, p *consensus.Proposal) (types.Hash, error)
	// ApplyBlock is Apply for the decided block id, reusing its
	// speculation; it returns the block's result.
	ApplyBlock(ctx context.Context, id []byte, p *consensus.Proposal) (types.Hash, error)
	// Anchor names the id of the last applied block.
	Anchor(id []byte)
}

// execInfo is what the driver knows of a block it executes.
type execInfo struct {
	height uint64
	time   uint64 // the time the block executes at: max(proposed, parent's + 1)
	asked  bool   // the core handed it out in Ready.Execute
	ends   bool   // it ends its epoch (endsEpoch)
	// p is the block as executed, its transactions decoded once: the
	// chain commits it from its speculation, and claims read its ids.
	p *consensus.Proposal
}

type execJob struct {
	hash, parent []byte
	p            *consensus.Proposal
}

type execDone struct {
	hash   []byte
	result types.Hash
	err    error
}

// execQueue carries jobs to the executing goroutine and results back,
// without bound on either side: the core hands out a block once, and the
// Applier bounds what it holds.
type execQueue struct {
	mu        sync.Mutex
	jobs      []execJob
	done      []execDone
	jobReady  chan struct{}
	doneReady chan struct{}
}

func newExecQueue() *execQueue {
	return &execQueue{jobReady: make(chan struct{}, 1), doneReady: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// run executes jobs in order until ctx ends.
func (q *execQueue) run(ctx context.Context, app Applier) {
	for {
		q.mu.Lock()
		if len(q.jobs) == 0 {
			q.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-q.jobReady:
			}
			continue
		}
		j := q.jobs[0]
		q.jobs = q.jobs[1:]
		q.mu.Unlock()
		r, err := app.Speculate(j.hash, j.parent, j.p)
		q.mu.Lock()
		q.done = append(q.done, execDone{hash: j.hash, result: r, err: err})
		q.mu.Unlock()
		signal(q.doneReady)
	}
}

func (q *execQueue) push(j execJob) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.mu.Unlock()
	signal(q.jobReady)
}

func (q *execQueue) take() []execDone {
	q.mu.Lock()
	defer q.mu.Unlock()
	d := q.done
	q.done = nil
	return d
}

// submit starts executing b once, if its parent was: asked says the core
// handed it out (its result is to be reported). It returns the hash and
// whether the result is known already.
func (d *Driver) submit(b *pb.Block, asked bool) (hash []byte, known bool) {
	h := blockHashOf(d.cfg.Core.Hash, b)
	if x := d.execs[string(h)]; x != nil {
		x.asked = x.asked || asked
		return h, d.results[string(h)] != nil
	}
	par := d.execs[string(b.Parent)]
	if par == nil {
		return h, false // its parent was pruned (the block cannot commit) or is not executed
	}
	t := max(decodeTime(b.Payload), par.time+1)
	p := d.proposalOf(b, t)
	d.execs[string(h)] = &execInfo{height: b.Height, time: t, asked: asked, ends: endsEpoch(b), p: p}
	d.xq.push(execJob{hash: h, parent: slices.Clone(b.Parent), p: p})
	return h, false
}

// decodeTime is the proposer's time in a payload; 0 in a bad one.
func decodeTime(data []byte) uint64 {
	p, err := decodePayload(data)
	if err != nil {
		return 0
	}
	return p.Time
}

// proposalOf is the block b as the Applier executes it, at time t.
func (d *Driver) proposalOf(b *pb.Block, t uint64) *consensus.Proposal {
	p, err := decodePayload(b.Payload)
	if err != nil && len(b.Payload) == 0 {
		// A block after the one that ends its epoch carries nothing and
		// never commits.
		p = payload{}
	} else if err != nil {
		// A certified block with a bad payload commits empty on every
		// node alike: consensus does not read payloads.
		d.log.Warn("a block has a bad payload; it executes empty", "height", b.Height, "err", err)
		p = payload{}
	}
	txs, err := decodeTxs(p.Txs, d.cfg.Core.Hash)
	if err != nil {
		d.log.Warn("a block has a bad transaction; it executes empty", "height", b.Height, "err", err)
		txs = nil
	}
	return &consensus.Proposal{Height: b.Height, Time: t, Proposer: slices.Clone(b.Proposer), Txs: txs}
}

// executed takes the results the executing goroutine returned and
// reports those the core asked for. A block that cannot be executed (its
// branch lost) gets no result: it cannot commit.
func (d *Driver) executed() error {
	for _, r := range d.xq.take() {
		x := d.execs[string(r.hash)]
		if x == nil {
			continue // pruned meanwhile
		}
		if r.err != nil {
			// Its branch lost (it cannot commit), or the Applier holds
			// too many undecided blocks: if the core asks for it later,
			// it is tried again.
			if x.asked {
				d.log.Warn("a certified block could not be executed", "height", x.height, "block", fmtHash(r.hash), "err", r.err)
			}
			delete(d.execs, string(r.hash))
			continue
		}
		d.results[string(r.hash)] = r.result[:]
		if x.asked {
			if err := d.report(r.hash); err != nil {
				return err
			}
		}
	}
	return nil
}

// report tells the core a result it asked for.
func (d *Driver) report(hash []byte) error {
	var ends bool
	if x := d.execs[string(hash)]; x != nil {
		ends = x.ends
	}
	err := d.core.Executed(hash, d.results[string(hash)], ends)
	if err != nil && !errors.Is(err, ErrUnknownBlock) {
		return err
	}
	return nil
}

// forgetExecs drops what is known of blocks at or below height, but keep.
func (d *Driver) forgetExecs(height uint64, keep string) {
	for k, x := range d.execs {
		if k != keep && x.height <= height {
			delete(d.execs, k)
			delete(d.results, k)
		}
	}
}

// executedAs is the block hash's proposal as executed, nil if unknown.
func (d *Driver) executedAs(hash []byte) *consensus.Proposal {
	if x := d.execs[string(hash)]; x != nil {
		return x.p
	}
	return nil
}
