package node

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/types"
)

// The block pipeline. Consensus hands a block to Apply, which executes it
// and queues it for the committer; while the committer writes block N,
// Apply already executes block N+1 and the engine reaps N+2 from the pool.
// Execution of N+1 reads N's writes from the pending list, so it sees
// exactly the state sequential commits would give. The queue holds at most
// maxPending blocks: a slow disk pushes back on consensus, and through a
// full pool on clients. Only committed blocks are visible through the API
// and to subscribers.

// maxPending is the most executed blocks waiting for the disk.
const maxPending = 2

// pendingBlock is an executed block on its way to the disk.
type pendingBlock struct {
	p        *consensus.Proposal
	unsynced bool // commit without fsync: a block sync run, synced at its end
	synced   bool // from block sync, its hash checked against the peer's block
	res      *execution.Result
	prevTime uint64
	start    time.Time
}

// pipeline is the state shared by Apply and the committer.
type pipeline struct {
	mu      sync.RWMutex
	pending []*pendingBlock // executed, not yet committed, in height order
	exec    store.Tip       // the last executed block: the tip the next one builds on

	queue  chan *pendingBlock
	ctx    context.Context // ends when the pipeline stops: no more waiting for peers
	cancel context.CancelFunc
	done   chan struct{} // closed when the committer has stopped
	failed chan struct{} // closed when a commit fails
	drain  *sync.Cond    // signalled when pending shrinks; uses mu
	err    error         // the committer's fatal error, under mu
}

func (n *Node) startPipeline() {
	p := &n.pipe
	p.exec = n.store.Tip()
	p.queue = make(chan *pendingBlock, maxPending-1)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.done = make(chan struct{})
	p.failed = make(chan struct{})
	p.drain = sync.NewCond(&p.mu)
	go n.commitLoop()
}

// stopPipeline lets the committer finish the queued blocks and stop. Apply
// must not be called afterwards.
func (n *Node) stopPipeline() error {
	if n.pipe.queue == nil {
		return nil
	}
	n.pipe.cancel()
	close(n.pipe.queue)
	<-n.pipe.done
	n.pipe.mu.RLock()
	defer n.pipe.mu.RUnlock()
	return n.pipe.err
}

// Apply implements consensus.Applier: execute the block on top of the
// blocks still pending, then queue it for the committer. It returns once
// the block is executed and queued; a commit failure surfaces on the next
// call, and stops the engine.
func (n *Node) Apply(ctx context.Context, p *consensus.Proposal) error {
	return n.apply(ctx, p, applyOpts{})
}

// applyOpts adjusts apply for blocks from block sync.
type applyOpts struct {
	unsynced bool // commit without an fsync of its own
	verified bool // the caller verified every signature
	synced   bool // a block from block sync, checked against its peer's hash
}

// apply is Apply with options.
func (n *Node) apply(ctx context.Context, p *consensus.Proposal, o applyOpts) error {
	start := time.Now()
	pipe := &n.pipe
	pipe.mu.RLock()
	tip, ferr := pipe.exec, pipe.err
	pipe.mu.RUnlock()
	if ferr != nil {
		return ferr
	}
	if p.Height != tip.Height+1 {
		return fmt.Errorf("proposal for height %d, but the chain is at %d", p.Height, tip.Height)
	}
	if n.net != nil && !o.verified {
		// Blocks from a leader: every signature is checked here, reusing
		// the verifications this node already did at admission.
		if err := n.verifyBlock(p.Txs, p.Time); err != nil {
			return fmt.Errorf("block %d: %w", p.Height, err)
		}
	}
	res, err := n.exec.Execute(pendingReader{n}, &execution.BlockInput{
		Height:        p.Height,
		Time:          p.Time,
		PrevHash:      types.Hash(tip.BlockHash),
		PrevStateHash: types.Hash(tip.StateHash),
		Proposer:      p.Proposer,
		Txs:           p.Txs,
	})
	if err != nil {
		return fmt.Errorf("execute block %d: %w", p.Height, err)
	}
	b := &pendingBlock{p: p, res: res, prevTime: tip.Time, start: start, unsynced: o.unsynced, synced: o.synced}
	pipe.mu.Lock()
	pipe.pending = append(pipe.pending, b)
	pipe.exec = store.Tip{Height: p.Height, Time: p.Time, BlockHash: store.Hash(res.Hash),
		WriteSetHash: store.Hash(res.WriteSetHash), StateHash: store.Hash(res.StateHash)}
	pipe.mu.Unlock()
	if n.net != nil && !o.synced {
		n.net.executed(p.Height, res.Hash)
	}
	select {
	case pipe.queue <- b: // blocks while maxPending blocks wait for the disk
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Last implements consensus.Applier: the last executed block.
func (n *Node) Last() (uint64, uint64) {
	n.pipe.mu.RLock()
	defer n.pipe.mu.RUnlock()
	return n.pipe.exec.Height, n.pipe.exec.Time
}

// commitLoop writes queued blocks in order. After a failure it keeps
// draining the queue without writing, so Apply never blocks, and records
// the error for Apply and Run to report.
func (n *Node) commitLoop() {
	defer close(n.pipe.done)
	for b := range n.pipe.queue {
		n.pipe.mu.RLock()
		failed := n.pipe.err != nil
		n.pipe.mu.RUnlock()
		if failed {
			continue
		}
		if n.net != nil && !b.synced {
			// Visible only once a majority computed the same block; a
			// block from block sync already matched its peer's hash.
			if err := n.net.confirm(n.pipe.ctx, b.p.Height); err != nil {
				if n.pipe.ctx.Err() != nil {
					continue // shutting down: the block stays in the Raft log
				}
				n.pipe.mu.Lock()
				n.pipe.err = err
				close(n.pipe.failed)
				n.pipe.drain.Broadcast()
				n.pipe.mu.Unlock()
				continue
			}
		}
		if err := n.commit(b); err != nil {
			n.log.Error("commit failed; the node stops", "height", b.p.Height, "err", err)
			n.pipe.mu.Lock()
			n.pipe.err = err
			close(n.pipe.failed)
			n.pipe.drain.Broadcast()
			n.pipe.mu.Unlock()
			continue
		}
		n.pipe.mu.Lock()
		n.pipe.pending = n.pipe.pending[1:]
		n.pipe.drain.Broadcast()
		n.pipe.mu.Unlock()
		n.pool.Update(b.p.Txs)
		tids := make([]types.Hash, len(b.p.Txs))
		for i, tx := range b.p.Txs {
			tids[i] = tx.ID
		}
		n.hub.Publish(&api.Committed{Header: b.res.Header, Hash: b.res.Hash, TxIDs: tids, Receipts: b.res.Receipts})

		n.metrics.observeBlock(b.p, b.prevTime, b.start)
	}
}

// commit writes one executed block in one atomic, synced batch.
func (n *Node) commit(b *pendingBlock) error {
	p, res := b.p, b.res
	ids := make([]store.Hash, len(p.Txs))
	for i, tx := range p.Txs {
		ids[i] = store.Hash(tx.ID)
	}
	err := n.store.CommitBlock(&store.BlockCommit{
		Unsynced: b.unsynced,
		Height:   p.Height,
		Block:    res.Block,
		Hash:     store.Hash(res.Hash),
		TxIDs:    ids,
		Receipts: res.EncodedReceipts,
		History:  historyOf(p.Txs, res.Receipts),
		Writes:   storeWrites(res.Writes),
		Tip: store.Tip{
			Height:       p.Height,
			Time:         p.Time,
			BlockHash:    store.Hash(res.Hash),
			WriteSetHash: store.Hash(res.WriteSetHash),
			StateHash:    store.Hash(res.StateHash),
		},
	})
	if err != nil {
		return fmt.Errorf("commit block %d: %w", p.Height, err)
	}
	return nil
}

// Flush waits until every executed block is committed, or the committer
// has failed (returning its error).
func (n *Node) Flush() error {
	pipe := &n.pipe
	pipe.mu.Lock()
	defer pipe.mu.Unlock()
	for len(pipe.pending) > 0 && pipe.err == nil {
		pipe.drain.Wait()
	}
	return pipe.err
}

// pendingReader reads state as of the last executed block: the newest
// pending block that wrote a key wins, then committed state.
type pendingReader struct{ n *Node }

func (r pendingReader) Get(key []byte) ([]byte, error) {
	pipe := &r.n.pipe
	pipe.mu.RLock()
	for i := len(pipe.pending) - 1; i >= 0; i-- {
		ws := pipe.pending[i].res.Writes
		j := sort.Search(len(ws), func(j int) bool { return bytes.Compare(ws[j].Key, key) >= 0 })
		if j < len(ws) && bytes.Equal(ws[j].Key, key) {
			w := ws[j]
			pipe.mu.RUnlock()
			if w.Delete {
				return nil, nil
			}
			return w.Value, nil
		}
	}
	pipe.mu.RUnlock()
	return stateReader{r.n.store}.Get(key)
}

// verifyBlock checks the signatures of a block from another node. On a
// permissioned chain the certificate signers are bound to their keys first;
// a transaction whose signer cannot be bound is left to execution, which
// judges it INVALID on every node alike. Any bad signature is an error.
func (n *Node) verifyBlock(txs []*types.Tx, at uint64) error {
	bound := txs
	if n.ident != nil {
		n.bindSigners(txs, at)
		bound = slices.DeleteFunc(slices.Clone(txs), func(tx *types.Tx) bool { return !tx.Bound() })
	}
	for i, err := range n.pool.Verifier().Verify(bound) {
		if err != nil {
			return fmt.Errorf("transaction %s: %w", bound[i].ID, err)
		}
	}
	return nil
}
