package main

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
)

func TestBountyAwardedToATeamByShares(t *testing.T) {
	e := newEnv(t)
	var out Outcome
	e.must(poster, Post, postArgs("B-1", 1001), &out)
	if out.State != Open || e.m.Balances[self] != 1001 || e.m.Balances[poster] != funds-1001 {
		t.Fatalf("post: %+v, escrow %d, poster %d; want open with 1001 escrowed", out, e.m.Balances[self], e.m.Balances[poster])
	}
	if b := e.get("B-1"); b.Phase != "enrolling" || b.Poster != poster {
		t.Fatalf("get after post: %+v; want enrolling, posted by %s", b, poster)
	}
	e.must(students[0], Enroll, EnrollArgs{"B-1", []Member{{students[0], 50}, {students[1], 30}, {students[2], 20}}}, &out)
	if *out.Team != 0 {
		t.Fatalf("first team numbered %d; want 0", *out.Team)
	}
	e.must(students[3], Enroll, EnrollArgs{"B-1", []Member{{"0x" + strings.ToUpper(students[3]), 100}}}, &out)
	if *out.Team != 1 {
		t.Fatalf("second team numbered %d; want 1", *out.Team)
	}
	sol0, salt0, c0 := sealed(0)
	sol1, salt1, c1 := sealed(1)
	_, _, early := sealed(7)
	e.must(students[1], Submit, SubmitArgs{"B-1", early}, nil)
	e.must(students[2], Submit, SubmitArgs{"B-1", c0}, nil) // replaces the first before submit_by
	e.must(students[3], Submit, SubmitArgs{"B-1", c1}, nil)

	e.m.BlockTime = submitBy
	e.must(students[0], Reveal, RevealArgs{"B-1", sol0, salt0}, nil)
	e.must(students[3], Reveal, RevealArgs{"B-1", sol1, salt1}, nil)
	if b := e.get("B-1"); b.Phase != "judging" || b.Teams[0].SolutionHash != sol0 || b.Teams[1].Salt != salt1 {
		t.Fatalf("get after reveals: %+v; want judging with both solutions", b)
	}

	e.must(judges[0], Judge, JudgeArgs{"B-1", 0, true}, &out)
	e.must(judges[1], Judge, JudgeArgs{"B-1", 0, false}, &out)
	e.must(judges[1], Judge, JudgeArgs{"B-1", 1, true}, &out)
	if out.State != Open || out.Accepts != 1 {
		t.Fatalf("one accept each: %+v; want open", out)
	}
	e.must(judges[2], Judge, JudgeArgs{"B-1", 0, true}, &out)
	if out.State != Awarded || out.Accepts != 2 || len(out.Payouts) != 3 {
		t.Fatalf("second accept of team 0: %+v; want awarded with three payouts", out)
	}
	for addr, want := range map[string]uint64{students[0]: 501, students[1]: 300, students[2]: 200, students[3]: 0, self: 0, poster: funds - 1001} {
		if got := e.m.Balances[addr]; got != want {
			t.Errorf("balance of %s = %d; want %d (1001 split 50/30/20, remainder to the first)", addr, got, want)
		}
	}
	b := e.get("B-1")
	if b.State != Awarded || b.Winner == nil || *b.Winner != 0 || b.Phase != "closed" {
		t.Fatalf("get after the award: %+v; want awarded to team 0", b)
	}
	var l ListView
	e.must(stranger, List, ListArgs{State: Awarded}, &l)
	if len(l.Bounties) != 1 || l.Bounties[0].ID != "B-1" {
		t.Fatalf("list awarded: %+v; want B-1", l)
	}
	e.must(stranger, List, ListArgs{State: Open}, &l)
	if len(l.Bounties) != 0 {
		t.Fatalf("list open: %+v; want none", l)
	}
	if n := len(e.m.Events); n != 12 || e.m.Events[n-1].Topic != "bounty.award" {
		t.Fatalf("%d events, last %q; want 12 ending with bounty.award", n, e.m.Events[n-1].Topic)
	}
}

func TestRefundAfterJudgeByWithNoAcceptedSolution(t *testing.T) {
	e := newEnv(t)
	e.must(poster, Post, postArgs("B-1", 500), nil)
	refused(t, e, stranger, Refund, IDArg{"B-1"}, ErrWrongState, "refund after it")
	e.m.BlockTime = judgeBy
	var out Outcome
	e.must(stranger, Refund, IDArg{"B-1"}, &out) // anyone may trigger it; only the poster is paid
	if out.State != Refunded || e.m.Balances[poster] != funds || e.m.Balances[self] != 0 || e.m.Balances[stranger] != funds {
		t.Fatalf("refund: %+v, balances %v; want the 500 back with the poster", out, e.m.Balances)
	}
	refused(t, e, poster, Refund, IDArg{"B-1"}, ErrWrongState, "bounty B-1 is refunded")
}

// refused asserts that a call fails naming rule and text and changes
// neither state, events nor balances.
func refused(t *testing.T, e *env, who string, fn contract.Method, args any, rule error, text string) {
	t.Helper()
	before := snapshot(e.m)
	_, err := e.call(who, fn, args)
	if !errors.Is(err, rule) || !strings.Contains(err.Error(), text) {
		t.Fatalf("call %+v by %s: err = %v; want %q naming %q", args, who, err, rule, text)
	}
	if after := snapshot(e.m); after != before {
		t.Fatalf("refused call changed state, events or balances:\n%s\n%s", before, after)
	}
}

func snapshot(m *contract.Mock) string {
	b, _ := json.Marshal([]any{m.State, len(m.Events), m.Balances}) // maps encode in key order
	return string(b)
}

func TestPostRefusals(t *testing.T) {
	e := newEnv(t)
	refused(t, e, poster, Post, postArgs("B-1", funds+1), contract.ErrRefused, "holds 1000000")
	e.must(poster, Post, postArgs("B-1", 10), nil)
	refused(t, e, poster, Post, postArgs("B-1", 10), ErrWrongState, "already exists")
	mut := func(f func(*PostArgs)) PostArgs { a := postArgs("B-2", 10); f(&a); return a }
	for _, c := range []struct {
		args PostArgs
		rule error
		text string
	}{
		{mut(func(a *PostArgs) { a.Reward = 0 }), ErrBadArgs, "reward"},
		{mut(func(a *PostArgs) { a.SubmitBy = t0 }), ErrPastDeadline, "submit_by"},
		{mut(func(a *PostArgs) { a.JudgeBy = a.SubmitBy }), ErrBadArgs, "judge_by"},
		{mut(func(a *PostArgs) { a.Quorum = 0 }), ErrBadArgs, "quorum"},
		{mut(func(a *PostArgs) { a.Quorum = 4 }), ErrBadArgs, "quorum"},
		{mut(func(a *PostArgs) { a.Judges = nil }), ErrBadArgs, "judges"},
		{mut(func(a *PostArgs) { a.Judges = []string{judges[0], strings.ToUpper(judges[0])} }), ErrBadArgs, "twice"},
		{mut(func(a *PostArgs) { a.Judges = []string{"alice"} }), ErrBadArgs, "judges[0]"},
		{mut(func(a *PostArgs) { a.SpecHash = "00" }), ErrBadArgs, "spec_hash"},
		{mut(func(a *PostArgs) { a.Title = "" }), ErrBadArgs, "title"},
		{mut(func(a *PostArgs) { a.ID = "a/b" }), ErrBadArgs, "id"},
	} {
		refused(t, e, poster, Post, c.args, c.rule, c.text)
	}
	refused(t, e, poster, Post, []byte(`{"id":"B-3","rewards":5}`), contract.ErrBadArgs, "unknown field")
}

func TestEnrollAndSubmitRefusals(t *testing.T) {
	e := newEnv(t)
	refused(t, e, students[0], Enroll, EnrollArgs{"B-9", []Member{{students[0], 100}}}, ErrNoBounty, "B-9")
	e.must(poster, Post, postArgs("B-1", 100), nil)
	for _, c := range []struct {
		who  string
		team []Member
		rule error
		text string
	}{
		{students[0], []Member{{students[0], 60}, {students[1], 30}}, ErrBadArgs, "sum to 90"},
		{students[0], []Member{{students[0], 0}, {students[1], 100}}, ErrBadArgs, "share 0"},
		{students[0], []Member{{students[0], 50}, {students[0], 50}}, ErrBadArgs, "twice"},
		{students[0], nil, ErrBadArgs, "1 to 20 members"},
		{stranger, []Member{{students[0], 100}}, ErrNotAllowed, "must be a member"},
		{judges[0], []Member{{judges[0], 100}}, ErrNotAllowed, "may not compete"},
		{poster, []Member{{poster, 100}}, ErrNotAllowed, "may not compete"},
	} {
		refused(t, e, c.who, Enroll, EnrollArgs{"B-1", c.team}, c.rule, c.text)
	}
	e.must(students[0], Enroll, EnrollArgs{"B-1", []Member{{students[0], 50}, {students[1], 50}}}, nil)
	refused(t, e, students[2], Enroll, EnrollArgs{"B-1", []Member{{students[2], 50}, {students[1], 50}}}, ErrNotAllowed, "already in team 0")

	_, _, c := sealed(0)
	refused(t, e, students[2], Submit, SubmitArgs{"B-1", c}, ErrNotAllowed, "in no team")
	refused(t, e, students[0], Submit, SubmitArgs{"B-1", "abc"}, ErrBadArgs, "commitment")

	e.m.BlockTime = submitBy
	refused(t, e, students[2], Enroll, EnrollArgs{"B-1", []Member{{students[2], 100}}}, ErrPastDeadline, "submit_by")
	refused(t, e, students[0], Submit, SubmitArgs{"B-1", c}, ErrPastDeadline, "submit_by")
}

func TestRevealRefusals(t *testing.T) {
	e := newEnv(t)
	e.must(poster, Post, postArgs("B-1", 100), nil)
	e.must(students[0], Enroll, EnrollArgs{"B-1", []Member{{students[0], 100}}}, nil)
	e.must(students[1], Enroll, EnrollArgs{"B-1", []Member{{students[1], 100}}}, nil)
	sol, salt, c := sealed(0)
	e.must(students[0], Submit, SubmitArgs{"B-1", c}, nil)
	refused(t, e, students[0], Reveal, RevealArgs{"B-1", sol, salt}, ErrWrongState, "reveals open at submit_by")

	e.m.BlockTime = submitBy + 1
	refused(t, e, stranger, Reveal, RevealArgs{"B-1", sol, salt}, ErrNotAllowed, "in no team")
	refused(t, e, students[1], Reveal, RevealArgs{"B-1", sol, salt}, ErrWrongState, "submitted nothing")
	other, _, _ := sealed(1)
	refused(t, e, students[0], Reveal, RevealArgs{"B-1", other, salt}, ErrNoMatch, "committed to "+c)
	refused(t, e, students[0], Reveal, RevealArgs{"B-1", sol, salt + "00"}, ErrNoMatch, "")
	refused(t, e, students[0], Reveal, RevealArgs{"B-1", sol, ""}, ErrBadArgs, "salt")
	e.must(students[0], Reveal, RevealArgs{"B-1", sol, salt}, nil)
	refused(t, e, students[0], Reveal, RevealArgs{"B-1", sol, salt}, ErrWrongState, "already revealed")

	e.m.BlockTime = judgeBy
	refused(t, e, students[0], Reveal, RevealArgs{"B-1", sol, salt}, ErrPastDeadline, "judge_by")
}

func TestJudgeRefusals(t *testing.T) {
	e := newEnv(t)
	e.must(poster, Post, postArgs("B-1", 100), nil)
	e.must(students[0], Enroll, EnrollArgs{"B-1", []Member{{students[0], 100}}}, nil)
	e.must(students[1], Enroll, EnrollArgs{"B-1", []Member{{students[1], 100}}}, nil)
	sol, salt, c := sealed(0)
	e.must(students[0], Submit, SubmitArgs{"B-1", c}, nil)
	e.m.BlockTime = submitBy
	e.must(students[0], Reveal, RevealArgs{"B-1", sol, salt}, nil)

	refused(t, e, poster, Judge, JudgeArgs{"B-1", 0, true}, ErrNotAllowed, "only the judges")
	refused(t, e, judges[0], Judge, JudgeArgs{"B-1", 1, true}, ErrWrongState, "team 1 has not revealed")
	refused(t, e, judges[0], Judge, JudgeArgs{"B-1", 2, true}, ErrBadArgs, "teams 0 to 1")
	refused(t, e, judges[0], Judge, JudgeArgs{"B-1", -1, true}, ErrBadArgs, "team -1")
	e.must(judges[0], Judge, JudgeArgs{"B-1", 0, false}, nil)
	refused(t, e, judges[0], Judge, JudgeArgs{"B-1", 0, true}, ErrAlreadyJudged, "already judged team 0")
	e.must(judges[1], Judge, JudgeArgs{"B-1", 0, true}, nil)

	e.m.BlockTime = judgeBy
	refused(t, e, judges[2], Judge, JudgeArgs{"B-1", 0, true}, ErrPastDeadline, "judge_by")
	e.must(poster, Refund, IDArg{"B-1"}, nil)
	refused(t, e, judges[2], Judge, JudgeArgs{"B-1", 0, true}, ErrWrongState, "refunded")

	// After an award nothing more moves: no second payment, no refund.
	e2 := newEnv(t)
	e2.must(poster, Post, postArgs("B-2", 100), nil)
	e2.must(students[0], Enroll, EnrollArgs{"B-2", []Member{{students[0], 100}}}, nil)
	e2.must(students[0], Submit, SubmitArgs{"B-2", c}, nil)
	e2.m.BlockTime = submitBy
	e2.must(students[0], Reveal, RevealArgs{"B-2", sol, salt}, nil)
	e2.must(judges[0], Judge, JudgeArgs{"B-2", 0, true}, nil)
	e2.must(judges[1], Judge, JudgeArgs{"B-2", 0, true}, nil)
	refused(t, e2, judges[2], Judge, JudgeArgs{"B-2", 0, true}, ErrWrongState, "awarded")
	e2.m.BlockTime = judgeBy
	refused(t, e2, poster, Refund, IDArg{"B-2"}, ErrWrongState, "awarded")
	if e2.m.Balances[students[0]] != 100 || e2.m.Balances[self] != 0 {
		t.Fatalf("balances %v; want the 100 paid once to the team", e2.m.Balances)
	}
}

func TestSplitSumsToTheRewardWithTheRemainderToTheFirst(t *testing.T) {
	for _, c := range []struct {
		reward uint64
		shares []uint64
		want   []uint64
	}{
		{1001, []uint64{50, 30, 20}, []uint64{501, 300, 200}},
		{7, []uint64{33, 33, 34}, []uint64{3, 2, 2}},
		{1, []uint64{99, 1}, []uint64{1, 0}},
		{math.MaxUint64, []uint64{50, 50}, []uint64{math.MaxUint64/2 + 1, math.MaxUint64 / 2}},
		{math.MaxUint64, []uint64{1, 99}, []uint64{184467440737095517, 18262276632972456098}},
	} {
		var ms []Member
		for i, s := range c.shares {
			ms = append(ms, Member{Address: addr(i), Share: s})
		}
		got := Split(c.reward, ms)
		var sum uint64
		for i, p := range got {
			if p.Amount != c.want[i] {
				t.Errorf("Split(%d, %v)[%d] = %d; want %d", c.reward, c.shares, i, p.Amount, c.want[i])
			}
			sum += p.Amount
		}
		if sum != c.reward {
			t.Errorf("Split(%d, %v) sums to %d", c.reward, c.shares, sum)
		}
	}
}

func TestListPagesAndGetPhases(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"B-3", "B-1", "B-2"} {
		e.must(poster, Post, postArgs(id, 10), nil)
	}
	var l ListView
	e.must(stranger, List, ListArgs{State: Open, Limit: 2}, &l)
	if len(l.Bounties) != 2 || l.Bounties[0].ID != "B-1" || l.Bounties[1].ID != "B-2" || !l.More {
		t.Fatalf("list open limit 2: %+v; want B-1, B-2 and more", l)
	}
	e.must(stranger, List, ListArgs{State: Open, After: "B-2"}, &l)
	if len(l.Bounties) != 1 || l.Bounties[0].ID != "B-3" || l.More || l.Bounties[0].Reward != 10 {
		t.Fatalf("list open after B-2: %+v; want B-3 only", l)
	}
	for _, bad := range []ListArgs{{State: "closed"}, {State: Open, Limit: -1}, {State: Open, Limit: 1001}, {State: Open, After: "x y"}} {
		refused(t, e, stranger, List, bad, ErrBadArgs, "")
	}
	refused(t, e, stranger, Get, IDArg{"B-9"}, ErrNoBounty, "B-9")
	for _, c := range []struct {
		at    uint64
		phase string
	}{{t0, "enrolling"}, {submitBy, "judging"}, {judgeBy, "expired"}} {
		e.m.BlockTime = c.at
		if b := e.get("B-1"); b.Phase != c.phase {
			t.Errorf("phase at %d = %q; want %q", c.at, b.Phase, c.phase)
		}
	}
	e.must(stranger, Refund, IDArg{"B-1"}, nil)
	if b := e.get("B-1"); b.Phase != "closed" {
		t.Errorf("phase after the refund = %q; want closed", b.Phase)
	}
}

func TestEnrolmentStopsAtTheMostTeams(t *testing.T) {
	e := newEnv(t)
	e.must(poster, Post, postArgs("B-1", 10), nil)
	for i := range maxTeams {
		a := addr(0x1000 + i)
		e.must(a, Enroll, EnrollArgs{"B-1", []Member{{a, 100}}}, nil)
	}
	a := addr(0x2000)
	refused(t, e, a, Enroll, EnrollArgs{"B-1", []Member{{a, 100}}}, ErrWrongState, "the most teams it takes (100)")
}
