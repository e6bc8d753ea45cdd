package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
	"pgregory.net/rapid"
)

// TestEscrowInvariants runs random calls by random parties at random times
// and checks after each one that the contract's balance is the sum of the
// rewards of open bounties, that every account holds exactly what it
// started with less what it escrowed plus what it was paid (so nothing is
// paid twice and nothing vanishes), that a closed bounty's payouts sum to
// its reward and never change, and that a refused call changes nothing.
func TestEscrowInvariants(t *testing.T) {
	reached := map[string]int{} // closing states the runs reached
	rapid.Check(t, func(rt *rapid.T) {
		e := newEnv(t)
		initial := map[string]uint64{poster: funds, stranger: funds}
		ids := []string{"B-0", "B-1"}
		posters := []string{poster, stranger}
		everyone := slices.Concat(posters, judges, students)
		closed := map[string]string{} // id → payouts when it closed
		steps := rapid.IntRange(40, 120).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			id := rapid.SampledFrom(ids).Draw(rt, "id")
			var fn contract.Method
			var args any
			var who string
			op := rapid.IntRange(0, 12).Draw(rt, "op")
			if op > 6 {
				var skip bool
				who, fn, args, skip = progress(rt, e, id)
				if skip {
					continue
				}
			}
			switch op {
			case 0:
				who = rapid.SampledFrom(posters).Draw(rt, "poster")
				n := rapid.IntRange(1, 3).Draw(rt, "judges")
				submit := e.m.BlockTime + rapid.Uint64Range(0, 10*24*hour).Draw(rt, "submit")
				fn, args = Post, PostArgs{ID: id, Title: "t", SpecHash: spec,
					Reward:   rapid.Uint64Range(1, funds/2).Draw(rt, "reward"),
					SubmitBy: submit, JudgeBy: submit + rapid.Uint64Range(1, 10*24*hour).Draw(rt, "judge"),
					Judges: judges[:n], Quorum: rapid.IntRange(1, n).Draw(rt, "quorum")}
			case 1:
				k := rapid.IntRange(1, 3).Draw(rt, "members")
				perm := rapid.Permutation(students).Draw(rt, "team")
				team := make([]Member, k)
				left := uint64(100)
				for j := range team {
					share := left
					if j < k-1 {
						share = rapid.Uint64Range(1, left-uint64(k-1-j)).Draw(rt, "share")
					}
					team[j] = Member{perm[j], share}
					left -= share
				}
				who = rapid.SampledFrom(append(perm[:k:k], stranger)).Draw(rt, "enroller")
				fn, args = Enroll, EnrollArgs{id, team}
			case 2:
				_, _, c := sealed(rapid.IntRange(0, 1).Draw(rt, "solution"))
				who = rapid.SampledFrom(members(e, id)).Draw(rt, "submitter")
				fn, args = Submit, SubmitArgs{id, c}
			case 3:
				sol, salt, _ := sealed(rapid.IntRange(0, 1).Draw(rt, "solution"))
				who = rapid.SampledFrom(members(e, id)).Draw(rt, "revealer")
				fn, args = Reveal, RevealArgs{id, sol, salt}
			case 4:
				who = rapid.SampledFrom(append(slices.Clone(judges), poster)).Draw(rt, "judge")
				fn, args = Judge, JudgeArgs{id, rapid.IntRange(0, 2).Draw(rt, "team"), rapid.Bool().Draw(rt, "accept")}
			case 5:
				who = rapid.SampledFrom(everyone).Draw(rt, "refunder")
				fn, args = Refund, IDArg{id}
			case 6:
				e.m.BlockTime += rapid.Uint64Range(0, 3*24*hour).Draw(rt, "advance")
				continue
			}
			before := snapshot(e.m)
			_, err := e.call(who, fn, args)
			if err != nil && snapshot(e.m) != before {
				rt.Fatalf("refused call %+v by %s (%v) changed state or balances", args, who, err)
			}
			checkEscrow(rt, e, initial, closed)
		}
		for _, id := range ids {
			if b, ok := e.m.State[bountyKey(id)]; ok {
				var r Bounty
				_ = json.Unmarshal(b, &r)
				reached[r.State]++
			}
		}
	})
	// -short runs a fifth of the cases, too few to be sure of reaching them.
	if (reached[Awarded] == 0 || reached[Refunded] == 0) && !testing.Short() {
		t.Fatalf("bounties reached %v; the generator must reach awards and refunds", reached)
	}
	t.Logf("bounties at the end of the runs: %v", reached)
}

// progress makes the next sensible call for bounty id (or moves the clock
// to where one is possible), so that runs reach awards and refunds.
func progress(rt *rapid.T, e *env, id string) (string, contract.Method, any, bool) {
	raw, ok := e.m.State[bountyKey(id)]
	if !ok {
		return poster, Post, PostArgs{ID: id, Title: "t", SpecHash: spec, Reward: rapid.Uint64Range(1, 1000).Draw(rt, "reward"),
			SubmitBy: e.m.BlockTime + 3*24*hour, JudgeBy: e.m.BlockTime + 6*24*hour, Judges: judges, Quorum: 2}, false
	}
	var b Bounty
	_ = json.Unmarshal(raw, &b)
	now := e.m.BlockTime
	switch {
	case b.State != Open:
		return "", nil, nil, true
	case now < b.SubmitBy:
		for n, t := range b.Teams {
			if t.Commitment == "" {
				_, _, c := sealed(n)
				return t.Members[0].Address, Submit, SubmitArgs{id, c}, false
			}
		}
		if len(b.Teams) < 2 {
			var free []string
			for _, s := range students {
				if b.teamOf(s) < 0 {
					free = append(free, s)
				}
			}
			if len(free) > 0 {
				return free[0], Enroll, EnrollArgs{id, []Member{{free[0], 100}}}, false
			}
		}
		e.m.BlockTime = b.SubmitBy
	case now < b.JudgeBy:
		for n, t := range b.Teams {
			if t.Commitment != "" && t.SolutionHash == "" {
				sol, salt, _ := sealed(n)
				return t.Members[0].Address, Reveal, RevealArgs{id, sol, salt}, false
			}
		}
		for n, t := range b.Teams {
			if t.SolutionHash == "" {
				continue
			}
			for _, j := range b.Judges {
				if !slices.ContainsFunc(t.Votes, func(v Vote) bool { return v.Judge == j }) {
					return j, Judge, JudgeArgs{id, n, rapid.IntRange(0, 3).Draw(rt, "verdict") > 0}, false
				}
			}
		}
		e.m.BlockTime = b.JudgeBy
	default:
		return stranger, Refund, IDArg{id}, false
	}
	return "", nil, nil, true
}

// members are the enrolled members of bounty id, and one student who may
// be in no team: most calls then come from someone who may make them.
func members(e *env, id string) []string {
	var out []string
	if b, ok := e.m.State[bountyKey(id)]; ok {
		var r Bounty
		_ = json.Unmarshal(b, &r)
		for _, t := range r.Teams {
			for _, m := range t.Members {
				out = append(out, m.Address)
			}
		}
	}
	return append(out, students[4])
}

func checkEscrow(rt *rapid.T, e *env, initial map[string]uint64, closed map[string]string) {
	want := map[string]uint64{}
	for a, v := range initial {
		want[a] = v
	}
	var open, supply uint64
	for k, v := range e.m.State {
		if !strings.HasPrefix(k, contract.Key(prefBounty)) {
			continue
		}
		var b Bounty
		if err := json.Unmarshal(v, &b); err != nil {
			rt.Fatal(err)
		}
		want[b.Poster] -= b.Reward
		if b.State == Open {
			open += b.Reward
			continue
		}
		var paid uint64
		for _, p := range b.Payouts {
			want[p.Address] += p.Amount
			paid += p.Amount
		}
		if paid != b.Reward {
			rt.Fatalf("bounty %s %s paid %d of a reward of %d", b.ID, b.State, paid, b.Reward)
		}
		pay, _ := json.Marshal(b.Payouts)
		if was, ok := closed[b.ID]; ok && was != string(pay) {
			rt.Fatalf("bounty %s paid again: %s after %s", b.ID, pay, was)
		}
		closed[b.ID] = string(pay)
	}
	if got := e.m.Balances[self]; got != open {
		rt.Fatalf("escrow holds %d; the open bounties' rewards sum to %d", got, open)
	}
	for a, v := range e.m.Balances {
		supply += v
		if a != self && v != want[a] {
			rt.Fatalf("%s holds %d; want %d (start, less rewards posted, plus payouts)", a, v, want[a])
		}
	}
	if supply != 2*funds {
		rt.Fatalf("token supply %d; want %d", supply, 2*funds)
	}
}
