// Package chain owns the life of a decided block, from the moment a
// consensus engine hands it over (Apply) to the moment subscribers see it.
// Read this file top to bottom to follow one block:
//
//  1. Apply checks that the block follows the last executed one.
//  2. verify checks its signatures, reusing the verdicts this node's
//     admission already reached (the pool's Verifier caches them by
//     transaction hash). On a permissioned chain, signers named by
//     certificate are first bound to their keys, against the state the
//     block executes on.
//  3. The executor runs it on the pending state: committed state plus the
//     writes of blocks executed but not yet committed, so block N+1
//     executes while block N is still being written.
//  4. On a network the node tells its peers the block's hash and waits
//     until a majority of the voters computed the same one (agree.go); a
//     majority computing another hash stops the node, naming the height.
//  5. commit writes the block in one atomic batch to the store.
//  6. The pool forgets its transactions and subscribers get the block.
//
// Blocks fetched by block sync (sync.go) take the same path, except that
// step 4 becomes the check that executing the block here reproduces the
// hash its peer sent. A BFT engine executes blocks before they are decided
// (speculate.go): a decided block then skips step 3, and its quorum
// certificate stands for step 4 (Config.Certified). committed.go holds
// what the rest of the node judges against committed state: admission's
// check, peers' and API clients' certificates, governed membership changes
// and the block limits.
//
// Consensus engines see a Chain as consensus.Applier (and Raft as
// raft.Applier). What the chain needs from outside comes in through small
// interfaces that node wires: Peers (hashes to and from peers), Fetcher
// (block runs for sync) and a clock.Clock. The package must not import
// node, p2p or a consensus engine.
package chain

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
)

// maxPending is the most executed blocks waiting for the disk: a slow disk
// pushes back on consensus, and through a full pool on clients.
const maxPending = 2

// Pool is what the chain needs from the transaction pool: its signature
// verifier (whose cache holds admission's verdicts) and to be told which
// transactions committed. *txpool.Pool implements it.
type Pool interface {
	Verifier() *txpool.Verifier
	Update(committed []*types.Tx)
}

// Config is what a Chain is built from. Store, Exec, Pool, Hub, Clock and
// Log are required.
type Config struct {
	Hash  crypto.Hash
	Store *store.Store
	Exec  *execution.Executor
	Pool  Pool
	Hub   *api.Hub
	// Signers is the permissioned chain's loader of identity registries,
	// the one the executor's Gate and the governance contract share; nil
	// on an open chain.
	Signers *governance.Loader
	// Peers are the other nodes, for the agreement step; nil on a single
	// node, whose blocks commit without it and whose engine checked the
	// signatures at admission.
	Peers Peers
	// Certified says the engine's certificates cover each block's hash
	// (BFT: votes carry the parent's hash, ApplyBlock), so blocks commit
	// without the agreement step's wait; hashes are still announced, for
	// block sync.
	Certified bool
	// Fetcher fetches block runs for SyncTo; nil on a single node.
	Fetcher Fetcher
	Clock   clock.Clock
	Log     *slog.Logger
	// Metrics, if set, gets the metrics of committed blocks.
	Metrics prometheus.Registerer
}

// Chain is the committed-block path of one node. It implements
// consensus.Applier and raft.Applier.
type Chain struct {
	cfg     Config
	gate    execution.Gate // the Signers' gate; nil on an open chain
	agree   *agreement     // nil on a single node
	metrics *metrics       // nil without Config.Metrics

	mu      sync.RWMutex
	pending []*pendingBlock // executed, not yet committed, in height order
	exec    store.Tip       // the last executed block: the tip the next one builds on
	err     error           // the committer's fatal error
	drain   *sync.Cond      // signalled when pending shrinks; uses mu

	queue  chan *pendingBlock
	ctx    context.Context // ends when the chain stops: no more waiting for peers
	cancel context.CancelFunc
	done   chan struct{} // closed when the committer has stopped
	failed chan struct{} // closed when a commit fails

	committed committedViews
	spec      speculation // blocks executed before they are decided
}

// pendingBlock is an executed block on its way to the disk.
type pendingBlock struct {
	p        *consensus.Proposal
	unsynced bool // commit without fsync: a block sync run, synced at its end
	synced   bool // from block sync, its hash checked against the peer's block
	res      *execution.Result
	prevTime uint64
	start    time.Time
}

// New returns the chain at the store's tip and starts its committer. Call
// Close when the engine has stopped.
func New(cfg Config) *Chain {
	c := &Chain{cfg: cfg, exec: cfg.Store.Tip()}
	if cfg.Signers != nil {
		c.gate = governance.NewGate(cfg.Signers)
	}
	if cfg.Peers != nil {
		c.agree = newAgreement(cfg.Peers, cfg.Clock)
	}
	if cfg.Metrics != nil {
		c.metrics = newMetrics(cfg.Metrics, c.exec.Height)
	}
	c.drain = sync.NewCond(&c.mu)
	c.queue = make(chan *pendingBlock, maxPending-1)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.done = make(chan struct{})
	c.failed = make(chan struct{})
	go c.commitLoop()
	return c
}

// Apply implements consensus.Applier: execute the block on top of the
// blocks still pending, then queue it for the committer. It returns once
// the block is executed and queued; a commit failure surfaces on the next
// call, and stops the engine.
func (c *Chain) Apply(ctx context.Context, p *consensus.Proposal) error {
	return c.apply(ctx, p, applyOpts{})
}

// applyOpts adjusts apply for blocks from block sync.
type applyOpts struct {
	unsynced bool // commit without an fsync of its own
	verified bool // the caller verified every signature
	synced   bool // a block from block sync, checked against its peer's hash
	// For ApplyBlock and Speculate (speculate.go):
	id      []byte        // the engine's id of the block
	reuse   *pendingBlock // its speculative execution, to commit as is
	lenient bool          // a bad signature empties the block instead of refusing it
}

func (c *Chain) apply(ctx context.Context, p *consensus.Proposal, o applyOpts) error {
	start := c.cfg.Clock.Now()
	c.mu.RLock()
	tip, ferr := c.exec, c.err
	c.mu.RUnlock()
	if ferr != nil {
		return ferr
	}
	if p.Height != tip.Height+1 {
		return fmt.Errorf("proposal for height %d, but the chain is at %d", p.Height, tip.Height)
	}
	b := o.reuse
	if b == nil {
		res, txs, err := c.execute(pendingReader{c}, tip, p, o)
		if err != nil {
			return err
		}
		b = &pendingBlock{p: withTxs(p, txs), res: res, prevTime: tip.Time}
	}
	b.start, b.unsynced, b.synced = start, o.unsynced, o.synced
	c.record(b, o.id)
	if c.agree != nil && !o.synced {
		c.agree.executed(p.Height, b.res.Hash)
	}
	select {
	case c.queue <- b: // blocks while maxPending blocks wait for the disk
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// execute verifies and executes p on state, the state after tip. It
// returns the transactions it executed: none when o.lenient and a
// signature is bad.
func (c *Chain) execute(state execution.StateReader, tip store.Tip, p *consensus.Proposal, o applyOpts) (*execution.Result, []*types.Tx, error) {
	// On a permissioned chain the block's gate holds the signer registry
	// of the state before the block: made once here, it binds the signers
	// for verification and then gives execution its verdicts. If it
	// cannot be made, execution tries again and fails the block alike on
	// every node.
	var gate execution.BlockGate
	if c.gate != nil {
		gate, _ = c.gate.Block(state, p.Height, p.Time)
	}
	txs := p.Txs
	if c.agree != nil && !o.verified {
		// A block from a leader: every signature is checked here.
		if err := c.verify(txs, gate); err != nil {
			if !o.lenient {
				return nil, nil, fmt.Errorf("block %d: %w", p.Height, err)
			}
			c.cfg.Log.Warn("a certified block has a bad signature; it executes empty on every node", "height", p.Height, "err", err)
			txs = nil
		}
	}
	res, err := c.cfg.Exec.Execute(state, &execution.BlockInput{
		Height:        p.Height,
		Time:          p.Time,
		PrevHash:      types.Hash(tip.BlockHash),
		PrevStateHash: types.Hash(tip.StateHash),
		Proposer:      p.Proposer,
		Txs:           txs,
		Gate:          gate,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("execute block %d: %w", p.Height, err)
	}
	return res, txs, nil
}

// withTxs is p with txs as its transactions.
func withTxs(p *consensus.Proposal, txs []*types.Tx) *consensus.Proposal {
	if len(txs) == len(p.Txs) {
		return p
	}
	q := *p
	q.Txs = txs
	return &q
}

// record makes b the last executed block. id, if set, is the engine's id
// of the block, which speculation builds on next (speculate.go).
func (c *Chain) record(b *pendingBlock, id []byte) {
	c.spec.mu.Lock()
	defer c.spec.mu.Unlock()
	c.mu.Lock()
	c.pending = append(c.pending, b)
	c.exec = tipAfter(b)
	c.mu.Unlock()
	c.spec.applied(id, b.p.Height)
}

// tipAfter is the tip once b is executed.
func tipAfter(b *pendingBlock) store.Tip {
	return store.Tip{Height: b.p.Height, Time: b.p.Time, BlockHash: store.Hash(b.res.Hash),
		WriteSetHash: store.Hash(b.res.WriteSetHash), StateHash: store.Hash(b.res.StateHash)}
}

// verify checks the signatures of a block from another node. On a
// permissioned chain gate binds the certificate signers to their keys
// first; a transaction whose signer cannot be bound (or every one, when
// gate is nil) is left to execution, which judges it INVALID on every node
// alike. Any bad signature is an error.
func (c *Chain) verify(txs []*types.Tx, gate execution.BlockGate) error {
	bound := txs
	if c.gate != nil {
		if gate != nil {
			for _, tx := range txs {
				if !tx.Bound() {
					_, _, _ = gate.Signer(tx)
				}
			}
		}
		bound = slices.DeleteFunc(slices.Clone(txs), func(tx *types.Tx) bool { return !tx.Bound() })
	}
	for i, err := range c.cfg.Pool.Verifier().Verify(bound) {
		if err != nil {
			return fmt.Errorf("transaction %s: %w", bound[i].ID, err)
		}
	}
	return nil
}

// pendingReader reads state as of the last executed block: the newest
// pending block that wrote a key wins, then committed state.
type pendingReader struct{ c *Chain }

func (r pendingReader) Get(key []byte) ([]byte, error) {
	c := r.c
	c.mu.RLock()
	for i := len(c.pending) - 1; i >= 0; i-- {
		ws := c.pending[i].res.Writes
		j := sort.Search(len(ws), func(j int) bool { return bytes.Compare(ws[j].Key, key) >= 0 })
		if j < len(ws) && bytes.Equal(ws[j].Key, key) {
			w := ws[j]
			c.mu.RUnlock()
			if w.Delete {
				return nil, nil
			}
			return w.Value, nil
		}
	}
	c.mu.RUnlock()
	return c.cfg.Store.State().Get(key)
}

// commitLoop writes queued blocks in order, each once its peers agree.
// After a failure it keeps draining the queue without writing, so Apply
// never blocks, and records the error for Apply and the node to report.
func (c *Chain) commitLoop() {
	defer close(c.done)
	for b := range c.queue {
		c.mu.RLock()
		failed := c.err != nil
		c.mu.RUnlock()
		if failed {
			continue
		}
		if c.agree != nil && !b.synced && !c.cfg.Certified {
			// Visible only once a majority computed the same block; a
			// block from block sync already matched its peer's hash, and
			// a certified one had 2f+1 validators vote for its hash.
			if err := c.agree.confirm(c.ctx, b.p.Height); err != nil {
				if c.ctx.Err() != nil {
					continue // shutting down: the block stays in the Raft log
				}
				c.fail(err)
				continue
			}
		}
		if err := c.commit(b); err != nil {
			c.cfg.Log.Error("commit failed; the node stops", "height", b.p.Height, "err", err)
			c.fail(err)
			continue
		}
		c.mu.Lock()
		c.pending = c.pending[1:]
		c.drain.Broadcast()
		c.mu.Unlock()
		c.publish(b)
	}
}

func (c *Chain) fail(err error) {
	c.mu.Lock()
	c.err = err
	close(c.failed)
	c.drain.Broadcast()
	c.mu.Unlock()
}

// commit writes one executed block in one atomic, synced batch.
func (c *Chain) commit(b *pendingBlock) error {
	ids := make([]store.Hash, len(b.p.Txs))
	for i, tx := range b.p.Txs {
		ids[i] = store.Hash(tx.ID)
	}
	if err := c.cfg.Store.CommitBlock(blockCommit(b.p.Height, b.p.Time, b.res, ids, historyOf(b.p.Txs, b.res.Receipts), b.unsynced)); err != nil {
		return fmt.Errorf("commit block %d: %w", b.p.Height, err)
	}
	return nil
}

// blockCommit is the store's write of an executed block.
func blockCommit(height, time uint64, res *execution.Result, ids []store.Hash, history []store.HistoryEntry, unsynced bool) *store.BlockCommit {
	writes := make([]store.Write, len(res.Writes))
	for i, w := range res.Writes {
		writes[i] = store.Write{Key: w.Key, Value: w.Value, Delete: w.Delete}
	}
	return &store.BlockCommit{
		Unsynced: unsynced,
		Height:   height,
		Block:    res.Block,
		Hash:     store.Hash(res.Hash),
		TxIDs:    ids,
		Receipts: res.EncodedReceipts,
		History:  history,
		Writes:   writes,
		Tip: store.Tip{
			Height:       height,
			Time:         time,
			BlockHash:    store.Hash(res.Hash),
			WriteSetHash: store.Hash(res.WriteSetHash),
			StateHash:    store.Hash(res.StateHash),
		},
	}
}

// CommitGenesis makes block 0 of an empty store: no transactions, the
// genesis state (writes) as its writes, at time t. The genesis document
// doc is recorded first, under the store meta entry meta: a crash before
// the block commits leaves an empty chain that the next start initialises
// again.
func CommitGenesis(s *store.Store, exec *execution.Executor, t uint64, writes []execution.Write, meta string, doc []byte) error {
	res, err := exec.Genesis(t, writes)
	if err != nil {
		return err
	}
	if err := s.PutMeta(meta, doc); err != nil {
		return err
	}
	return s.CommitBlock(blockCommit(0, t, res, nil, nil, false))
}

// publish tells the pool and the subscribers of a committed block.
func (c *Chain) publish(b *pendingBlock) {
	c.cfg.Pool.Update(b.p.Txs)
	tids := make([]types.Hash, len(b.p.Txs))
	for i, tx := range b.p.Txs {
		tids[i] = tx.ID
	}
	c.cfg.Hub.Publish(&api.Committed{Header: b.res.Header, Hash: b.res.Hash, TxIDs: tids, Receipts: b.res.Receipts})
	if c.metrics != nil {
		c.metrics.observe(b.p, b.prevTime, b.start, c.cfg.Clock.Now())
	}
}

// Last implements consensus.Applier: the last executed block.
func (c *Chain) Last() (uint64, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.exec.Height, c.exec.Time
}

// lastHash is the block hash of the last executed block.
func (c *Chain) lastHash() types.Hash {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return types.Hash(c.exec.BlockHash)
}

// Durable implements raft.Applier: the newest block on disk.
func (c *Chain) Durable() (uint64, [32]byte) {
	t := c.cfg.Store.Tip()
	return t.Height, t.BlockHash
}

// Flush waits until every executed block is committed, or the committer
// has failed (returning its error).
func (c *Chain) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) > 0 && c.err == nil {
		c.drain.Wait()
	}
	return c.err
}

// Failed is closed when a commit fails; Flush then returns the error.
func (c *Chain) Failed() <-chan struct{} { return c.failed }

// Close lets the committer finish the queued blocks and stop, and returns
// its error. Apply must not be called afterwards.
func (c *Chain) Close() error {
	c.cancel()
	close(c.queue)
	<-c.done
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.err
}
