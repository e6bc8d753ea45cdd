// Package raft is the crash-fault-tolerant consensus engine, built on
// go.etcd.io/raft/v3.
//
// The leader reaps transactions from its pool into block entries and
// proposes them through the Raft log; every node applies the committed
// blocks, in log order, through its consensus.Applier. The engine owns the
// Raft log storage (a pebble directory), the Raft clock and the Ready loop,
// and membership changes. It must not import execution, contracts, store,
// node, p2p or api: it reaches the network through Transport, the pool
// through Mempool, and the chain through Applier.
//
// Concurrency: one goroutine (Run) owns the Raft state machine: it ticks,
// steps messages, writes the log (one synced batch per Ready) and sends
// messages. Raft runs with asynchronous storage writes, so committed entries
// travel to a second goroutine, which applies them and then acknowledges
// them to Raft. A slow Applier therefore never stops ticks or heartbeats;
// Raft itself stops handing out committed entries once 64 MiB of them await
// application, and the leader stops proposing once MaxInflightBlocks of its
// blocks are unapplied here.
package raft

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/types"
)

// Raft tuning that is not worth a Config field.
const (
	maxSizePerMsg        = 1 << 20               // entries per MsgApp (one entry always fits)
	maxInflightMsgs      = 64                    // MsgApps in flight to one follower
	maxCommittedPerReady = 64 << 20              // committed entry bytes awaiting application
	recvQueue            = 1024                  // received messages waiting for the raft goroutine
	busyRetry            = 20 * time.Millisecond // membership change retry while the leader is busy
)

// Status is a snapshot of the engine's view of the cluster.
type Status struct {
	ID      uint64
	Leader  uint64 // 0 while unknown
	State   string // "StateLeader", "StateFollower", "StateCandidate" or "StatePreCandidate"
	Term    uint64
	Commit  uint64 // highest committed log index
	Applied uint64 // highest log index fully applied through the Applier
	// Height is the chain height after the last applied entry.
	Height uint64
	// SnapshotIndex is the log index the log is compacted up to.
	SnapshotIndex uint64
	Voters        []uint64 // sorted
	Removed       bool     // this node was removed from the cluster
	// MaxID is the highest Raft id the cluster ever used. Ids are never
	// reused: a new node needs a higher one, and an id at or below it that
	// is not a voter belongs to a node that was removed.
	MaxID uint64
}

// Engine is the Raft consensus engine. Create it with New, start it with Run,
// and call Close after Run has returned.
type Engine struct {
	cfg      Config
	pool     Mempool
	app      Applier
	tr       Transport
	proposer []byte
	clock    clock.Clock
	log      *slog.Logger
	st       *storage
	rn       *etcdraft.RawNode // raft goroutine only

	recvc    chan *raftpb.Message
	ackc     chan applyAck
	confc    chan confReq
	reqc     chan request
	unreachc chan uint64
	evictc   chan struct{}
	q        applyQueue
	applyErr chan error

	started   atomic.Bool
	stopped   chan struct{} // closed when Run returns
	closeOnce sync.Once
	closed    chan struct{}

	applied atomic.Uint64 // last log index the apply goroutine finished
	lead    atomic.Uint64

	ownMu sync.Mutex
	own   map[*byte][]*types.Tx // this leader's proposals, by their entry's first byte

	statusMu sync.Mutex
	status   Status

	// Raft goroutine state.
	state          etcdraft.StateType
	term, commit   uint64
	appliedIndex   uint64 // as acknowledged by the apply goroutine
	appliedTerm    uint64
	appliedHeight  uint64
	proposedHeight uint64
	waitingSince   time.Time
	blockTimer     clock.Timer
	snapIndex      uint64
	blocks         []blockAt // block entries applied since snapIndex
	confs          []confAt  // membership since snapIndex, oldest first
	ccSeq          uint64
	pendingCC      uint64
	pendingDone    chan error
	removed        bool
	maxID          uint64 // highest Raft id ever used (Status.MaxID)
	snapMaxID      uint64 // maxID as of snapIndex
}

type blockAt struct{ index, height uint64 }

type confAt struct {
	index uint64
	cs    *raftpb.ConfState
}

// applyItem is work for the apply goroutine: a snapshot to catch up to, or
// committed entries, and the messages to step into Raft once done.
type applyItem struct {
	snap    *raftpb.Snapshot
	startup bool
	ents    []*raftpb.Entry
	resps   []*raftpb.Message
}

type applyAck struct {
	resps       []*raftpb.Message
	index, term uint64 // last applied entry (0 if none)
	height      uint64 // chain height afterwards
	blocks      []blockAt
	confIDs     []uint64
	removed     bool
}

type confReq struct {
	cc    *raftpb.ConfChange
	index uint64
	reply chan *raftpb.ConfState
}

type request struct {
	cc       *raftpb.ConfChange
	accepted chan error // proposal outcome
	done     chan error // applied (nil) or abandoned
}

// applyQueue is unbounded; Raft bounds what it holds (maxCommittedPerReady).
type applyQueue struct {
	mu     sync.Mutex
	items  []applyItem
	signal chan struct{}
}

func (q *applyQueue) push(it applyItem) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *applyQueue) take() []applyItem {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// New opens the Raft log in cfg.Dir and returns an engine ready to Run. An
// empty log is bootstrapped with cfg.Peers unless cfg.Join. proposer is this
// node's id as written into the blocks it proposes; clk is the engine's
// clock: block times, the Raft tick and the block interval (clock.Real in
// production, when nil).
func New(cfg Config, pool Mempool, app Applier, tr Transport, proposer []byte, clk clock.Clock) (*Engine, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(proposer) > maxProposerLen {
		return nil, fmt.Errorf("raft: proposer id of %d bytes exceeds %d", len(proposer), maxProposerLen)
	}
	if clk == nil {
		clk = clock.Real
	}
	log := cfg.Logger.With("raft_id", cfg.ID)
	st, err := openStorage(cfg.Dir, log)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Engine, error) {
		_ = st.close()
		return nil, err
	}
	fresh := st.empty()
	if err := checkState(cfg, st, fresh, app); err != nil {
		return fail(err)
	}
	if err := recordID(cfg); err != nil {
		return fail(err)
	}
	if fresh && !cfg.Join {
		if !slices.Contains(cfg.Peers, cfg.ID) {
			return fail(fmt.Errorf("raft: the log in %s is empty: list the initial voters, this node (%d) among them, in Peers, or set Join to join a running network", cfg.Dir, cfg.ID))
		}
	}
	rn, err := etcdraft.NewRawNode(&etcdraft.Config{
		ID:                        cfg.ID,
		ElectionTick:              cfg.ElectionTicks,
		HeartbeatTick:             cfg.HeartbeatTicks,
		Storage:                   st.mem,
		AsyncStorageWrites:        true,
		MaxSizePerMsg:             maxSizePerMsg,
		MaxCommittedSizePerReady:  maxCommittedPerReady,
		MaxInflightMsgs:           maxInflightMsgs,
		CheckQuorum:               true,
		PreVote:                   true,
		StepDownOnRemoval:         true,
		DisableProposalForwarding: true,
		Logger:                    raftLogger{log},
	})
	if err != nil {
		return fail(fmt.Errorf("raft: %w", err))
	}
	if fresh && !cfg.Join {
		ids := slices.Clone(cfg.Peers)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		peers := make([]etcdraft.Peer, len(ids))
		for i, id := range ids {
			peers[i] = etcdraft.Peer{ID: id}
		}
		if err := rn.Bootstrap(peers); err != nil {
			return fail(fmt.Errorf("raft: bootstrap: %w", err))
		}
	}
	e := &Engine{
		cfg: cfg, pool: pool, app: app, tr: tr, proposer: slices.Clone(proposer), clock: clk, log: log,
		st: st, rn: rn,
		recvc:    make(chan *raftpb.Message, recvQueue),
		ackc:     make(chan applyAck, 64),
		confc:    make(chan confReq),
		reqc:     make(chan request),
		unreachc: make(chan uint64, 64),
		evictc:   make(chan struct{}, 1),
		q:        applyQueue{signal: make(chan struct{}, 1)},
		applyErr: make(chan error, 1),
		stopped:  make(chan struct{}),
		closed:   make(chan struct{}),
		own:      make(map[*byte][]*types.Tx),
		ccSeq:    uint64(clk.Now().UnixNano()), // only matches local waiters
	}
	snap, err := st.mem.Snapshot()
	if err != nil {
		return fail(err)
	}
	_, cs, err := st.mem.InitialState()
	if err != nil {
		return fail(err)
	}
	e.snapIndex = snap.GetMetadata().GetIndex()
	e.appliedIndex = e.snapIndex
	e.appliedTerm = snap.GetMetadata().GetTerm()
	e.confs = []confAt{{index: e.snapIndex, cs: cs}}
	// MaxID and the voters describe one log prefix (the snapshot's here,
	// then each applied change), so that together they never show a member
	// as removed.
	e.snapMaxID = max(maxIDIn(cs), snapMaxID(snap))
	e.maxID = e.snapMaxID
	e.appliedHeight, _ = app.Last()
	if !etcdraft.IsEmptySnap(snap) {
		e.q.push(applyItem{snap: snap, startup: true})
	}
	e.publish()
	return e, nil
}

// checkState refuses a Raft log that is missing or older than the chain the
// node applied from it. Every block this node applied was in its own
// durable log first (Raft runs with asynchronous storage writes, which
// apply only locally persisted entries), and the log is compacted only up
// to durable blocks, so a log that knows no block as high as the store's
// durable one was lost or rolled back, and with it the term and vote.
//
// A joining node with an empty log is let through: that is the restore
// procedure (a new id on a backup's chain data), which cannot be told
// apart from a joined node that lost its raft directory.
// recordID writes cfg.ID into cfg.IDFile (synced, then renamed into
// place) unless the file already holds it.
func recordID(cfg Config) error {
	if cfg.IDFile == "" {
		return nil
	}
	id := strconv.FormatUint(cfg.ID, 10)
	if b, err := os.ReadFile(cfg.IDFile); err == nil && strings.TrimSpace(string(b)) == id {
		return nil
	}
	tmp := cfg.IDFile + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("raft: recording the raft id: %w", err)
	}
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, cfg.IDFile)
	}
	if err != nil {
		return fmt.Errorf("raft: recording the raft id: %w", err)
	}
	return nil
}

func checkState(cfg Config, st *storage, fresh bool, app Applier) error {
	durable, _ := app.Durable()
	if durable == 0 {
		return nil
	}
	const rejoin = "Do not start this node under raft id %d again: remove the id from the network and admit the node under a new one (docs/operations.md, \"Backup and restore\")"
	if fresh {
		if cfg.Join {
			if b, err := os.ReadFile(cfg.IDFile); cfg.IDFile != "" && err == nil && strings.TrimSpace(string(b)) == strconv.FormatUint(cfg.ID, 10) {
				return fmt.Errorf("%w: the Raft log in %s is empty, but this node's chain (height %d) was applied under this same raft id: its term, vote and log were lost, and joining afresh could vote twice in one term. "+rejoin,
					ErrStateLost, cfg.Dir, durable, cfg.ID)
			}
			return nil
		}
		return fmt.Errorf("%w: the Raft log in %s is empty, but this node's chain is at height %d: its term, vote and log were lost, and starting afresh could vote twice in one term. "+rejoin,
			ErrStateLost, cfg.Dir, durable, cfg.ID)
	}
	if known := st.chainHeight(); known < durable {
		return fmt.Errorf("%w: the Raft log in %s reaches block %d, but this node's chain is at height %d: the log is older than the chain (restored from an older copy?), and so may be its term and vote. "+rejoin,
			ErrStateLost, cfg.Dir, known, durable, cfg.ID)
	}
	return nil
}

// Name implements consensus.Engine.
func (e *Engine) Name() string { return "raft" }

// Close releases the Raft log. Call it after Run has returned (or instead of
// Run).
func (e *Engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		close(e.closed)
		err = e.st.close()
	})
	return err
}

// Receive hands a message from a peer to the engine. It rejects bytes that
// are not a Raft message a peer may send (ErrBadMessage) and waits while the
// engine's queue is full, which pushes back on the sender's connection.
func (e *Engine) Receive(msg []byte) error {
	m, err := decodeMessage(msg)
	if err != nil {
		return err
	}
	if m.GetTo() != e.cfg.ID {
		return fmt.Errorf("%w: addressed to node %d, this is node %d", ErrBadMessage, m.GetTo(), e.cfg.ID)
	}
	select {
	case e.recvc <- m:
		return nil
	case <-e.stopped:
		return ErrStopped
	case <-e.closed:
		return ErrStopped
	}
}

// decodeMessage decodes a Raft message from a peer and checks that it is one
// a peer may send.
func decodeMessage(b []byte) (*raftpb.Message, error) {
	m := new(raftpb.Message)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	t := m.GetType()
	switch _, known := raftpb.MessageType_name[int32(t)]; {
	case !known:
		return nil, fmt.Errorf("%w: unknown type %d", ErrBadMessage, t)
	case etcdraft.IsLocalMsg(t) || t == raftpb.MsgProp:
		return nil, fmt.Errorf("%w: %s is not sent between nodes", ErrBadMessage, t)
	case m.GetFrom() == 0 || m.GetTo() == 0:
		return nil, fmt.Errorf("%w: no sender or recipient", ErrBadMessage)
	case len(m.GetResponses()) > 0:
		return nil, fmt.Errorf("%w: responses are local only", ErrBadMessage)
	}
	return m, nil
}

// ReportUnreachable tells Raft that a message to id could not be delivered,
// so the leader probes it instead of streaming. Never blocks.
func (e *Engine) ReportUnreachable(id uint64) {
	select {
	case e.unreachc <- id:
	default:
	}
}

// Status reports the engine's current view; safe to call at any time.
func (e *Engine) Status() Status {
	e.statusMu.Lock()
	s := e.status
	e.statusMu.Unlock()
	s.Voters = slices.Clone(s.Voters)
	s.Applied = e.applied.Load()
	return s
}

// Run implements consensus.Engine. It returns nil when ctx ends, ErrRemoved
// once this node's removal is applied, or the first fatal error (log
// storage, a bad committed entry, an Applier error). Run may be called once.
func (e *Engine) Run(ctx context.Context) error {
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("raft: Run called twice")
	}
	defer close(e.stopped)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	applyDone := make(chan struct{})
	go func() {
		defer close(applyDone)
		if err := e.applyLoop(ctx); err != nil {
			e.applyErr <- err
		}
	}()
	err := e.loop(ctx)
	cancel()
	<-applyDone
	if err == nil {
		select {
		case err = <-e.applyErr:
		default:
		}
	}
	if e.pendingDone != nil {
		e.pendingDone <- ErrStopped
	}
	if err != nil {
		e.log.Error("raft engine stopped", "err", err)
	}
	return err
}

func (e *Engine) loop(ctx context.Context) error {
	ticker := e.clock.NewTicker(e.cfg.TickInterval)
	defer ticker.Stop()
	e.blockTimer = e.clock.NewTimer(time.Hour)
	e.blockTimer.Stop()
	defer e.blockTimer.Stop()
	for {
		if err := e.handleReady(); err != nil {
			return err
		}
		e.refresh()
		e.publish()
		if e.removed {
			return fmt.Errorf("%w (node %d): stop this node", ErrRemoved, e.cfg.ID)
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-e.applyErr:
			return err
		case <-ticker.C():
			e.rn.Tick()
		case m := <-e.recvc:
			e.step(m)
			for i := 0; i < recvQueue; i++ { // batch: one log write per Ready
				select {
				case m := <-e.recvc:
					e.step(m)
					continue
				default:
				}
				break
			}
		case a := <-e.ackc:
			if err := e.handleAck(a); err != nil {
				return err
			}
		case r := <-e.confc:
			cs := e.rn.ApplyConfChange(r.cc)
			e.confs = append(e.confs, confAt{index: r.index, cs: cs})
			e.maxID = max(e.maxID, r.cc.GetNodeId())
			r.reply <- cs
			if r.cc.GetId() == e.pendingCC && e.pendingDone != nil {
				// Report now: removing the leader makes it step down at once.
				// pendingCC stays set until Raft hears the entry is applied.
				e.pendingDone <- nil
				e.pendingDone = nil
			}
		case r := <-e.reqc:
			e.propose(r)
		case id := <-e.unreachc:
			e.rn.ReportUnreachable(id)
		case <-e.evictc:
			e.log.Warn("a peer reports that the cluster removed this node")
			e.removed = true
		case <-e.pool.Ready():
		case <-e.blockTimer.C():
		}
		e.refresh()
		e.proposeBlocks()
	}
}

func (e *Engine) step(m *raftpb.Message) {
	if err := e.rn.Step(m); err != nil {
		e.log.Debug("raft message ignored", "type", m.GetType().String(), "from", m.GetFrom(), "err", err)
	}
}

// refresh notices leadership changes.
func (e *Engine) refresh() {
	bs := e.rn.BasicStatus()
	wasLeader := e.state == etcdraft.StateLeader
	isLeader := bs.RaftState == etcdraft.StateLeader
	e.state, e.term, e.commit = bs.RaftState, bs.HardState.GetTerm(), bs.HardState.GetCommit()
	e.lead.Store(bs.Lead)
	switch {
	case wasLeader && !isLeader:
		e.log.Info("lost leadership", "term", e.term, "leader", bs.Lead)
		// Blocks this node proposed may never commit: their transactions go
		// back to the pool for the next leader's blocks (or ours).
		e.pool.ResetReaped()
		e.ownMu.Lock()
		clear(e.own)
		e.ownMu.Unlock()
		e.proposedHeight = 0
		e.waitingSince = time.Time{}
		if e.pendingDone != nil {
			e.pendingDone <- ErrLeaderChanged
		}
		e.pendingCC, e.pendingDone = 0, nil
	case isLeader && !wasLeader:
		e.log.Info("became leader", "term", e.term)
		e.proposedHeight = 0
		e.waitingSince = time.Time{}
	}
}

// leaderReady reports whether this node leads and has applied every entry
// before its term's first, so it knows every block committed before it.
func (e *Engine) leaderReady() bool {
	return e.state == etcdraft.StateLeader && e.appliedTerm == e.term && !e.removed
}

// limits returns the block limits now: Config.Limits' where it gives
// valid ones, else the configured.
func (e *Engine) limits() (maxTxs, maxBytes int, interval time.Duration) {
	l := consensus.Limits{MaxTxs: e.cfg.MaxBlockTxs, MaxBytes: e.cfg.MaxBlockBytes, Interval: e.cfg.BlockInterval}.Live(e.cfg.Limits, maxBlockBytes)
	return l.MaxTxs, l.MaxBytes, l.Interval
}

// proposeBlocks proposes blocks while there are ready transactions, the
// block is full or has waited the block interval, and fewer than
// MaxInflightBlocks of ours are unapplied.
func (e *Engine) proposeBlocks() {
	if !e.leaderReady() {
		return
	}
	maxTxs, maxBytes, interval := e.limits()
	for {
		if e.proposedHeight >= e.appliedHeight+uint64(e.cfg.MaxInflightBlocks) {
			return
		}
		n, size := e.pool.ReadyLen()
		if n == 0 {
			e.waitingSince = time.Time{}
			return
		}
		if n < maxTxs && size < maxBytes {
			if e.waitingSince.IsZero() {
				e.waitingSince = e.clock.Now()
				e.blockTimer.Reset(interval)
				return
			}
			if wait := interval - e.clock.Now().Sub(e.waitingSince); wait > 0 {
				return
			}
		}
		e.waitingSince = time.Time{}
		txs := e.pool.Reap(maxTxs, maxBytes)
		if len(txs) == 0 {
			return
		}
		height := max(e.proposedHeight, e.appliedHeight) + 1
		data := encodeBlock(height, uint64(e.clock.Now().UnixMilli()), e.proposer, txs)
		if err := e.rn.Propose(data); err != nil {
			e.log.Warn("block proposal dropped; its transactions return to the pool", "height", height, "err", err)
			e.pool.ResetReaped()
			return
		}
		e.proposedHeight = height
		e.ownMu.Lock()
		e.own[&data[0]] = txs
		e.ownMu.Unlock()
	}
}

func (e *Engine) propose(r request) {
	cc := r.cc
	switch {
	case e.state != etcdraft.StateLeader:
		r.accepted <- fmt.Errorf("%w (leader is %d)", ErrNotLeader, e.lead.Load())
		return
	case !e.leaderReady() || e.pendingCC != 0:
		r.accepted <- ErrBusy
		return
	}
	if cc.GetType() == raftpb.ConfChangeAddNode && cc.GetNodeId() <= e.maxID {
		// Also what makes a replayed signed "add" request fail: its id
		// is used once it was applied.
		if slices.Contains(e.confs[len(e.confs)-1].cs.GetVoters(), cc.GetNodeId()) {
			r.accepted <- fmt.Errorf("raft: node %d is already a voter", cc.GetNodeId())
			return
		}
		r.accepted <- fmt.Errorf("%w: node %d; the next free id is %d", ErrIDUsed, cc.GetNodeId(), e.maxID+1)
		return
	}
	if cc.GetType() == raftpb.ConfChangeRemoveNode {
		voters := e.confs[len(e.confs)-1].cs.GetVoters()
		if len(voters) == 1 && voters[0] == cc.GetNodeId() {
			r.accepted <- errors.New("raft: cannot remove the last voter")
			return
		}
	}
	e.ccSeq++
	cc.Id = new(e.ccSeq)
	if err := e.rn.ProposeConfChange(cc); err != nil {
		r.accepted <- fmt.Errorf("raft: propose membership change: %w", err)
		return
	}
	e.pendingCC, e.pendingDone = e.ccSeq, r.done
	r.accepted <- nil
}

// handleReady persists, sends and queues for application everything Raft
// has ready. Messages to other nodes that need no local durability go out
// at once; those that do (votes, append acknowledgements) are the append's
// responses and go out only after the synced write.
func (e *Engine) handleReady() error {
	for e.rn.HasReady() {
		rd := e.rn.Ready()
		var appends, applies, self []*raftpb.Message
		for _, m := range rd.Messages {
			switch m.GetTo() {
			case etcdraft.LocalAppendThread:
				appends = append(appends, m)
			case etcdraft.LocalApplyThread:
				applies = append(applies, m)
			default:
				e.send(m)
			}
		}
		for _, m := range appends {
			if err := e.st.append(m); err != nil {
				return err
			}
			if snap := m.GetSnapshot(); snap != nil && !etcdraft.IsEmptySnap(snap) {
				md := snap.GetMetadata()
				e.log.Info("installing raft snapshot", "index", md.GetIndex(), "term", md.GetTerm())
				e.snapIndex = md.GetIndex()
				e.blocks = nil
				e.confs = []confAt{{index: md.GetIndex(), cs: md.GetConfState()}}
				e.snapMaxID = snapMaxID(snap)
				e.maxID = max(e.maxID, e.snapMaxID)
				e.q.push(applyItem{snap: snap})
			}
			for _, r := range m.GetResponses() {
				if r.GetTo() == e.cfg.ID {
					self = append(self, r)
				} else {
					e.send(r)
				}
			}
		}
		for _, r := range self {
			e.step(r)
		}
		for _, m := range applies {
			e.q.push(applyItem{ents: m.GetEntries(), resps: m.GetResponses()})
		}
	}
	return nil
}

func (e *Engine) send(m *raftpb.Message) {
	b, err := proto.Marshal(m)
	if err != nil {
		e.log.Error("cannot encode raft message", "type", m.GetType().String(), "err", err)
		return
	}
	e.tr.Send(m.GetTo(), b)
	if m.GetType() == raftpb.MsgSnap {
		// The snapshot is a few bytes (the blocks travel by block sync), so
		// it is as good as delivered; if it was lost, the follower rejects
		// the next append and the leader sends it again.
		e.rn.ReportSnapshot(m.GetTo(), etcdraft.SnapshotFinish)
	}
}

func (e *Engine) handleAck(a applyAck) error {
	for _, r := range a.resps {
		e.step(r)
	}
	if a.index > e.appliedIndex {
		e.appliedIndex, e.appliedTerm = a.index, a.term
	}
	e.appliedHeight = a.height
	e.blocks = append(e.blocks, a.blocks...)
	for _, id := range a.confIDs {
		if id == e.pendingCC {
			e.pendingCC = 0
		}
	}
	if a.removed {
		e.removed = true
	}
	return e.maybeCompact()
}

// maybeCompact snapshots the log at the newest durable block once
// SnapshotEntries entries were applied since the last snapshot. The
// snapshot index is the last entry before the one holding the block after
// the durable one, so replaying from it after a crash re-applies every block
// the store may have lost.
func (e *Engine) maybeCompact() error {
	if e.appliedIndex < e.snapIndex+e.cfg.SnapshotEntries {
		return nil
	}
	dh, dhash := e.app.Durable()
	idx := e.appliedIndex
	for _, b := range e.blocks {
		if b.height > dh {
			idx = b.index - 1
			break
		}
	}
	if idx <= e.snapIndex {
		return nil
	}
	k := 0
	for i, c := range e.confs {
		if c.index <= idx {
			k = i
		}
	}
	maxAt := e.snapMaxID // the highest id used up to idx
	for _, c := range e.confs[:k+1] {
		maxAt = max(maxAt, maxIDIn(c.cs))
	}
	if err := e.st.compact(idx, e.confs[k].cs, encodeSnapData(snapData{Height: dh, Hash: dhash, MaxID: maxAt})); err != nil {
		return err
	}
	e.snapMaxID = maxAt
	e.log.Debug("raft log compacted", "index", idx, "durable_height", dh)
	e.snapIndex = idx
	e.confs = e.confs[k:]
	i := 0
	for i < len(e.blocks) && e.blocks[i].index <= idx {
		i++
	}
	e.blocks = slices.Delete(e.blocks, 0, i)
	return nil
}

func (e *Engine) publish() {
	voters := slices.Clone(e.confs[len(e.confs)-1].cs.GetVoters())
	slices.Sort(voters)
	e.statusMu.Lock()
	e.status = Status{
		ID: e.cfg.ID, Leader: e.lead.Load(), State: e.state.String(), Term: e.term, Commit: e.commit,
		Height: e.appliedHeight, SnapshotIndex: e.snapIndex, Voters: voters, Removed: e.removed,
		MaxID: e.maxID,
	}
	e.statusMu.Unlock()
}
