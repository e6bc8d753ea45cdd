package bft

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/accord-chain/accord/consensus/bft/pb"
)

// Retention and memory bounds inside the core.
const (
	keepCommitted = 256  // committed heights kept to serve fetches
	maxOrphans    = 1024 // fetched blocks waiting for their parent
	maxRoundAhead = 64   // votes and timeouts at most this many rounds ahead are kept
	maxBackoff    = 3    // the round timeout doubles at most this many times
)

// Core is the BFT state machine of one validator. See the package comment
// and Ready for how a driver runs it.
type Core struct {
	cfg         Config
	ended       bool   // the epoch's last block committed
	endProof    *node  // the certified block whose QC proved the epoch's last block committed
	laterEpoch  uint64 // highest epoch seen above ours
	target      *node  // highest block known committed; commits go out up to it once executed
	targetChild *node  // target's certified child that proves it

	// Safety state: persisted (Ready.State) before any message that
	// depends on it leaves.
	lastVoted   uint64
	highTimeout uint64
	hqc         *pb.QC
	htc         *pb.TC
	stateDirty  bool

	round        uint64
	ticks        int
	timeoutMsg   *pb.Message // our timeout for round, resent on every expiry
	proposeAsked uint64

	blocks map[string]*node
	root   *node             // last committed block
	qcs    map[string]*pb.QC // verified QCs of blocks not (yet) in the tree
	// verified holds the certificates (QCs and TCs, by certID) checked
	// already, with their rounds, so that no signature is checked twice.
	verified map[string]uint64
	// evidenced marks (round, validator) pairs already reported.
	evidenced map[seenKey]bool

	votes     map[uint64]map[string]*tally // round, vote data
	timeouts  map[uint64]*timeoutTally
	seenVotes map[seenKey]seen
	seenProps map[seenKey]seen
	pending   map[seenKey]pendingProposal // signed proposals by (round, proposer), waiting for their round or parent
	waitVote  *node                       // a block this node will vote for once its parent is executed
	orphans   map[string]*pb.Block
	fetching  map[string]bool

	rd         Ready
	rdBlocks   map[string]bool
	readyTaken bool
}

type node struct {
	b         *pb.Block
	hash      []byte
	parent    *node
	committed bool
	qc        *pb.QC // certifies this block, once known
	result    []byte // execution result, once known
	execd     bool   // handed out in Ready.Execute
	ends      bool   // executing it changed the validator set: it ends the epoch

	fails      []fail   // leaders that failed in the window, by this chain
	excl       []string // validators skipped for proposals anchored here
	anchorExcl []string // the set a proposal extending this block uses
}

type fail struct {
	round uint64
	id    string
}

type tally struct {
	data *pb.VoteData
	sigs map[int][]byte // by validator index
}

type timeoutTally struct {
	entries map[string]timeoutEntry // by voter
}

type timeoutEntry struct {
	hqcRound uint64
	hqc      *pb.QC
	sig      []byte
}

type seenKey struct {
	round uint64
	id    string
}

type seen struct {
	key string // what was signed
	msg []byte // the encoded message, for evidence
}

type pendingProposal struct {
	from string
	p    *pb.Proposal
}

// New returns a core that builds on root. state and blocks are what the
// driver persisted from earlier Ready batches (nil and none on first
// start); blocks that do not extend root are ignored. A root above height
// 0 needs its certifying QC (root.QC) or a persisted state.
func New(cfg Config, root Root, state *pb.SafetyState, blocks []*pb.Block) (*Core, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if root.Block == nil || len(root.Result) != HashSize {
		return nil, fmt.Errorf("%w: the root needs a block and a %d-byte result", ErrConfig, HashSize)
	}
	c := &Core{
		cfg:       cfg,
		blocks:    map[string]*node{},
		qcs:       map[string]*pb.QC{},
		verified:  map[string]uint64{},
		evidenced: map[seenKey]bool{},
		votes:     map[uint64]map[string]*tally{},
		timeouts:  map[uint64]*timeoutTally{},
		seenVotes: map[seenKey]seen{},
		seenProps: map[seenKey]seen{},
		pending:   map[seenKey]pendingProposal{},
		orphans:   map[string]*pb.Block{},
		fetching:  map[string]bool{},
		rdBlocks:  map[string]bool{},
	}
	r := &node{b: root.Block, hash: c.blockHash(root.Block), result: bytes.Clone(root.Result), execd: true, committed: true}
	r.qc = root.QC
	if r.qc == nil && root.Block.Height == 0 {
		r.qc = &pb.QC{Data: &pb.VoteData{Block: r.hash, ParentResult: make([]byte, HashSize)}}
	}
	for _, f := range root.Reputation.Failed {
		r.fails = append(r.fails, fail{round: f.Round, id: f.ID})
	}
	r.excl = c.exclusions(r.fails)
	r.anchorExcl = slices.Clone(root.Reputation.Anchor)
	c.blocks[string(r.hash)] = r
	c.root = r
	c.hqc = r.qc
	if state != nil && state.Epoch == cfg.Epoch {
		c.lastVoted, c.highTimeout = state.LastVotedRound, state.HighTimeoutRound
		if state.HighQc != nil && (c.hqc == nil || state.HighQc.Data.Round > c.hqc.Data.Round) {
			c.hqc = state.HighQc
		}
		c.htc = state.HighTc
	}
	if c.hqc == nil {
		return nil, fmt.Errorf("%w: a root above genesis needs its QC or a persisted safety state", ErrConfig)
	}
	// What this node persisted or committed it verified before.
	for _, q := range []*pb.QC{r.qc, c.hqc, c.htc.GetHighQc()} {
		if q != nil {
			c.verified[c.certID(q)] = q.Data.Round
		}
	}
	if c.htc != nil {
		c.verified[c.certID(c.htc)] = c.htc.Round
	}
	if r.qc == nil && bytes.Equal(c.hqc.Data.Block, r.hash) {
		r.qc = c.hqc
	}
	// Persisted blocks are this node's own validated writes: link them by
	// hash, lowest first, and take their QCs from their children.
	sorted := slices.Clone(blocks)
	slices.SortStableFunc(sorted, func(a, b *pb.Block) int { return cmp.Compare(a.Height, b.Height) })
	for _, b := range sorted {
		p := c.blocks[string(b.Parent)]
		if p == nil || b.Height != p.b.Height+1 || c.blocks[string(c.blockHash(b))] != nil {
			continue
		}
		c.link(b, p)
	}
	// Take up their certificates in height order: certified blocks are
	// executed again (results are not persisted), and commits decided but
	// not applied before the restart are decided again.
	for _, b := range sorted {
		n := c.blocks[string(c.blockHash(b))]
		if n == nil || n.parent == nil || n.parent.qc != nil || b.Justify == nil ||
			!bytes.Equal(b.Justify.Data.Block, n.parent.hash) {
			continue
		}
		c.certify(n.parent, b.Justify)
	}
	if n := c.blocks[string(c.hqc.Data.Block)]; n != nil && n.qc == nil {
		c.certify(n, c.hqc)
	}
	c.round = c.hqc.Data.Round + 1
	if c.htc != nil && c.htc.Round+1 > c.round {
		c.round = c.htc.Round + 1
	}
	c.queueExec(c.root)
	c.maybeAskPropose()
	return c, nil
}

func (c *Core) quorum(vs ValidatorSet) int {
	if c.cfg.bugs.weakQuorum {
		return vs.F() + 1
	}
	return vs.Quorum()
}

// Status reports the core's position.
func (c *Core) Status() Status {
	s := Status{
		Round:           c.round,
		HighQCRound:     c.hqc.Data.Round,
		LastVotedRound:  c.lastVoted,
		CommittedHeight: c.root.b.Height,
		CommittedRound:  c.root.b.Round,
		LaterEpoch:      c.laterEpoch,
	}
	if p := c.blocks[string(c.hqc.Data.Block)]; p != nil {
		s.Leader = c.leaderFor(c.round, p)
	}
	return s
}

// Round returns the round this node is in.
func (c *Core) Round() uint64 { return c.round }

// HasReady reports whether Ready has anything to hand out.
func (c *Core) HasReady() bool {
	r := &c.rd
	return c.stateDirty || len(r.Blocks) > 0 || len(r.Messages) > 0 || len(r.Execute) > 0 ||
		len(r.Committed) > 0 || len(r.Evidence) > 0 || r.ProposeRound != 0
}

// Ready returns the pending output. The driver must handle it as Ready's
// doc says and call Advance before calling any other method.
func (c *Core) Ready() Ready {
	rd := c.rd
	if c.stateDirty {
		rd.State = &pb.SafetyState{
			Version:          WireVersion,
			LastVotedRound:   c.lastVoted,
			HighTimeoutRound: c.highTimeout,
			HighQc:           c.hqc,
			HighTc:           c.htc,
			Epoch:            c.cfg.Epoch,
		}
	}
	c.readyTaken = true
	return rd
}

// Advance acknowledges the last Ready: its state and blocks are durable,
// its messages sent, its commits applied.
func (c *Core) Advance() {
	c.rd = Ready{}
	clear(c.rdBlocks)
	c.stateDirty = false
	c.readyTaken = false
	c.retryOrphans()
	c.maybeAskPropose()
}

// Tick advances the core's clock by one tick. A round that lasts longer
// than its timeout ends for this node with a signed timeout.
func (c *Core) Tick() error {
	if c.readyTaken {
		return ErrAdvance
	}
	if c.ended {
		return nil
	}
	err := c.tick()
	if err2 := c.after(); err == nil {
		err = err2
	}
	return err
}

func (c *Core) tick() error {
	c.ticks++
	if c.ticks < c.roundTimeout() {
		return nil
	}
	c.ticks = 0
	clear(c.fetching) // lost requests may be asked again
	if c.timeoutMsg != nil && c.timeoutMsg.GetTimeout().Round == c.round {
		c.broadcast(c.timeoutMsg)
		return nil
	}
	return c.sendTimeout()
}

func (c *Core) roundTimeout() int {
	k := uint64(0)
	if c.round > c.hqc.Data.Round+1 {
		k = min(c.round-c.hqc.Data.Round-1, maxBackoff)
	}
	return c.cfg.RoundTicks << k
}

func (c *Core) sendTimeout() error {
	r := c.round
	if c.cfg.Validators.Index(c.cfg.ID) < 0 {
		return nil // only validators time out
	}
	sig, err := c.cfg.Signer.Sign(c.timeoutSignBytes(r, c.hqc.Data.Round))
	if err != nil {
		return fmt.Errorf("%w: timeout for round %d: %w", ErrSign, r, err)
	}
	// Safety: no vote for round r after a timeout for it.
	if r > c.highTimeout {
		c.highTimeout = r
		c.stateDirty = true
	}
	t := &pb.Timeout{Round: r, HighQc: c.hqc, HighTc: c.htc, Voter: []byte(c.cfg.ID), Sig: sig}
	c.timeoutMsg = &pb.Message{Version: WireVersion, Body: &pb.Message_Timeout{Timeout: t}}
	c.broadcast(c.timeoutMsg)
	c.addTimeout(t)
	return nil
}

func (c *Core) broadcast(m *pb.Message) {
	m.Epoch = c.cfg.Epoch
	c.rd.Messages = append(c.rd.Messages, Envelope{Msg: m})
}

func (c *Core) send(to string, m *pb.Message) {
	m.Epoch = c.cfg.Epoch
	c.rd.Messages = append(c.rd.Messages, Envelope{To: to, Msg: m})
}

// Step hands the core a message from validator from (as the transport
// authenticated it). Errors wrap ErrBadMessage for a message that breaks
// the protocol (the driver may log it and lower the peer's score) and
// ErrSign for a signer failure; the core's state stays consistent either
// way. The core keeps parts of m: the caller must not modify it
// afterwards.
func (c *Core) Step(from string, m *pb.Message) error {
	if c.readyTaken {
		return ErrAdvance
	}
	if m.Epoch == c.cfg.Epoch && c.ended {
		// An ended epoch's core still serves its blocks to nodes that
		// lag in it: the driver keeps it for a while and routes the
		// epoch's fetches to it.
		if r := m.GetFetchRequest(); r != nil {
			c.onFetchRequest(from, r)
		}
		return nil
	}
	if m.Epoch != c.cfg.Epoch {
		c.laterEpoch = max(c.laterEpoch, m.Epoch)
		return nil
	}
	err := c.step(from, m)
	if err2 := c.after(); err == nil {
		err = err2
	}
	return err
}

// after takes up what an input may have made possible: a pending
// proposal or vote of the (new) current round, and proposing.
func (c *Core) after() error {
	err := c.tryPending()
	if c.ended {
		return nil
	}
	if n := c.waitVote; n != nil && n.parent != nil && n.parent.result != nil {
		c.waitVote = nil
		if err2 := c.tryVote(n); err == nil {
			err = err2
		}
	}
	c.maybeAskPropose()
	return err
}

func (c *Core) step(from string, m *pb.Message) error {
	switch body := m.Body.(type) {
	case *pb.Message_Proposal:
		return c.onProposal(from, body.Proposal)
	case *pb.Message_Vote:
		return c.onVote(body.Vote, m)
	case *pb.Message_Timeout:
		return c.onTimeout(from, body.Timeout)
	case *pb.Message_FetchRequest:
		c.onFetchRequest(from, body.FetchRequest)
		return nil
	case *pb.Message_FetchResponse:
		return c.onFetchResponse(from, body.FetchResponse)
	}
	return bad("message without a body")
}
