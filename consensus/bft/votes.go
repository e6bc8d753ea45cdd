package bft

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

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
