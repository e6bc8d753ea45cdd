package bft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// The driver: the loop around a Core in a node. It owns the goroutine, the
// clock, the disk and the transport, and turns committed blocks into
// consensus.Proposals for the chain.
//
// Execution results. The core's votes carry the parent block's result: the
// chain's hash of the block after executing it, which covers its write
// set and state hash. Blocks are executed speculatively, before they are
// decided (execute.go), so 2f+1 votes for a block are 2f+1 validators
// agreeing on the state its parent left; a committed block's certified
// result that differs from this node's stops the node (ErrDiverged)
// before the block reaches its chain.

var (
	// ErrDiverged is returned by Run when a committed block's certified
	// result differs from this node's: its data cannot be trusted; restore
	// it from a peer.
	ErrDiverged = errors.New("bft: this node's result differs from the quorum's")
	// ErrStorage wraps failures of the driver's disk.
	ErrStorage = errors.New("bft: storage failed")
)

// Transport sends encoded messages to other validators. Send must not
// block for long; a lost message is recovered by the protocol.
type Transport interface {
	Send(to string, msg []byte)
}

// Pool is what the driver needs from the transaction pool.
// *txpool.Pool implements it.
type Pool interface {
	consensus.Mempool
	// Claim keeps transactions that a block on its way carries from
	// being reaped (see claims.go); unknown ids are remembered.
	Claim(ids []types.Hash)
	// Unclaim makes claimed or reaped transactions reapable again: their
	// blocks will not commit.
	Unclaim(ids []types.Hash)
	// ResetReaped makes every reaped or claimed, uncommitted transaction
	// reapable again and forgets remembered claims: called when the
	// driver starts on a new root (epoch switch, block sync).
	ResetReaped()
}

// DriverConfig configures a Driver.
type DriverConfig struct {
	Core Config // Storage is ignored: the driver's chain store is not read back
	// Dir holds the safety state and the blocks (created if missing).
	Dir string
	// GenesisHash is the hash of the chain's block 0, the same on every
	// node; the first round builds on it.
	GenesisHash []byte
	// TickInterval is one core Tick (default 100ms): a round times out
	// after Core.RoundTicks of them.
	TickInterval time.Duration
	// Limits cut blocks; Limits.Interval is the longest a leader with an
	// empty pool waits before it proposes an empty block (default: a third
	// of the round timeout), which keeps rounds from timing out.
	Limits     consensus.Limits
	LiveLimits func() (maxTxs, maxBytes int, interval time.Duration)
	Log        *slog.Logger
	Metrics    prometheus.Registerer
	// NextEpoch decides the validator set after a block that ends an
	// epoch (epoch.go); nil keeps the set. Core.Epoch and
	// Core.Validators are the genesis epoch's: a recorded later epoch
	// replaces them.
	NextEpoch func(EpochChange) (EpochInfo, error)

	// Sync connects block sync (sync.go), which a node far behind needs.
	Sync *SyncConfig
}

// ValidatorStatus is a validator and the highest round of a message
// received from it (this node: its own round).
type ValidatorStatus struct {
	ID            string
	LastSeenRound uint64
}

// DriverStatus is the driver's position for status pages.
type DriverStatus struct {
	Status
	Validators []ValidatorStatus
}

// Driver runs a Core. It implements consensus.Engine.
type Driver struct {
	cfg   DriverConfig
	pool  Pool
	app   Applier
	tr    Transport
	clock clock.Clock
	log   *slog.Logger
	store *fileStore
	m     *driverMetrics

	inbox chan inbound

	mu     sync.Mutex
	status DriverStatus
	seen   map[string]uint64

	// Owned by the Run goroutine.
	core    *Core
	results map[string][]byte    // execution results of uncommitted blocks (and the root)
	execs   map[string]*execInfo // blocks being executed or executed, and the root
	xq      *execQueue
	stored  map[string]uint64 // stored block files by name, with heights
	heights map[string]uint64 // uncommitted blocks with transactions
	claims  claims            // what this node holds claimed in its pool: claims.go
	// lastTxRound is the highest round of a block with transactions.
	lastTxRound uint64
	propose     uint64 // a round this node leads and has not proposed yet
	lastQC      uint64
	roundAt     time.Time
	evidence    []Evidence
	replay      []*pb.Block // committed blocks the chain lacks, applied first by Run
	// Committed blocks go to the chain on a goroutine of their own, so
	// that writing them does not hold up voting; the queue is bounded,
	// which holds consensus back when the chain falls behind.
	applyCh  chan applyJob
	applyErr chan error
	ep       epochState
	sync     syncState
}

// maxEvidence is how many equivocations Evidence returns (the newest);
// the evidence file keeps them all.
const maxEvidence = 1024

// applyQueue is how many committed blocks may wait for the chain.
const applyQueue = 8

type inbound struct {
	from string
	msg  *pb.Message
}

// inboxSize bounds the messages waiting for the loop; more are dropped
// and recovered by the protocol (timeouts resend, fetches ask again).
const inboxSize = 4096

// NewDriver opens the driver's storage and builds the core on what was
// persisted. Committed blocks the chain lacks (it was still writing them
// when the node stopped) are given to it first thing in Run.
func NewDriver(cfg DriverConfig, pool Pool, app Applier, tr Transport, clk clock.Clock) (*Driver, error) {
	if cfg.TickInterval == 0 {
		cfg.TickInterval = 100 * time.Millisecond
	}
	if cfg.Core.RoundTicks == 0 {
		cfg.Core.RoundTicks = 10
	}
	if cfg.Limits.MaxTxs == 0 {
		cfg.Limits.MaxTxs = 10000
	}
	if cfg.Limits.MaxBytes == 0 {
		cfg.Limits.MaxBytes = 16 << 20
	}
	if cfg.Limits.Interval == 0 {
		cfg.Limits.Interval = cfg.TickInterval * time.Duration(cfg.Core.RoundTicks) / 3
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.GenesisHash) != HashSize {
		return nil, fmt.Errorf("%w: the genesis hash must have %d bytes", ErrConfig, HashSize)
	}
	if cfg.Core.Hash == 0 {
		cfg.Core.Hash = crypto.SHA256
	}
	cfg.Core.Storage = nil
	st, err := openFileStore(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	d := &Driver{cfg: cfg, pool: pool, app: app, tr: tr, clock: clk, log: cfg.Log, store: st,
		inbox: make(chan inbound, inboxSize), seen: map[string]uint64{},
		results: map[string][]byte{}, execs: map[string]*execInfo{}, xq: newExecQueue(), stored: map[string]uint64{}, heights: map[string]uint64{},
		claims: claims{held: map[string]claimed{}, count: map[types.Hash]int32{}}}
	if cfg.Metrics != nil {
		d.m = newDriverMetrics(cfg.Metrics)
	}
	if err := d.open(); err != nil {
		return nil, err
	}
	return d, nil
}

// genesisRoot is block 0 as the core sees it: the same on every node. Its
// result is the chain's genesis block hash.
func genesisRoot(genesisHash []byte) Root {
	b := &pb.Block{Version: WireVersion, Parent: slices.Clone(genesisHash), Proposer: []byte("genesis")}
	return Root{Block: b, Result: slices.Clone(genesisHash)}
}

func (d *Driver) open() error {
	state, sr, blocks, err := d.store.load()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	if err := d.openSync(); err != nil {
		return err
	}
	root := genesisRoot(d.cfg.GenesisHash)
	if sr != nil {
		root = Root{Block: sr.Block, QC: sr.QC, Result: sr.Result, Reputation: sr.Reputation}
	}
	byHash := map[string]*pb.Block{}
	for _, b := range blocks {
		h := blockHashOf(d.cfg.Core.Hash, b)
		byHash[string(h)] = b
		d.stored[fmtHash(h)] = b.Height
	}
	// The root is written before its blocks go to the chain: the chain
	// may lack the last few, which are among the stored blocks.
	last, _ := d.app.Last()
	if d.sync.target != nil {
		last = root.Block.Height // the chain is on its way to a sync target: Run finishes that first
	}
	if last > root.Block.Height {
		return fmt.Errorf("%w: the chain is at height %d but consensus committed only up to %d: the bft folder does not belong to this data", ErrStorage, last, root.Block.Height)
	}
	var replay []*pb.Block
	for b := root.Block; b.Height > last; {
		replay = append(replay, b)
		p := byHash[string(b.Parent)]
		if p == nil && b.Height-1 > last {
			return fmt.Errorf("%w: committed block %d is missing from the bft folder", ErrStorage, b.Height-1)
		}
		b = p
		if b == nil {
			break
		}
	}
	slices.Reverse(replay)
	d.replay = replay
	if err := d.openEpoch(root); err != nil {
		return err
	}
	if d.core, err = New(d.cfg.Core, root, state, blocks); err != nil {
		return err
	}
	rh := string(blockHashOf(d.cfg.Core.Hash, root.Block))
	d.results[rh] = root.Result
	d.execs[rh] = &execInfo{height: root.Block.Height} // its time is the chain's once Run replayed
	if d.evidence, err = d.store.loadEvidence(); err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	if len(d.evidence) > maxEvidence {
		d.evidence = slices.Clone(d.evidence[len(d.evidence)-maxEvidence:])
	}
	d.roundAt = d.clock.Now()
	d.lastQC = d.core.Status().HighQCRound
	d.publishStatus()
	return nil
}

func blockHashOf(h crypto.Hash, b *pb.Block) []byte {
	s := h.Sum(EncodeBlock(b))
	return s[:]
}

func fmtHash(h []byte) string { return fmt.Sprintf("%x", h) }

// Name implements consensus.Engine.
func (d *Driver) Name() string { return "bft" }

// Receive hands the loop a message from validator from, as the transport
// authenticated it. Bad messages are dropped with an error.
func (d *Driver) Receive(from string, data []byte) error {
	m, err := DecodeMessage(data)
	if err != nil {
		return err
	}
	if r := messageRound(m); r > 0 {
		d.mu.Lock()
		if r > d.seen[from] {
			d.seen[from] = r
		}
		d.mu.Unlock()
	}
	select {
	case d.inbox <- inbound{from: from, msg: m}:
	default: // the loop is behind: the protocol recovers the message
	}
	return nil
}

func messageRound(m *pb.Message) uint64 {
	switch {
	case m.GetProposal() != nil:
		return m.GetProposal().GetBlock().GetRound()
	case m.GetVote() != nil:
		return m.GetVote().GetData().GetRound()
	case m.GetTimeout() != nil:
		return m.GetTimeout().GetRound()
	}
	return 0
}

// Status reports the round, the leader and each validator's last seen
// round. Safe for concurrent use.
func (d *Driver) Status() DriverStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.status
	s.Validators = make([]ValidatorStatus, len(d.cfg.Core.Validators))
	for i, v := range d.cfg.Core.Validators {
		s.Validators[i] = ValidatorStatus{ID: v.ID, LastSeenRound: d.seen[v.ID]}
		if v.ID == d.cfg.Core.ID {
			s.Validators[i].LastSeenRound = s.Round
		}
	}
	return s
}

// Evidence returns the equivocations seen so far, also before a restart
// (at most the newest maxEvidence).
func (d *Driver) Evidence() []Evidence {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.evidence)
}

func (d *Driver) publishStatus() {
	s := d.core.Status()
	d.mu.Lock()
	d.status.Status = s
	d.mu.Unlock()
	if d.m != nil {
		d.m.round.Set(float64(s.Round))
	}
}

// Run implements consensus.Engine.
func (d *Driver) Run(ctx context.Context) error {
	if err := d.resumeSync(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	for len(d.replay) > 0 {
		if err := d.apply(ctx, applyJob{block: d.replay[0]}); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		d.replay = d.replay[1:]
	}
	// The chain is at the root now: speculation builds on it.
	rh := blockHashOf(d.cfg.Core.Hash, d.core.root.b)
	_, d.execs[string(rh)].time = d.app.Last()
	d.app.Anchor(rh)
	actx, cancel := context.WithCancel(ctx)
	executing := make(chan struct{})
	go func() {
		defer close(executing)
		d.xq.run(actx, d.app)
	}()
	d.applyCh, d.applyErr = make(chan applyJob, applyQueue), make(chan error, 1)
	applied := make(chan struct{})
	go func() {
		defer close(applied)
		for j := range d.applyCh {
			if err := d.apply(actx, j); err != nil {
				if actx.Err() == nil {
					d.applyErr <- err
				}
				for range d.applyCh {
				}
				return
			}
			d.noteApplied()
		}
	}()
	defer func() {
		// Blocks still queued are given back to the chain at the next
		// start: the root is ahead of it.
		cancel()
		close(d.applyCh)
		<-applied
		<-executing // the chain may close once Run returns
	}()
	if err := d.resumeEpoch(ctx); err != nil {
		return err
	}
	ticker := d.clock.NewTicker(d.cfg.TickInterval)
	defer ticker.Stop()
	var idle clock.Timer
	var idleC <-chan time.Time
	defer func() {
		if idle != nil {
			idle.Stop()
		}
	}()
	for {
		if err := d.handleReady(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if d.propose != 0 && d.propose != d.core.Round() {
			d.propose = 0
		}
		var poolC <-chan struct{}
		if d.propose != 0 {
			if d.shouldPropose() {
				if err := d.doPropose(); err != nil {
					return err
				}
				continue
			}
			poolC = d.pool.Ready()
			if idleC == nil {
				idle = d.clock.NewTimer(d.limits().Interval)
				idleC = idle.C()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-d.applyErr:
			return err
		case <-d.xq.doneReady:
			if err := d.executed(); err != nil {
				return err
			}
		case in := <-d.inbox:
			if done, err := d.syncStep(ctx, in); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			} else if done {
				break
			}
			if done, err := d.otherEpoch(in); done || err != nil {
				if err != nil {
					return err
				}
				break
			}
			if err := d.core.Step(in.from, in.msg); err != nil && !errors.Is(err, ErrBadMessage) {
				return err
			} else if err != nil {
				d.log.Debug("bad bft message", "from", in.from, "err", err)
			}
		case <-ticker.C():
			d.ep.asked = false
			if err := d.core.Tick(); err != nil {
				return err
			}
			d.syncTick()
		case <-poolC:
		case <-idleC:
			idle, idleC = nil, nil
			if d.propose != 0 {
				if err := d.doPropose(); err != nil {
					return err
				}
			}
		}
		if d.propose == 0 && idle != nil {
			idle.Stop()
			idle, idleC = nil, nil
		}
	}
}

func (d *Driver) limits() consensus.Limits {
	return d.cfg.Limits.Live(d.cfg.LiveLimits, maxPayloadBytes/2)
}

// shouldPropose says whether to propose now rather than wait for
// transactions: when some are ready, when uncommitted blocks carry some
// (their commit needs the next blocks), or when a block with some was
// proposed in the last two rotations of leaders (clients send to any
// validator, and each proposes only from its own pool: under load the
// rounds must come round to them without waiting).
func (d *Driver) shouldPropose() bool {
	if n, _ := d.pool.ReadyLen(); n > 0 {
		return true
	}
	return len(d.heights) > 0 || d.propose <= d.lastTxRound+2*uint64(len(d.cfg.Core.Validators))
}

func (d *Driver) doPropose() error {
	r := d.propose
	d.propose = 0
	l := d.limits()
	height := d.syncClaims()
	txs := d.pool.Reap(l.MaxTxs, l.MaxBytes)
	t := uint64(d.clock.Now().UnixMilli())
	if err := d.core.Propose(r, d.proposalPayload(t, txs)); err != nil {
		if len(txs) > 0 {
			ids := make([]types.Hash, len(txs))
			for i, tx := range txs {
				ids[i] = tx.ID
			}
			d.pool.Unclaim(ids)
		}
		if errors.Is(err, ErrNotReady) {
			return nil
		}
		return err
	}
	if len(txs) > 0 {
		d.holdProposal(r, height, txs)
	}
	return nil
}

// handleReady handles every pending Ready in the order the core requires.
func (d *Driver) handleReady(ctx context.Context) error {
	for d.core.HasReady() {
		rd := d.core.Ready()
		// 1. Persist before anything that depends on it leaves.
		if err := d.store.save(rd.State, rd.Blocks, func(b *pb.Block) []byte { return blockHashOf(d.cfg.Core.Hash, b) }); err != nil {
			return fmt.Errorf("%w: %w", ErrStorage, err)
		}
		for _, b := range rd.Blocks {
			h := blockHashOf(d.cfg.Core.Hash, b)
			d.stored[fmtHash(h)] = b.Height
			if p, err := decodePayload(b.Payload); err == nil && len(p.Txs) > 0 {
				d.heights[string(h)] = b.Height
				d.lastTxRound = max(d.lastTxRound, b.Round)
			}
		}
		// 2. Send.
		for _, env := range rd.Messages {
			data := EncodeMessage(env.Msg)
			if d.m != nil && env.Msg.GetTimeout() != nil && env.To == "" {
				d.m.timeouts.Inc()
			}
			if env.To != "" {
				d.tr.Send(env.To, data)
				continue
			}
			for _, v := range d.cfg.Core.Validators {
				if v.ID != d.cfg.Core.ID {
					d.tr.Send(v.ID, data)
				}
			}
		}
		// 3. Execute, on the executing goroutine (execute.go): results
		// come back through Run. Those known already (the block was
		// executed when it arrived) are reported after Advance. New
		// blocks are executed as they arrive, ahead of being asked.
		var known [][]byte
		for _, b := range rd.Execute {
			if h, ok := d.submit(b, true); ok {
				known = append(known, h)
			}
		}
		for _, b := range rd.Blocks {
			d.submit(b, false)
		}
		// 4. Commit.
		if len(rd.Committed) > 0 {
			if err := d.commit(ctx, rd.Committed); err != nil {
				return err
			}
		}
		// 5. Evidence.
		if len(rd.Evidence) > 0 {
			if err := d.store.appendEvidence(rd.Evidence); err != nil {
				return fmt.Errorf("%w: %w", ErrStorage, err)
			}
			d.mu.Lock()
			d.evidence = append(d.evidence, rd.Evidence...)
			if len(d.evidence) > maxEvidence {
				d.evidence = slices.Clone(d.evidence[len(d.evidence)-maxEvidence:])
			}
			d.mu.Unlock()
			for _, e := range rd.Evidence {
				d.log.Warn("validator equivocated", "validator", e.Validator, "round", e.Round)
			}
		}
		if rd.ProposeRound != 0 {
			d.propose = rd.ProposeRound
		}
		d.core.Advance()
		if rd.EpochEnded {
			if err := d.endEpoch(ctx, rd.Committed[len(rd.Committed)-1]); err != nil {
				return err
			}
			continue
		}
		for _, h := range known {
			if err := d.report(h); err != nil {
				return err
			}
		}
		d.observe()
	}
	return nil
}

// observe updates the status and the round and QC metrics.
func (d *Driver) observe() {
	s := d.core.Status()
	now := d.clock.Now()
	if s.HighQCRound > d.lastQC {
		if d.m != nil {
			d.m.qcLatency.Observe(now.Sub(d.roundAt).Seconds())
		}
		d.lastQC = s.HighQCRound
	}
	d.mu.Lock()
	prev := d.status.Round
	d.mu.Unlock()
	if s.Round != prev {
		d.roundAt = now
		if d.m != nil && s.Round > prev {
			d.m.rounds.Add(float64(s.Round - prev))
		}
	}
	d.publishStatus()
}

// commit hands committed blocks to the chain, recording the root first.
func (d *Driver) commit(ctx context.Context, cs []Commit) error {
	for _, c := range cs {
		mine := d.results[string(c.Hash)]
		if !bytes.Equal(mine, c.Result) {
			return fmt.Errorf("%w: block %d (round %d)", ErrDiverged, c.Block.Height, c.Block.Round)
		}
	}
	last := cs[len(cs)-1]
	// The pool drops committed transactions once the chain has applied
	// them; until then they must not be proposed again.
	d.settleClaims(cs, last.Block.Height)
	if err := d.store.saveRoot(storedRoot{Block: last.Block, QC: last.QC, Result: last.Result, Reputation: last.Reputation}); err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	d.noteCheckpoints(cs)
	for _, c := range cs {
		select {
		case d.applyCh <- applyJob{block: c.Block, hash: c.Hash, result: c.Result, p: d.executedAs(c.Hash)}:
		case err := <-d.applyErr:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
		delete(d.heights, string(c.Hash))
		if d.m != nil {
			d.m.commits.Inc()
		}
	}
	h := last.Block.Height
	for k, hh := range d.heights {
		if hh <= h {
			delete(d.heights, k)
		}
	}
	d.forgetExecs(h, string(last.Hash))
	durable := h
	if dur, ok := d.app.(interface{ Durable() (uint64, [32]byte) }); ok {
		durable, _ = dur.Durable()
	}
	d.store.prune(d.stored, min(durable, h))
	return nil
}

// applyJob is a committed block for the chain, with its certified result
// (nil for blocks replayed at start).
type applyJob struct {
	block        *pb.Block
	hash, result []byte
	p            *consensus.Proposal // as speculated, if it was; see apply
}

// apply hands a committed block to the chain, which commits its
// speculation (or executes it, when replayed at start).
func (d *Driver) apply(ctx context.Context, j applyJob) error {
	b := j.block
	h := j.hash
	if h == nil {
		h = blockHashOf(d.cfg.Core.Hash, b)
	}
	_, lastTime := d.app.Last()
	t := max(decodeTime(b.Payload), lastTime+1)
	p := j.p
	if p == nil || p.Time != t {
		p = d.proposalOf(b, t)
	}
	r, err := d.app.ApplyBlock(ctx, h, p)
	if err != nil {
		return fmt.Errorf("bft: apply block %d: %w", b.Height, err)
	}
	if j.result != nil && !bytes.Equal(r[:], j.result) {
		return fmt.Errorf("%w: block %d (round %d) executed to another result when applied", ErrDiverged, b.Height, b.Round)
	}
	return nil
}
