package bft

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/accord-chain/accord/consensus/bft/pb"
)

// countingVerifier counts signature checks.
type countingVerifier struct{ n *int }

func (v countingVerifier) Verify(pub, msg, sig []byte) bool {
	*v.n++
	return fakeVerifier{}.Verify(pub, msg, sig)
}

func newTestCore(t *testing.T, id string, v Verifier, state *pb.SafetyState, blocks []*pb.Block) *Core {
	t.Helper()
	if v == nil {
		v = fakeVerifier{}
	}
	c, err := New(Config{ID: id, ChainID: "test", Signer: fakeKey{id}, Verifier: v, Validators: fakeSet(ids(4))},
		genesis(), state, blocks)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// leaderProposal makes n2 (round 1's leader) propose and returns its
// proposal and vote messages.
func leaderProposal(t *testing.T) (prop, vote *pb.Message) {
	t.Helper()
	l := newTestCore(t, "n2", nil, nil, nil)
	rd := l.Ready()
	if rd.ProposeRound != 1 {
		t.Fatalf("n2 was asked to propose in round %d, want 1", rd.ProposeRound)
	}
	l.Advance()
	if err := l.Propose(1, []byte("payload")); err != nil {
		t.Fatal(err)
	}
	rd = l.Ready()
	for _, e := range rd.Messages {
		switch e.Msg.Body.(type) {
		case *pb.Message_Proposal:
			prop = e.Msg
		case *pb.Message_Vote:
			vote = e.Msg
		}
	}
	if prop == nil || vote == nil {
		t.Fatal("the leader sent no proposal or no vote")
	}
	return prop, vote
}

func votesIn(rd Ready) []*pb.Vote {
	var out []*pb.Vote
	for _, e := range rd.Messages {
		if v := e.Msg.GetVote(); v != nil {
			out = append(out, v)
		}
	}
	return out
}

// A vote leaves only in a Ready whose State records it; a node restarted
// from that state does not vote in the round again, and one restarted
// without it (a driver that sent before persisting) would.
func TestReadyPersistsVoteBeforeSending(t *testing.T) {
	prop, _ := leaderProposal(t)
	c := newTestCore(t, "n1", nil, nil, nil)
	if err := c.Step("n2", prop); err != nil {
		t.Fatal(err)
	}
	rd := c.Ready()
	if len(votesIn(rd)) != 1 {
		t.Fatalf("n1 sent %d votes for the proposal, want 1", len(votesIn(rd)))
	}
	if rd.State == nil || rd.State.LastVotedRound != 1 {
		t.Fatalf("the Ready that carries the vote has state %v, want last voted round 1", rd.State)
	}
	if len(rd.Blocks) != 1 {
		t.Fatalf("the voted block is not handed out to persist (%d blocks)", len(rd.Blocks))
	}
	c.Advance()

	restarted := newTestCore(t, "n1", nil, rd.State, rd.Blocks)
	if err := restarted.Step("n2", prop); err != nil {
		t.Fatal(err)
	}
	if v := votesIn(restarted.Ready()); len(v) != 0 {
		t.Fatalf("restarted from its persisted state, n1 voted again: %v", v)
	}
	forgot := newTestCore(t, "n1", nil, nil, nil)
	if err := forgot.Step("n2", prop); err != nil {
		t.Fatal(err)
	}
	if len(votesIn(forgot.Ready())) != 1 {
		t.Fatal("without the persisted state n1 should vote again: the test shows nothing")
	}
}

// A timeout leaves with the state that forbids voting in its round.
func TestReadyPersistsTimeoutBeforeSending(t *testing.T) {
	c := newTestCore(t, "n1", nil, nil, nil)
	for range 10 {
		if err := c.Tick(); err != nil {
			t.Fatal(err)
		}
	}
	rd := c.Ready()
	if rd.State == nil || rd.State.HighTimeoutRound != 1 {
		t.Fatalf("state with the timeout: %v, want high timeout round 1", rd.State)
	}
	sent := false
	for _, e := range rd.Messages {
		sent = sent || e.Msg.GetTimeout() != nil
	}
	if !sent {
		t.Fatal("no timeout sent after 10 ticks")
	}
	c.Advance()
	prop, _ := leaderProposal(t)
	if err := c.Step("n2", prop); err != nil {
		t.Fatal(err)
	}
	if v := votesIn(c.Ready()); len(v) != 0 {
		t.Fatal("n1 voted in a round it had timed out")
	}
}

// Each vote signature is checked once: a duplicate is recognised before
// verification, and a QC formed from checked votes is not checked again.
func TestSignaturesVerifiedOnce(t *testing.T) {
	prop, vote := leaderProposal(t)
	n := 0
	c := newTestCore(t, "n1", countingVerifier{&n}, nil, nil)
	if err := c.Step("n2", prop); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("a proposal over the genesis QC took %d checks, want 1 (its signature)", n)
	}
	for range 3 {
		if err := c.Step("n2", vote); err != nil {
			t.Fatal(err)
		}
	}
	if n != 2 {
		t.Fatalf("one vote delivered three times took %d checks, want 1", n-1)
	}
	// Votes of n3 and n4 complete the QC (with n1's own and n2's).
	for _, id := range []string{"n3", "n4"} {
		o := newTestCore(t, id, nil, nil, nil)
		if err := o.Step("n2", prop); err != nil {
			t.Fatal(err)
		}
		for _, v := range votesIn(o.Ready()) {
			if err := c.Step(id, &pb.Message{Version: WireVersion, Body: &pb.Message_Vote{Vote: v}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c.Round() != 2 {
		t.Fatalf("n1 is in round %d after a QC of round 1, want 2", c.Round())
	}
	before := n
	// The QC formed here is taken as verified when it comes back.
	c.Advance()
	if c.hqc.Data.Round != 1 || len(c.hqc.Sigs) < 3 {
		t.Fatalf("hqc %v", c.hqc)
	}
	if err := c.processQC("n3", c.hqc); err != nil || n != before {
		t.Fatalf("a QC formed here was checked again (%d checks, err %v)", n-before, err)
	}
}

// Bad signatures and certificates are refused with ErrBadMessage.
func TestRefusesForgeries(t *testing.T) {
	prop, vote := leaderProposal(t)
	c := newTestCore(t, "n1", nil, nil, nil)

	bad := cloneMsg(prop)
	bad.GetProposal().Sig[0] ^= 1
	if err := c.Step("n2", bad); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("forged proposal: %v", err)
	}
	wrongLeader := cloneMsg(prop)
	wb := wrongLeader.GetProposal().Block
	wb.Proposer = []byte("n3") // signed by n3, but round 1 is n2's
	wrongLeader.GetProposal().Sig, _ = fakeKey{"n3"}.Sign(c.proposalSignBytes(c.blockHash(wb)))
	if err := c.Step("n3", wrongLeader); !errors.Is(err, ErrBadMessage) || !strings.Contains(err.Error(), "the leader is n2") {
		t.Fatalf("proposal by a non-leader: %v", err)
	}
	v := cloneMsg(vote)
	v.GetVote().Sig[0] ^= 1
	if err := c.Step("n2", v); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("forged vote: %v", err)
	}
	stranger := cloneMsg(vote)
	stranger.GetVote().Voter = []byte("n9")
	if err := c.Step("n9", stranger); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("vote by a non-validator: %v", err)
	}
	// A QC of two signatures (f+1) does not certify.
	weak := &pb.QC{Data: vote.GetVote().Data, Signers: []byte{0b0011}, Sigs: [][]byte{
		fakeSig([]byte("n1"), c.voteSignBytes(vote.GetVote().Data)),
		fakeSig([]byte("n2"), c.voteSignBytes(vote.GetVote().Data)),
	}}
	to := &pb.Message{Version: WireVersion, Body: &pb.Message_Timeout{Timeout: &pb.Timeout{
		Round: 2, HighQc: weak, Voter: []byte("n3"), Sig: []byte("x")}}}
	if err := c.Step("n3", to); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("QC of f+1 signatures: %v", err)
	}
	if c.hqc.Data.Round != 0 {
		t.Fatal("a refused QC moved the high QC")
	}
	// A vote signed for another chain does not verify here.
	other, err := New(Config{ID: "n2", ChainID: "other", Signer: fakeKey{"n2"}, Verifier: fakeVerifier{},
		Validators: fakeSet(ids(4))}, genesis(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ov := cloneMsg(vote)
	ov.GetVote().Sig, _ = fakeKey{"n2"}.Sign(other.voteSignBytes(ov.GetVote().Data))
	if err := c.Step("n2", ov); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("vote signed for another chain: %v", err)
	}
}

// Two different proposals signed by the round's leader are kept as
// evidence, and the node votes for at most one.
func TestEquivocationEvidence(t *testing.T) {
	prop, _ := leaderProposal(t)
	l := newTestCore(t, "n2", nil, nil, nil)
	l.Ready()
	l.Advance()
	if err := l.Propose(1, []byte("other payload")); err != nil {
		t.Fatal(err)
	}
	var prop2 *pb.Message
	for _, e := range l.Ready().Messages {
		if e.Msg.GetProposal() != nil {
			prop2 = e.Msg
		}
	}
	c := newTestCore(t, "n1", nil, nil, nil)
	for _, m := range []*pb.Message{prop, prop2} {
		if err := c.Step("n2", m); err != nil {
			t.Fatal(err)
		}
	}
	rd := c.Ready()
	if len(rd.Evidence) != 1 || rd.Evidence[0].Validator != "n2" || rd.Evidence[0].Round != 1 {
		t.Fatalf("evidence %+v, want one against n2 in round 1", rd.Evidence)
	}
	a, errA := DecodeMessage(rd.Evidence[0].A)
	b, errB := DecodeMessage(rd.Evidence[0].B)
	if errA != nil || errB != nil || bytes.Equal(a.GetProposal().Block.Payload, b.GetProposal().Block.Payload) {
		t.Fatal("the evidence is not the two conflicting signed proposals")
	}
	if len(votesIn(rd)) != 1 {
		t.Fatalf("n1 sent %d votes, want 1", len(votesIn(rd)))
	}
}

func cloneMsg(m *pb.Message) *pb.Message {
	c, err := DecodeMessage(EncodeMessage(m))
	if err != nil {
		panic(err)
	}
	return c
}

func TestConfigRefused(t *testing.T) {
	good := Config{ID: "n1", Signer: fakeKey{"n1"}, Verifier: fakeVerifier{}, Validators: fakeSet(ids(4))}
	for name, mut := range map[string]func(*Config){
		"no id":        func(c *Config) { c.ID = "" },
		"no signer":    func(c *Config) { c.Signer = nil },
		"no set":       func(c *Config) { c.Validators = nil },
		"twice listed": func(c *Config) { c.Validators = append(c.Validators, c.Validators[0]) },
	} {
		cfg := good
		mut(&cfg)
		if _, err := New(cfg, genesis(), nil, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(good, Root{Block: genesis().Block}, nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("root without a result: %v", err)
	}
}

// Inputs between Ready and Advance are refused: the driver has not yet
// persisted what the last Ready asked for.
func TestInputBeforeAdvanceRefused(t *testing.T) {
	prop, _ := leaderProposal(t)
	c := newTestCore(t, "n1", nil, nil, nil)
	c.Ready()
	if err := c.Step("n2", prop); !errors.Is(err, ErrAdvance) {
		t.Fatalf("Step before Advance: %v", err)
	}
	if err := c.Tick(); !errors.Is(err, ErrAdvance) {
		t.Fatalf("Tick before Advance: %v", err)
	}
	c.Advance()
	if err := c.Step("n2", prop); err != nil {
		t.Fatal(err)
	}
}

// A proposal that follows a timeout certificate with forged signatures is
// refused and gets no vote; with valid ones it gets a vote.
func TestProposalAfterTC(t *testing.T) {
	c := newTestCore(t, "n1", nil, nil, nil)
	c.Ready()
	c.Advance()
	g := genesis()
	gq := c.root.qc
	mk := func(forge bool) *pb.Message {
		tc := &pb.TC{Round: 1, Signers: []byte{0b0111}, HqcRounds: []uint64{0, 0, 0}, HighQc: gq}
		for _, id := range []string{"n1", "n2", "n3"} {
			sig := fakeSig([]byte(id), c.timeoutSignBytes(1, 0))
			if forge {
				sig = bytes.Repeat([]byte{7}, 32)
			}
			tc.Sigs = append(tc.Sigs, sig)
		}
		b := &pb.Block{Version: WireVersion, Round: 2, Height: 1, Parent: c.blockHash(g.Block), Justify: gq, Tc: tc,
			Proposer: []byte("n3"), Payload: []byte("after a timeout")}
		sig, _ := fakeKey{"n3"}.Sign(c.proposalSignBytes(c.blockHash(b)))
		return &pb.Message{Version: WireVersion, Body: &pb.Message_Proposal{Proposal: &pb.Proposal{Block: b, Sig: sig}}}
	}
	if err := c.Step("n3", mk(true)); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("proposal with a forged TC: %v", err)
	}
	if c.Round() != 1 || len(votesIn(c.Ready())) != 0 {
		t.Fatalf("a forged TC moved n1 to round %d or got a vote", c.Round())
	}
	c.Advance()
	if err := c.Step("n3", mk(false)); err != nil {
		t.Fatal(err)
	}
	if v := votesIn(c.Ready()); c.Round() != 2 || len(v) != 1 || v[0].Data.Round != 2 {
		t.Fatalf("after a valid TC n1 is in round %d with votes %v, want one vote in round 2", c.Round(), v)
	}
}
