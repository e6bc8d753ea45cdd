package bft

import (
	"bytes"
	"testing"

	"github.com/accord-chain/accord/consensus/bft/pb"
)

// TestNoVoteBeforeParentExecuted: a validator that has not executed a
// certified block yet holds back its vote for the block's child (the vote
// would have to name the parent's result), and casts it, with that
// result, once the driver reports it.
func TestNoVoteBeforeParentExecuted(t *testing.T) {
	all := ids(4)
	cores := map[string]*Core{}
	for _, id := range all {
		cores[id] = newTestCore(t, id, nil, nil, nil)
	}
	type msg struct {
		from, to string
		m        *pb.Message
	}
	var queue []msg
	var held []*pb.Block           // what n1 was asked to execute, not reported
	results := map[string][]byte{} // by block hash, as the others computed
	results[string(cores["n1"].root.hash)] = genesis().Result
	var n1Votes []*pb.VoteData
	// Leaders propose up to round 2 only, and round 2's votes do not
	// reach n1: it stays in round 2, with round 2's proposal.
	const lastRound = 2
	// pump runs every core's Ready batches and delivers messages until
	// nothing moves; a leader asked to propose does.
	pump := func() {
		for moved := true; moved; {
			moved = false
			for _, id := range all {
				c := cores[id]
				for c.HasReady() {
					moved = true
					rd := c.Ready()
					for _, e := range rd.Messages {
						if v := e.Msg.GetVote(); v != nil && id == "n1" {
							n1Votes = append(n1Votes, v.Data)
						}
						for _, to := range all {
							if to != id && (e.To == "" || e.To == to) {
								queue = append(queue, msg{id, to, e.Msg})
							}
						}
					}
					c.Advance()
					for _, b := range rd.Execute {
						h := c.blockHash(b)
						if id == "n1" {
							held = append(held, b)
							continue
						}
						r := execResult(results[string(b.Parent)], h)
						results[string(h)] = r
						if err := c.Executed(h, r, false); err != nil {
							t.Fatal(err)
						}
					}
					if rd.ProposeRound != 0 && rd.ProposeRound <= lastRound {
						if err := c.Propose(rd.ProposeRound, []byte(id)); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			for len(queue) > 0 {
				moved = true
				m := queue[0]
				queue = queue[1:]
				if v := m.m.GetVote(); v != nil && m.to == "n1" && v.Data.Round == 2 {
					continue
				}
				if err := cores[m.to].Step(m.from, m.m); err != nil {
					t.Fatalf("%s from %s: %v", m.to, m.from, err)
				}
				break // run the receiver's Ready first
			}
		}
	}
	pump()
	// Round 1's block is certified everywhere; round 2's proposal extends
	// it. n1 has not executed round 1's block: it voted in round 1 (the
	// genesis result is known) but not in round 2.
	if len(held) == 0 {
		t.Fatal("n1 was never asked to execute a block")
	}
	b1 := held[0]
	if b1.Round != 1 {
		t.Fatalf("n1 was first asked to execute round %d's block", b1.Round)
	}
	for _, v := range n1Votes {
		if v.Round > 1 {
			t.Fatalf("n1 voted in round %d without having executed round 1's block", v.Round)
		}
	}
	c := cores["n1"]
	if st := c.Status(); st.Round != 2 || st.CommittedHeight != 0 {
		t.Fatalf("n1 is in round %d with height %d committed, want round 2 and nothing committed", st.Round, st.CommittedHeight)
	}
	// Reported now: n1 votes for round 2's block, naming the result.
	h1 := c.blockHash(b1)
	before := len(n1Votes)
	if err := c.Executed(h1, results[string(h1)], false); err != nil {
		t.Fatal(err)
	}
	pump()
	if len(n1Votes) != before+1 {
		t.Fatalf("n1 cast %d votes once round 1's result was known, want 1", len(n1Votes)-before)
	}
	if v := n1Votes[before]; v.Round != 2 || !bytes.Equal(v.ParentResult, results[string(h1)]) {
		t.Fatalf("n1's vote is for round %d with parent result %x, want round 2 with %x", v.Round, v.ParentResult, results[string(h1)])
	}
}
