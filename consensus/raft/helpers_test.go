package raft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// testTxs returns n signed transactions from one sender with nonces 0..n-1,
// made once per test binary.
var (
	txsOnce sync.Once
	allTxs  []*types.Tx
)

func testTxs(t testing.TB, n int) []*types.Tx {
	t.Helper()
	txsOnce.Do(func() {
		k, err := crypto.GenerateKey(crypto.Ed25519, nil)
		if err != nil {
			panic(err)
		}
		for i := range 2000 {
			tx, err := types.SignTx(&pb.TxPayload{
				ChainId: "test", Nonce: uint64(i), ExpiresAt: 1 << 62, Contract: "token", Method: "transfer", Args: []byte{1, 2, 3},
			}, k, crypto.SHA256)
			if err != nil {
				panic(err)
			}
			allTxs = append(allTxs, tx)
		}
	})
	if n > len(allTxs) {
		t.Fatalf("test wants %d transactions, only %d made", n, len(allTxs))
	}
	return allTxs[:n]
}

// network is an in-memory Transport: one bounded inbox per node, delivered
// in order by one goroutine per node; full inboxes and blocked links drop.
type network struct {
	mu      sync.Mutex
	engines map[uint64]*Engine
	inbox   map[uint64]chan []byte
	blocked map[[2]uint64]bool
	wg      sync.WaitGroup
	done    chan struct{}
}

func newNetwork(t testing.TB) *network {
	n := &network{engines: map[uint64]*Engine{}, inbox: map[uint64]chan []byte{}, blocked: map[[2]uint64]bool{}, done: make(chan struct{})}
	t.Cleanup(func() { close(n.done); n.wg.Wait() })
	return n
}

func (n *network) attach(id uint64, e *Engine) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.engines[id] = e
	if _, ok := n.inbox[id]; ok {
		return
	}
	in := make(chan []byte, 4096)
	n.inbox[id] = in
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for {
			select {
			case <-n.done:
				return
			case msg := <-in:
				n.mu.Lock()
				e := n.engines[id]
				n.mu.Unlock()
				if e != nil {
					_ = e.Receive(msg)
				}
			}
		}
	}()
}

func (n *network) detach(id uint64) {
	n.mu.Lock()
	delete(n.engines, id)
	n.mu.Unlock()
}

// partition drops every message between a node of a and a node of b.
func (n *network) partition(a, b []uint64, drop bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			n.blocked[[2]uint64{x, y}] = drop
			n.blocked[[2]uint64{y, x}] = drop
		}
	}
}

func (n *network) transport(from uint64) Transport { return netTransport{n, from} }

type netTransport struct {
	n    *network
	from uint64
}

func (t netTransport) Send(to uint64, msg []byte) {
	t.n.mu.Lock()
	in, ok := t.n.inbox[to]
	drop := t.n.blocked[[2]uint64{t.from, to}]
	t.n.mu.Unlock()
	if !ok || drop {
		return
	}
	select {
	case in <- msg:
	default:
	}
}

// fakePool holds transactions in nonce order; reaped ones wait for commit
// or ResetReaped.
type fakePool struct {
	mu        sync.Mutex
	pending   []*types.Tx
	reaped    map[types.Hash]bool
	committed map[types.Hash]bool
	ready     chan struct{}
}

func newFakePool() *fakePool {
	return &fakePool{reaped: map[types.Hash]bool{}, committed: map[types.Hash]bool{}, ready: make(chan struct{}, 1)}
}

func (p *fakePool) add(txs []*types.Tx) {
	p.mu.Lock()
	for _, tx := range txs {
		if !p.committed[tx.ID] {
			p.pending = append(p.pending, tx)
		}
	}
	p.mu.Unlock()
	p.signal()
}

func (p *fakePool) signal() {
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

func (p *fakePool) commit(txs []*types.Tx) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, tx := range txs {
		p.committed[tx.ID] = true
		delete(p.reaped, tx.ID)
	}
	p.pending = slices.DeleteFunc(p.pending, func(tx *types.Tx) bool { return p.committed[tx.ID] })
}

func (p *fakePool) Reap(maxTxs, maxBytes int) []*types.Tx {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*types.Tx
	size := 0
	for _, tx := range p.pending {
		if p.reaped[tx.ID] {
			continue
		}
		if len(out) == maxTxs || size+len(tx.Raw) > maxBytes {
			break
		}
		out = append(out, tx)
		size += len(tx.Raw)
		p.reaped[tx.ID] = true
	}
	return out
}

func (p *fakePool) ReadyLen() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, size := 0, 0
	for _, tx := range p.pending {
		if !p.reaped[tx.ID] {
			n++
			size += len(tx.Raw)
		}
	}
	return n, size
}

func (p *fakePool) Ready() <-chan struct{} { return p.ready }

func (p *fakePool) ResetReaped() {
	p.mu.Lock()
	clear(p.reaped)
	p.mu.Unlock()
	p.signal()
}

type syncCall struct {
	height, from uint64
	hash         [32]byte
}

// fakeApp records applied blocks; the newest lag blocks are not durable.
// SyncTo copies blocks from source.
type fakeApp struct {
	mu      sync.Mutex
	blocks  []*consensus.Proposal
	lag     int
	durable int
	pool    *fakePool
	syncs   []syncCall
	source  func(height uint64) *fakeApp
	confs   []ConfChange
}

func blockHash(p *consensus.Proposal) [32]byte {
	h := sha256.New()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], p.Height)
	binary.BigEndian.PutUint64(b[8:], p.Time)
	h.Write(b[:])
	for _, tx := range p.Txs {
		h.Write(tx.ID[:])
	}
	return [32]byte(h.Sum(nil))
}

func (a *fakeApp) Apply(_ context.Context, p *consensus.Proposal) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applyLocked(p)
}

func (a *fakeApp) applyLocked(p *consensus.Proposal) error {
	if p.Height != uint64(len(a.blocks))+1 {
		return fmt.Errorf("fake applier: got height %d at height %d", p.Height, len(a.blocks))
	}
	if n := len(a.blocks); n > 0 && p.Time <= a.blocks[n-1].Time {
		return fmt.Errorf("fake applier: block %d time %d not after %d", p.Height, p.Time, a.blocks[n-1].Time)
	}
	a.blocks = append(a.blocks, p)
	a.durable = max(a.durable, len(a.blocks)-a.lag)
	if a.pool != nil {
		a.pool.commit(p.Txs)
	}
	return nil
}

func (a *fakeApp) Last() (uint64, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.blocks) == 0 {
		return 0, 0
	}
	return uint64(len(a.blocks)), a.blocks[len(a.blocks)-1].Time
}

func (a *fakeApp) Durable() (uint64, [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.durable
	if h == 0 {
		return 0, [32]byte{}
	}
	return uint64(h), blockHash(a.blocks[h-1])
}

func (a *fakeApp) SyncTo(ctx context.Context, height uint64, hash [32]byte, from uint64) error {
	src := a.source(height)
	if src == nil {
		return errors.New("fake applier: no node has the blocks")
	}
	src.mu.Lock()
	blocks := slices.Clone(src.blocks[:height])
	src.mu.Unlock()
	if blockHash(blocks[height-1]) != hash {
		return fmt.Errorf("fake applier: SyncTo hash for height %d does not match the block", height)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.syncs = append(a.syncs, syncCall{height: height, from: from, hash: hash})
	for _, b := range blocks[len(a.blocks):] {
		if err := a.applyLocked(b); err != nil {
			return err
		}
	}
	return nil
}

// crash forgets the blocks that were not durable, as kill -9 would.
func (a *fakeApp) crash() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.blocks = a.blocks[:a.durable]
}

func (a *fakeApp) snapshot() []*consensus.Proposal {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.blocks)
}

func (a *fakeApp) onConf(c ConfChange) {
	a.mu.Lock()
	a.confs = append(a.confs, c)
	a.mu.Unlock()
}

type tnode struct {
	id     uint64
	dir    string
	pool   *fakePool
	app    *fakeApp
	eng    *Engine
	cancel context.CancelFunc
	done   chan error
	err    error // Run's result once done
}

type cluster struct {
	mu    sync.Mutex // guards nodes against add while SyncTo reads it
	t     *testing.T
	net   *network
	nodes map[uint64]*tnode
	ids   []uint64
	tune  func(*Config)
}

func newCluster(t *testing.T, n int, tune func(*Config)) *cluster {
	c := &cluster{t: t, net: newNetwork(t), nodes: map[uint64]*tnode{}, tune: tune}
	for i := 1; i <= n; i++ {
		c.ids = append(c.ids, uint64(i))
	}
	for _, id := range c.ids {
		c.add(id)
		c.start(id, false)
	}
	t.Cleanup(func() {
		for _, id := range slices.Sorted(mapsKeys(c.nodes)) {
			c.stop(id)
		}
	})
	return c
}

func mapsKeys(m map[uint64]*tnode) func(func(uint64) bool) {
	return func(yield func(uint64) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (c *cluster) add(id uint64) *tnode {
	pool := newFakePool()
	n := &tnode{id: id, dir: c.t.TempDir(), pool: pool}
	n.app = &fakeApp{pool: pool, source: c.source}
	c.mu.Lock()
	c.nodes[id] = n
	c.mu.Unlock()
	return n
}

// source is any node that has applied height.
func (c *cluster) source(height uint64) *fakeApp {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range slices.Sorted(mapsKeys(c.nodes)) {
		if h, _ := c.nodes[id].app.Last(); h >= height {
			return c.nodes[id].app
		}
	}
	return nil
}

func (c *cluster) config(id uint64, join bool) Config {
	cfg := Config{
		ID: id, Dir: c.nodes[id].dir, Hash: crypto.SHA256, Join: join,
		TickInterval: 10 * time.Millisecond, ElectionTicks: 20, HeartbeatTicks: 2,
		BlockInterval: 5 * time.Millisecond, MaxBlockTxs: 20,
		OnConfChange: c.nodes[id].app.onConf,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if !join {
		cfg.Peers = c.ids
	}
	if c.tune != nil {
		c.tune(&cfg)
	}
	return cfg
}

// monoClock is a real clock whose Now is now.
type monoClock struct {
	clock.Clock
	now func() time.Time
}

func (m monoClock) Now() time.Time { return m.now() }

func (c *cluster) start(id uint64, join bool) {
	c.t.Helper()
	n := c.nodes[id]
	var mu sync.Mutex
	var last time.Time
	now := func() time.Time { // a clock that may run slow but never fails
		mu.Lock()
		defer mu.Unlock()
		last = last.Add(time.Millisecond)
		if t := time.Now(); t.After(last) {
			last = t
		}
		return last
	}
	e, err := New(c.config(id, join), n.pool, n.app, c.net.transport(id), []byte{byte(id)}, monoClock{clock.Real, now})
	if err != nil {
		c.t.Fatalf("node %d: New: %v", id, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.eng, n.cancel, n.done, n.err = e, cancel, make(chan error, 1), nil
	c.net.attach(id, e)
	go func() { n.done <- e.Run(ctx) }()
}

// stop ends a node's Run and closes its log; it returns Run's result.
func (c *cluster) stop(id uint64) error {
	n := c.nodes[id]
	if n.eng == nil {
		return n.err
	}
	c.net.detach(id)
	n.cancel()
	n.err = <-n.done
	if err := n.eng.Close(); err != nil {
		c.t.Errorf("node %d: close: %v", id, err)
	}
	n.eng = nil
	return n.err
}

func (c *cluster) running() []uint64 {
	var ids []uint64
	for _, id := range slices.Sorted(mapsKeys(c.nodes)) {
		if c.nodes[id].eng != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// waitFor polls cond for up to 30 s; it fails the test with what otherwise.
func (c *cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		for _, id := range c.running() {
			select {
			case err := <-c.nodes[id].done:
				c.t.Fatalf("node %d stopped while waiting for %s: %v", id, what, err)
			default:
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s; %s", what, c.describe())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *cluster) describe() string {
	var b bytes.Buffer
	for _, id := range c.running() {
		s := c.nodes[id].eng.Status()
		h, _ := c.nodes[id].app.Last()
		fmt.Fprintf(&b, "[node %d %s term %d leader %d commit %d applied %d height %d snap %d voters %v] ", id, s.State, s.Term, s.Leader, s.Commit, s.Applied, h, s.SnapshotIndex, s.Voters)
	}
	return b.String()
}

// leader waits until the nodes in ids agree on one leader among them.
func (c *cluster) leader(ids ...uint64) uint64 {
	c.t.Helper()
	if len(ids) == 0 {
		ids = c.running()
	}
	var lead uint64
	c.waitFor("a leader", func() bool {
		lead = 0
		for _, id := range ids {
			s := c.nodes[id].eng.Status()
			if s.Leader == 0 || (lead != 0 && s.Leader != lead) {
				return false
			}
			lead = s.Leader
		}
		return slices.Contains(ids, lead) && c.nodes[lead].eng.Status().State == "StateLeader"
	})
	return lead
}

func (c *cluster) submit(txs []*types.Tx) {
	for _, id := range c.running() {
		c.nodes[id].pool.add(txs)
	}
}

// waitCommitted waits until every node in ids has applied all of txs.
func (c *cluster) waitCommitted(txs []*types.Tx, ids ...uint64) {
	c.t.Helper()
	if len(ids) == 0 {
		ids = c.running()
	}
	c.waitFor(fmt.Sprintf("%d transactions on nodes %v", len(txs), ids), func() bool {
		for _, id := range ids {
			if countTxs(c.nodes[id].app.snapshot()) < len(txs) {
				return false
			}
		}
		return true
	})
	c.checkChains(txs, ids...)
}

func countTxs(blocks []*consensus.Proposal) int {
	n := 0
	for _, b := range blocks {
		n += len(b.Txs)
	}
	return n
}

// checkChains asserts that the nodes applied identical chains holding each
// of txs exactly once.
func (c *cluster) checkChains(txs []*types.Tx, ids ...uint64) {
	c.t.Helper()
	var ref []*consensus.Proposal
	for i, id := range ids {
		chain := c.nodes[id].app.snapshot()
		if i == 0 {
			ref = chain
			seen := map[types.Hash]int{}
			for _, b := range chain {
				for _, tx := range b.Txs {
					seen[tx.ID]++
				}
			}
			for _, tx := range txs {
				if seen[tx.ID] != 1 {
					c.t.Fatalf("node %d: transaction with nonce %d committed %d times, want once", id, tx.Nonce(), seen[tx.ID])
				}
			}
			if len(seen) != len(txs) {
				c.t.Fatalf("node %d: %d distinct transactions committed, want %d", id, len(seen), len(txs))
			}
			continue
		}
		if len(chain) != len(ref) {
			c.t.Fatalf("node %d has %d blocks, node %d has %d", id, len(chain), ids[0], len(ref))
		}
		for h := range chain {
			if blockHash(chain[h]) != blockHash(ref[h]) || !bytes.Equal(chain[h].Proposer, ref[h].Proposer) {
				c.t.Fatalf("block %d differs between node %d and node %d", h+1, id, ids[0])
			}
		}
	}
}
