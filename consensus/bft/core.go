package bft

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
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

// ---- certificates ----

// processQC checks q and takes what it tells: the block is certified,
// the round may advance, a block may commit. Each distinct QC is verified
// once. A round-0 QC is the genesis QC: it has no signatures and tells
// nothing.
func (c *Core) processQC(from string, q *pb.QC) error {
	if q == nil || q.Data == nil {
		return bad("missing quorum certificate")
	}
	if q.Data.Round == 0 {
		if q.Data.Height != 0 || len(q.Sigs) != 0 {
			return bad("a round-0 certificate of height %d", q.Data.Height)
		}
		return nil
	}
	if q.Data.Round < c.root.b.Round {
		return nil // below what this node committed: nothing to learn (and not trusted)
	}
	id := c.certID(q)
	if _, ok := c.verified[id]; !ok {
		if err := c.verifyQC(q); err != nil {
			return err
		}
		c.verified[id] = q.Data.Round
	}
	if q.Data.Round == c.root.b.Round {
		return nil
	}
	key := string(q.Data.Block)
	n := c.blocks[key]
	if n == nil {
		if c.qcs[key] == nil {
			c.qcs[key] = q
		}
		c.fetch(from, q.Data.Block)
	} else if n.qc == nil {
		c.certify(n, q)
	}
	if q.Data.Round > c.hqc.Data.Round {
		c.hqc = q
		c.stateDirty = true
	}
	if q.Data.Round+1 > c.round {
		c.enterRound(q.Data.Round + 1)
	}
	return nil
}

// trusted reports whether q was verified here (or is the genesis QC,
// which claims nothing).
func (c *Core) trusted(q *pb.QC) bool {
	if q.Data.Round == 0 {
		return true
	}
	_, ok := c.verified[c.certID(q)]
	return ok
}

// certID identifies a certificate by the hash of its encoding.
func (c *Core) certID(m proto.Message) string {
	h := c.cfg.Hash.Sum(types.EncodeCanonical(m))
	return string(h[:])
}

func (c *Core) verifyQC(q *pb.QC) error {
	d := q.Data
	if d.Round == 0 {
		if d.Height == 0 && c.root.b.Height == 0 && bytes.Equal(d.Block, c.root.hash) {
			return nil
		}
		return bad("a round-0 certificate for a block that is not this chain's genesis")
	}
	vs := c.cfg.Validators
	idx, err := bitmapIndexes(q.Signers, len(vs))
	if err != nil {
		return err
	}
	if len(idx) < c.quorum(vs) || len(idx) != len(q.Sigs) {
		return bad("certificate with %d signers, %d needed", len(idx), c.quorum(vs))
	}
	msg := c.voteSignBytes(d)
	for i, vi := range idx {
		if !c.cfg.Verifier.Verify(vs[vi].PubKey, msg, q.Sigs[i]) {
			return bad("certificate signature of %s does not verify", vs[vi].ID)
		}
	}
	return nil
}

func bitmapIndexes(bm []byte, n int) ([]int, error) {
	var idx []int
	for i := 0; i < len(bm)*8; i++ {
		if bm[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if i >= n {
			return nil, bad("signer bitmap names validator %d of %d", i, n)
		}
		idx = append(idx, i)
	}
	return idx, nil
}

func setBit(bm []byte, i int) { bm[i/8] |= 1 << (i % 8) }

// certify records n's QC: n may now be executed, and n's parent commits
// if n directly follows it (the two-chain rule).
func (c *Core) certify(n *node, q *pb.QC) {
	n.qc = q
	delete(c.qcs, string(n.hash))
	c.queueExec(n)
	if c.cfg.bugs.oneChainCommit {
		c.commit(n, nil)
		return
	}
	if p := n.parent; p != nil && n.b.Round == p.b.Round+1 {
		c.commit(p, n)
	}
}

// processTC checks t (each distinct TC once) and may advance the round.
// A TC older than this node's highest cannot justify a vote here (votes
// are only for the current round, after the highest TC) and is ignored.
func (c *Core) processTC(from string, t *pb.TC) error {
	if t == nil || (c.htc != nil && t.Round < c.htc.Round) {
		return nil
	}
	id := c.certID(t)
	if _, ok := c.verified[id]; ok {
		return nil
	}
	if err := c.processQC(from, t.HighQc); err != nil {
		return err
	}
	if !c.trusted(t.HighQc) {
		return nil // its QC is below this node's root: too old to matter
	}
	vs := c.cfg.Validators
	idx, err := bitmapIndexes(t.Signers, len(vs))
	if err != nil {
		return err
	}
	if len(idx) < c.quorum(vs) || len(idx) != len(t.Sigs) || len(idx) != len(t.HqcRounds) {
		return bad("timeout certificate with %d signers, %d needed", len(idx), c.quorum(vs))
	}
	var maxRound uint64
	for i, vi := range idx {
		maxRound = max(maxRound, t.HqcRounds[i])
		if t.HqcRounds[i] >= t.Round {
			return bad("timeout for round %d claims a QC of round %d", t.Round, t.HqcRounds[i])
		}
		if !c.cfg.Verifier.Verify(vs[vi].PubKey, c.timeoutSignBytes(t.Round, t.HqcRounds[i]), t.Sigs[i]) {
			return bad("timeout signature of %s does not verify", vs[vi].ID)
		}
	}
	if maxRound != t.HighQc.Data.Round {
		return bad("timeout certificate's QC is of round %d, its signers claim %d", t.HighQc.Data.Round, maxRound)
	}
	c.verified[id] = t.Round
	if c.htc != nil && t.Round <= c.htc.Round {
		return nil
	}
	c.htc = t
	c.stateDirty = true
	if t.Round+1 > c.round {
		c.enterRound(t.Round + 1)
	}
	return nil
}

func (c *Core) enterRound(r uint64) {
	c.round = r
	c.ticks = 0
	for old := range c.votes {
		if old+1 < r {
			delete(c.votes, old)
		}
	}
	for old := range c.timeouts {
		if old < r {
			delete(c.timeouts, old)
		}
	}
	for k := range c.pending {
		if k.round < r {
			delete(c.pending, k)
		}
	}
}

// ---- proposals and votes ----

func (c *Core) onProposal(from string, p *pb.Proposal) error {
	b := p.Block
	if b == nil || b.Justify == nil {
		return bad("proposal without a block or its QC")
	}
	if err := c.processQC(from, b.Justify); err != nil {
		return err
	}
	if err := c.processTC(from, b.Tc); err != nil {
		return err
	}
	if b.Round < c.round || b.Round > c.round+maxRoundAhead {
		return nil // stale, or not justified by its own certificates
	}
	// Check the signature now, so that what waits is the proposer's own
	// (one per validator and round: nobody can push out the leader's).
	proposer := string(b.Proposer)
	i := c.cfg.Validators.Index(proposer)
	if i < 0 {
		return bad("proposal by %s, not a validator", proposer)
	}
	if !c.cfg.Verifier.Verify(c.cfg.Validators[i].PubKey, c.proposalSignBytes(c.blockHash(b)), p.Sig) {
		return bad("proposal signature of %s does not verify", proposer)
	}
	c.pending[seenKey{b.Round, proposer}] = pendingProposal{from: from, p: p}
	return nil
}

// tryPending takes up the proposal for the current round once its parent
// is in the tree.
func (c *Core) tryPending() error {
	var err error
	for _, v := range c.cfg.Validators {
		k := seenKey{c.round, v.ID}
		pp, ok := c.pending[k]
		if !ok {
			continue
		}
		b := pp.p.Block
		parent := c.blocks[string(b.Parent)]
		if parent == nil {
			c.fetch(pp.from, b.Parent)
			continue
		}
		delete(c.pending, k)
		n, err2 := c.acceptProposal(pp.p, parent)
		if err2 == nil && n != nil {
			err2 = c.tryVote(n)
		}
		if err == nil {
			err = err2
		}
	}
	return err
}

// acceptProposal checks a signed proposal against its parent and the
// leader rule and puts its block in the tree.
func (c *Core) acceptProposal(p *pb.Proposal, parent *node) (*node, error) {
	b := p.Block
	if err := c.checkChild(b, parent); err != nil {
		return nil, err
	}
	proposer := string(b.Proposer)
	if want := c.leaderFor(b.Round, parent); proposer != want {
		return nil, bad("round %d proposal by %s, the leader is %s", b.Round, proposer, want)
	}
	hash := c.blockHash(b) // its signature was checked by onProposal
	msg := EncodeMessage(&pb.Message{Version: WireVersion, Body: &pb.Message_Proposal{Proposal: p}})
	if c.noteSigned(c.seenProps, b.Round, proposer, string(hash), msg) {
		return nil, nil
	}
	if n := c.blocks[string(hash)]; n != nil {
		return n, nil
	}
	return c.insert(b, parent, hash), nil
}

// checkChild checks what a block must satisfy to extend parent; its QC
// was verified by processQC.
func (c *Core) checkChild(b *pb.Block, parent *node) error {
	switch {
	case b.Height != parent.b.Height+1:
		return bad("block at height %d extends height %d", b.Height, parent.b.Height)
	case b.Round <= parent.b.Round:
		return bad("block at round %d extends round %d", b.Round, parent.b.Round)
	case !bytes.Equal(b.Justify.Data.Block, parent.hash) || b.Justify.Data.Round != parent.b.Round ||
		b.Justify.Data.Height != parent.b.Height:
		return bad("block's QC does not certify its parent")
	case b.Round != b.Justify.Data.Round+1 && (b.Tc == nil || b.Round != b.Tc.Round+1):
		return bad("block at round %d has neither a QC nor a TC of round %d", b.Round, b.Round-1)
	}
	return nil
}

// noteSigned records that id signed key in round, and reports (and keeps
// as evidence) a different earlier one.
func (c *Core) noteSigned(m map[seenKey]seen, round uint64, id, key string, msg []byte) (conflict bool) {
	k := seenKey{round, id}
	prev, ok := m[k]
	if !ok {
		m[k] = seen{key: key, msg: msg}
		return false
	}
	if prev.key == key {
		return false
	}
	if c.evidenced[k] {
		return true
	}
	c.evidenced[k] = true
	c.rd.Evidence = append(c.rd.Evidence, Evidence{Validator: id, Round: round, A: prev.msg, B: msg})
	return true
}

// tryVote votes for n if the safety rules allow it and n's parent has
// been executed (the vote carries the parent's result).
func (c *Core) tryVote(n *node) error {
	b := n.b
	if b.Round != c.round {
		return nil
	}
	if !c.cfg.bugs.noRoundRule && (b.Round <= c.lastVoted || b.Round <= c.highTimeout) {
		return nil
	}
	if !c.safeToVote(b) {
		return nil
	}
	if c.cfg.Validators.Index(c.cfg.ID) < 0 {
		return nil // not a validator in this epoch
	}
	if n.parent.result == nil {
		c.waitVote = n // voted on Executed of the parent
		return nil
	}
	if len(b.Payload) > 0 && endsAbove(n.parent) {
		return nil // after the epoch's last block only empty blocks may follow
	}
	d := &pb.VoteData{Round: b.Round, Height: b.Height, Block: n.hash, ParentResult: n.parent.result}
	sig, err := c.cfg.Signer.Sign(c.voteSignBytes(d))
	if err != nil {
		return fmt.Errorf("%w: vote for round %d: %w", ErrSign, b.Round, err)
	}
	c.lastVoted = max(c.lastVoted, b.Round)
	c.stateDirty = true
	c.persistBlock(n)
	v := &pb.Vote{Data: d, Voter: []byte(c.cfg.ID), Sig: sig}
	c.broadcast(&pb.Message{Version: WireVersion, Body: &pb.Message_Vote{Vote: v}})
	return c.addVote(v, -1)
}

// safeToVote is Jolteon's voting rule: the block extends the QC of the
// round before it, or follows a TC and extends a QC at least as high as
// every QC the TC's signers reported.
func (c *Core) safeToVote(b *pb.Block) bool {
	if b.Round == b.Justify.Data.Round+1 {
		return true
	}
	if b.Tc == nil || b.Round != b.Tc.Round+1 {
		return false
	}
	if _, ok := c.verified[c.certID(b.Tc)]; !ok {
		return false // only a TC checked here may vouch for the block
	}
	return b.Justify.Data.Round >= slices.Max(b.Tc.HqcRounds)
}

func (c *Core) onVote(v *pb.Vote, m *pb.Message) error {
	d := v.Data
	if d == nil || d.Round+1 < c.round || d.Round > c.round+maxRoundAhead || d.Round <= c.root.b.Round {
		return nil // too old to matter, or too far ahead to hold
	}
	vs := c.cfg.Validators
	voter := string(v.Voter)
	vi := vs.Index(voter)
	if vi < 0 {
		return bad("vote by %s, not a validator in epoch %d", voter, c.cfg.Epoch)
	}
	key := string(types.EncodeCanonical(d))
	if prev, ok := c.seenVotes[seenKey{d.Round, voter}]; ok && prev.key == key {
		return nil // a duplicate: verified before
	}
	if !c.cfg.Verifier.Verify(vs[vi].PubKey, c.voteSignBytes(d), v.Sig) {
		return bad("vote signature of %s does not verify", voter)
	}
	if c.noteSigned(c.seenVotes, d.Round, voter, key, EncodeMessage(m)) {
		return nil
	}
	return c.addVote(v, vi)
}

// addVote counts a verified vote; vi is the voter's index, or -1 for this
// node's own vote.
func (c *Core) addVote(v *pb.Vote, vi int) error {
	d := v.Data
	vs := c.cfg.Validators
	if vi < 0 {
		vi = vs.Index(c.cfg.ID)
		if vi < 0 {
			return nil
		}
		key := string(types.EncodeCanonical(d))
		msg := EncodeMessage(&pb.Message{Version: WireVersion, Body: &pb.Message_Vote{Vote: v}})
		if c.noteSigned(c.seenVotes, d.Round, c.cfg.ID, key, msg) {
			return nil
		}
	}
	key := string(types.EncodeCanonical(d))
	byData := c.votes[d.Round]
	if byData == nil {
		byData = map[string]*tally{}
		c.votes[d.Round] = byData
	}
	t := byData[key]
	if t == nil {
		t = &tally{data: d, sigs: map[int][]byte{}}
		byData[key] = t
	}
	if _, ok := t.sigs[vi]; ok {
		return nil
	}
	t.sigs[vi] = v.Sig
	if len(t.sigs) != c.quorum(vs) {
		return nil // not yet, or the QC formed already
	}
	q := &pb.QC{Data: d, Signers: make([]byte, (len(vs)+7)/8)}
	for i := range vs {
		if s, ok := t.sigs[i]; ok {
			setBit(q.Signers, i)
			q.Sigs = append(q.Sigs, s)
		}
	}
	c.verified[c.certID(q)] = d.Round
	n := c.blocks[string(d.Block)]
	if n != nil && n.qc == nil {
		c.certify(n, q)
	} else if n == nil && c.qcs[string(d.Block)] == nil {
		c.qcs[string(d.Block)] = q
		c.fetch(string(v.Voter), d.Block)
	}
	if d.Round > c.hqc.Data.Round {
		c.hqc = q
		c.stateDirty = true
	}
	if d.Round+1 > c.round {
		c.enterRound(d.Round + 1)
	}
	return nil
}

// ---- timeouts ----

func (c *Core) onTimeout(from string, t *pb.Timeout) error {
	if t.HighQc == nil {
		return bad("timeout without its QC")
	}
	if err := c.processQC(from, t.HighQc); err != nil {
		return err
	}
	if err := c.processTC(from, t.HighTc); err != nil {
		return err
	}
	if t.Round < c.round || t.Round > c.round+maxRoundAhead {
		return nil
	}
	if t.HighQc.Data.Round >= t.Round {
		return bad("timeout for round %d with a QC of round %d", t.Round, t.HighQc.Data.Round)
	}
	if !c.trusted(t.HighQc) {
		return nil // its QC is below this node's root: the sender lags and will catch up
	}
	vs := c.cfg.Validators
	voter := string(t.Voter)
	vi := vs.Index(voter)
	if vi < 0 {
		return bad("timeout by %s, not a validator", voter)
	}
	if tt := c.timeouts[t.Round]; tt != nil {
		if _, ok := tt.entries[voter]; ok {
			return nil
		}
	}
	if !c.cfg.Verifier.Verify(vs[vi].PubKey, c.timeoutSignBytes(t.Round, t.HighQc.Data.Round), t.Sig) {
		return bad("timeout signature of %s does not verify", voter)
	}
	c.addTimeout(t)
	// f+1 timeouts for this round mean at least one honest node gave up
	// on it: join them, so that a TC forms even if clocks drift.
	if tt := c.timeouts[c.round]; tt != nil && len(tt.entries) > vs.F() && c.highTimeout < c.round {
		return c.sendTimeout()
	}
	return nil
}

func (c *Core) addTimeout(t *pb.Timeout) {
	tt := c.timeouts[t.Round]
	if tt == nil {
		tt = &timeoutTally{entries: map[string]timeoutEntry{}}
		c.timeouts[t.Round] = tt
	}
	voter := string(t.Voter)
	if _, ok := tt.entries[voter]; ok {
		return
	}
	tt.entries[voter] = timeoutEntry{hqcRound: t.HighQc.Data.Round, hqc: t.HighQc, sig: t.Sig}
	// The TC is judged by the set at the height after its highest QC.
	voters := make([]string, 0, len(tt.entries))
	for id := range tt.entries {
		voters = append(voters, id)
	}
	slices.Sort(voters)
	var high *pb.QC
	for _, id := range voters {
		if e := tt.entries[id]; high == nil || e.hqc.Data.Round > high.Data.Round {
			high = e.hqc
		}
	}
	vs := c.cfg.Validators
	tc := &pb.TC{Round: t.Round, Signers: make([]byte, (len(vs)+7)/8), HighQc: high}
	count := 0
	for i, v := range vs {
		if e, ok := tt.entries[v.ID]; ok {
			setBit(tc.Signers, i)
			tc.HqcRounds = append(tc.HqcRounds, e.hqcRound)
			tc.Sigs = append(tc.Sigs, e.sig)
			count++
		}
	}
	if count < c.quorum(vs) || (c.htc != nil && c.htc.Round >= t.Round) {
		return
	}
	c.verified[c.certID(tc)] = tc.Round
	c.htc = tc
	c.stateDirty = true
	if t.Round+1 > c.round {
		c.enterRound(t.Round + 1)
	}
}

// ---- proposing ----

// maybeAskPropose sets Ready.ProposeRound when this node leads the
// current round and can build on its highest QC.
func (c *Core) maybeAskPropose() {
	r := c.round
	if c.proposeAsked >= r || r <= c.lastVoted || r <= c.highTimeout {
		return
	}
	p := c.blocks[string(c.hqc.Data.Block)]
	if p == nil || p.result == nil || c.leaderFor(r, p) != c.cfg.ID {
		return
	}
	c.proposeAsked = r
	c.rd.ProposeRound = r
}

// Propose proposes payload as the block of round, which must be the round
// of the last Ready's ProposeRound and still current. The proposal and
// this node's vote for it go out in the next Ready, with the state that
// records the vote.
func (c *Core) Propose(round uint64, payload []byte) error {
	if c.readyTaken {
		return ErrAdvance
	}
	if c.ended {
		return fmt.Errorf("%w: the epoch ended", ErrNotReady)
	}
	p := c.blocks[string(c.hqc.Data.Block)]
	if round != c.round || round <= c.lastVoted || round <= c.highTimeout || p == nil || p.result == nil ||
		c.leaderFor(round, p) != c.cfg.ID {
		return fmt.Errorf("%w: round %d (now %d)", ErrNotReady, round, c.round)
	}
	b := &pb.Block{
		Version:  WireVersion,
		Round:    round,
		Height:   p.b.Height + 1,
		Parent:   p.hash,
		Justify:  c.hqc,
		Proposer: []byte(c.cfg.ID),
		Payload:  bytes.Clone(payload),
	}
	if round != c.hqc.Data.Round+1 {
		b.Tc = c.htc
	}
	if endsAbove(p) {
		b.Payload = nil // the epoch ends: its last blocks carry nothing
	}
	hash := c.blockHash(b)
	sig, err := c.cfg.Signer.Sign(c.proposalSignBytes(hash))
	if err != nil {
		return fmt.Errorf("%w: proposal for round %d: %w", ErrSign, round, err)
	}
	prop := &pb.Proposal{Block: b, Sig: sig}
	m := &pb.Message{Version: WireVersion, Body: &pb.Message_Proposal{Proposal: prop}}
	c.noteSigned(c.seenProps, round, c.cfg.ID, string(hash), EncodeMessage(m))
	n := c.insert(b, p, hash)
	c.broadcast(m)
	return c.tryVote(n)
}

// ---- the block tree ----

// insert puts a checked block in the tree and hands it out to persist.
func (c *Core) insert(b *pb.Block, parent *node, hash []byte) *node {
	n := c.link(b, parent)
	n.hash = hash
	c.persistBlock(n)
	if q := c.qcs[string(hash)]; q != nil {
		c.certify(n, q)
	}
	if len(c.orphans) > 0 {
		c.retryOrphans()
	}
	return n
}

// link makes b a child of parent and computes its reputation data.
func (c *Core) link(b *pb.Block, parent *node) *node {
	n := &node{b: b, hash: c.blockHash(b), parent: parent}
	c.blocks[string(n.hash)] = n
	if c.cfg.LeaderSchedule == nil {
		c.reputation(n)
	}
	return n
}

func (c *Core) persistBlock(n *node) {
	if k := string(n.hash); !c.rdBlocks[k] && n != c.root {
		c.rdBlocks[k] = true
		c.rd.Blocks = append(c.rd.Blocks, n.b)
	}
}

// queueExec hands out n's certified children (and theirs) for execution
// once n's result is known.
func (c *Core) queueExec(n *node) {
	if n.qc != nil && !n.execd && n.parent != nil && n.parent.result != nil {
		n.execd = true
		c.rd.Execute = append(c.rd.Execute, n.b)
	}
}

// Executed reports the execution result of a block handed out in
// Ready.Execute.
// endsEpoch says that executing the block changed the validator set:
// when it commits, the epoch ends with it.
func (c *Core) Executed(hash, result []byte, endsEpoch bool) error {
	if c.readyTaken {
		return ErrAdvance
	}
	n := c.blocks[string(hash)]
	if n == nil {
		return ErrUnknownBlock
	}
	if len(result) != HashSize {
		return fmt.Errorf("%w: a result of %d bytes, want %d", ErrConfig, len(result), HashSize)
	}
	n.result = bytes.Clone(result)
	n.ends = endsEpoch
	for _, ch := range c.children(n) {
		c.queueExec(ch)
	}
	c.flushCommits()
	return c.after()
}

// endsAbove reports whether n or an uncommitted ancestor ends the epoch.
func endsAbove(n *node) bool {
	for x := n; x != nil && !x.committed; x = x.parent {
		if x.ends {
			return true
		}
	}
	return false
}

// children returns n's children in hash order.
func (c *Core) children(n *node) []*node {
	var out []*node
	for _, ch := range c.blocks {
		if ch.parent == n {
			out = append(out, ch)
		}
	}
	slices.SortFunc(out, func(a, b *node) int { return bytes.Compare(a.hash, b.hash) })
	return out
}

// commit records that n is final. child is n's certified child that
// proves it (nil under the one-chain bug).
func (c *Core) commit(n, child *node) {
	if n.b.Height <= c.root.b.Height || (c.target != nil && n.b.Height <= c.target.b.Height) {
		return
	}
	x := n
	for x != nil && x.b.Height > c.root.b.Height {
		x = x.parent
	}
	if x != c.root {
		return // does not extend the committed chain: cannot happen while f or fewer are faulty
	}
	c.target = n
	c.targetChild = child
	c.flushCommits()
}

// flushCommits hands out the blocks from the root up to the commit target
// that this node has executed (it must know whether a block ends the
// epoch before it commits the next), and ends the epoch at a block that
// changes the validator set.
func (c *Core) flushCommits() {
	if c.target == nil || c.ended {
		return
	}
	var chain []*node
	for x := c.target; x != c.root; x = x.parent {
		chain = append(chain, x)
	}
	slices.Reverse(chain)
	moved := false
	for i, x := range chain {
		if x.result == nil && !c.cfg.bugs.oneChainCommit {
			break
		}
		next := c.targetChild
		if i+1 < len(chain) {
			next = chain[i+1]
		}
		cm := Commit{Block: x.b, Hash: x.hash, Result: x.result,
			Reputation: Reputation{Anchor: slices.Clone(x.anchorExcl)}}
		for _, f := range x.fails {
			cm.Reputation.Failed = append(cm.Reputation.Failed, Failure{Round: f.round, ID: f.id})
		}
		if next != nil {
			cm.QC = next.b.Justify
			if next.qc != nil {
				cm.Proof = next.qc
				cm.Result = next.qc.Data.ParentResult
			}
		}
		c.rd.Committed = append(c.rd.Committed, cm)
		x.committed = true
		c.root = x
		moved = true
		if x.ends {
			c.ended = true
			c.rd.EpochEnded = true
			break
		}
	}
	if c.root == c.target {
		c.target, c.targetChild = nil, nil
	}
	if moved {
		c.prune()
	}
}

// prune drops blocks that neither descend from the root nor are among
// its last keepCommitted ancestors, and state of rounds gone by.
func (c *Core) prune() {
	keep := map[*node]bool{}
	x := c.root
	for i := 0; x != nil && i < keepCommitted; i++ {
		keep[x] = true
		if i == keepCommitted-1 {
			x.parent = nil
		}
		x = x.parent
	}
	for k, n := range c.blocks {
		if keep[n] {
			continue
		}
		a := n
		for a != nil && a.b.Height > c.root.b.Height {
			a = a.parent
		}
		if a != c.root {
			delete(c.blocks, k)
		}
	}
	rr := c.root.b.Round
	for k := range c.seenVotes {
		if k.round+maxRoundAhead < rr {
			delete(c.seenVotes, k)
		}
	}
	for k := range c.seenProps {
		if k.round+maxRoundAhead < rr {
			delete(c.seenProps, k)
		}
	}
	for k, q := range c.qcs {
		if q.Data.Round <= rr {
			delete(c.qcs, k)
		}
	}
	for k, r := range c.verified {
		if r < rr {
			delete(c.verified, k)
		}
	}
	for k := range c.evidenced {
		if k.round+maxRoundAhead < rr {
			delete(c.evidenced, k)
		}
	}
}

// ---- fetching blocks ----

func (c *Core) fetch(from string, hash []byte) {
	if from == "" || from == c.cfg.ID || c.fetching[string(hash)] || c.blocks[string(hash)] != nil {
		return
	}
	c.fetching[string(hash)] = true
	c.send(from, &pb.Message{Version: WireVersion, Body: &pb.Message_FetchRequest{
		FetchRequest: &pb.FetchRequest{Hash: bytes.Clone(hash), Count: uint32(c.cfg.FetchCount)}}})
}

// onFetchRequest serves a block and its ancestors from the tree and,
// below it, from the driver's Storage of committed blocks.
func (c *Core) onFetchRequest(from string, r *pb.FetchRequest) {
	lookup := func(hash []byte) *pb.Block {
		if n := c.blocks[string(hash)]; n != nil {
			return n.b
		}
		if c.cfg.Storage != nil {
			return c.cfg.Storage.Block(hash)
		}
		return nil
	}
	resp := &pb.FetchResponse{}
	for h := r.Hash; len(resp.Blocks) < int(min(r.Count, maxFetch)); {
		b := lookup(h)
		if b == nil || b.Height == 0 {
			break
		}
		resp.Blocks = append(resp.Blocks, b)
		h = b.Parent
	}
	if len(resp.Blocks) > 0 {
		c.send(from, &pb.Message{Version: WireVersion, Body: &pb.Message_FetchResponse{FetchResponse: resp}})
	}
}

func (c *Core) onFetchResponse(from string, r *pb.FetchResponse) error {
	if len(r.Blocks) == 0 {
		return nil
	}
	first := c.blockHash(r.Blocks[0])
	if !c.fetching[string(first)] {
		return nil // not asked for
	}
	delete(c.fetching, string(first))
	hashes := [][]byte{first}
	for i := 1; i < len(r.Blocks); i++ {
		h := c.blockHash(r.Blocks[i])
		if !bytes.Equal(h, r.Blocks[i-1].Parent) {
			return bad("fetch response from %s is not a chain", from)
		}
		hashes = append(hashes, h)
	}
	for i := len(r.Blocks) - 1; i >= 0; i-- {
		b, h := r.Blocks[i], hashes[i]
		if c.blocks[string(h)] != nil || b.Height <= c.root.b.Height {
			continue
		}
		if len(c.orphans) < maxOrphans {
			c.orphans[string(h)] = b
		}
	}
	last := r.Blocks[len(r.Blocks)-1]
	if c.blocks[string(last.Parent)] == nil && last.Height > c.root.b.Height+1 {
		c.fetch(from, last.Parent)
	}
	c.retryOrphans()
	return nil
}

// retryOrphans inserts, lowest first, every fetched block whose parent is
// in the tree. A fetched block came by
// hash from a verified QC or a chain of parent hashes from one, so its
// content is certified; its own QC is still verified.
func (c *Core) retryOrphans() {
	for progress := true; progress && len(c.orphans) > 0; {
		progress = false
		keys := make([]string, 0, len(c.orphans))
		for k := range c.orphans {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			return cmp.Or(cmp.Compare(c.orphans[a].Height, c.orphans[b].Height), cmp.Compare(a, b))
		})
		for _, k := range keys {
			b := c.orphans[k]
			if b == nil {
				continue
			}
			if b.Height <= c.root.b.Height || c.blocks[k] != nil {
				delete(c.orphans, k)
				continue
			}
			p := c.blocks[string(b.Parent)]
			if p == nil {
				continue
			}
			delete(c.orphans, k)
			if c.checkChild(b, p) != nil || c.processQC("", b.Justify) != nil {
				continue
			}
			if c.blocks[k] == nil {
				n := c.link(b, p)
				c.persistBlock(n)
				if q := c.qcs[k]; q != nil {
					c.certify(n, q)
				}
			}
			progress = true
		}
	}
}

// ---- leaders and reputation ----

// leaderFor returns the leader of round for a proposal that extends
// parent. Leaders rotate every round over the validator set; validators
// that failed to lead a round recently, as recorded in the committed
// chain below parent, are skipped (at most f of them, so a quorum of
// candidates always remains). Every node derives the same answer from the
// same parent.
func (c *Core) leaderFor(round uint64, parent *node) string {
	if c.cfg.LeaderSchedule != nil {
		return c.cfg.LeaderSchedule(round)
	}
	vs := c.cfg.Validators
	return pickLeader(round, vs, parent.anchorExcl)
}

// exclusions returns the validators skipped for proposals anchored at a
// block with this failure window: the most recent failed leaders, at
// most f of them, sorted.
func (c *Core) exclusions(fails []fail) []string {
	limit := c.cfg.Validators.F()
	var excl []string
	for i := len(fails) - 1; i >= 0 && len(excl) < limit; i-- {
		if !slices.Contains(excl, fails[i].id) {
			excl = append(excl, fails[i].id)
		}
	}
	slices.Sort(excl)
	return excl
}

func pickLeader(round uint64, vs ValidatorSet, excl []string) string {
	n := uint64(len(vs))
	for i := uint64(0); i < n; i++ {
		v := vs[(round+i)%n]
		if !slices.Contains(excl, v.ID) {
			return v.ID
		}
	}
	return vs[round%n].ID
}

// reputation computes n's failure window and exclusion sets from its
// parent's. The rounds between the parent's and n's had no block on this
// chain: their leaders (as a proposal extending the parent would have
// had them) failed. n.excl is the set a proposal uses when n is its
// commit anchor: the highest ancestor that the proposal's own chain
// proves committed (a block whose child is one round later).
func (c *Core) reputation(n *node) {
	p := n.parent
	w := c.cfg.RepWindow
	from := p.b.Round + 1
	if n.b.Round > w && from < n.b.Round-w {
		from = n.b.Round - w
	}
	fails := make([]fail, 0, len(p.fails)+int(n.b.Round-from))
	for _, f := range p.fails {
		if f.round+w >= n.b.Round {
			fails = append(fails, f)
		}
	}
	if vs := c.cfg.Validators; len(vs) > 0 {
		for r := from; r < n.b.Round; r++ {
			fails = append(fails, fail{round: r, id: pickLeader(r, vs, p.anchorExcl)})
		}
	}
	n.fails = fails
	n.excl = c.exclusions(fails)
	if n.b.Round == p.b.Round+1 {
		n.anchorExcl = p.excl
	} else {
		n.anchorExcl = p.anchorExcl
	}
}
