package main

import (
	"errors"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
)

// FuzzCalls sends arbitrary argument bytes to every method, at arbitrary
// times, on an open bounty with a revealed team: nothing panics, every
// refusal wraps one of the rules, and the escrow stays the open rewards.
func FuzzCalls(f *testing.F) {
	methods := []contract.Method{Post, Enroll, Submit, Reveal, Judge, Refund, Get, List}
	for i := range methods {
		f.Add(uint8(i), uint32(0), []byte(`{"id":"B-1","team":0,"accept":true}`))
	}
	f.Add(uint8(1), uint32(0), []byte(`{"id":"B-1","team":[{"address":"`+students[2]+`","share":100}]}`))
	f.Add(uint8(0), uint32(0), []byte(`{"id":"B-2","title":"t","spec_hash":"`+spec+`","reward":1,"submit_by":1800000000001,"judge_by":1800000000002,"judges":["`+judges[0]+`"],"quorum":1}`))
	rules := []error{ErrWrongState, ErrNotAllowed, ErrPastDeadline, ErrAlreadyJudged, ErrNoMatch, ErrNoBounty, ErrBadArgs,
		contract.ErrBadArgs, contract.ErrRefused}
	f.Fuzz(func(t *testing.T, method uint8, hours uint32, args []byte) {
		e := newEnv(t)
		e.must(poster, Post, postArgs("B-1", 100), nil)
		e.must(students[0], Enroll, EnrollArgs{"B-1", []Member{{students[0], 100}}}, nil)
		sol, salt, c := sealed(0)
		e.must(students[0], Submit, SubmitArgs{"B-1", c}, nil)
		e.m.BlockTime = submitBy
		e.must(students[0], Reveal, RevealArgs{"B-1", sol, salt}, nil)
		e.m.BlockTime += uint64(hours) * hour
		for _, who := range []string{poster, judges[0], students[0], students[1]} {
			_, err := e.call(who, methods[int(method)%len(methods)], args)
			if err != nil {
				named := false
				for _, r := range rules {
					named = named || errors.Is(err, r)
				}
				if !named {
					t.Fatalf("refusal names no rule: %v", err)
				}
			}
			var open uint64
			var l ListView
			e.must(stranger, List, ListArgs{State: Open, Limit: 1000}, &l)
			for _, b := range l.Bounties {
				open += b.Reward
			}
			if e.m.Balances[self] != open {
				t.Fatalf("escrow %d; open rewards %d", e.m.Balances[self], open)
			}
		}
	})
}
