package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/accord-chain/accord/apps/internal/apptest"
	"github.com/accord-chain/accord/vm/wasm"
)

// TestOnTheVM runs two bounties on the wasm runtime, one awarded and one
// refunded, checking after every call that the contract's balance is the
// sum of the rewards of open bounties.
func TestOnTheVM(t *testing.T) {
	c := apptest.Install(t, "github.com/accord-chain/accord/apps/bounty")
	s := apptest.NewStore(self)
	s.Time = t0
	s.Balances[poster] = funds
	who := func(a string) apptest.Party { return apptest.Party{Addr: a} }
	escrow := func() {
		t.Helper()
		ret, _, err := s.Call(c, who(stranger), "list", ListArgs{State: Open})
		var l ListView
		if err != nil || json.Unmarshal(ret, &l) != nil {
			t.Fatalf("list open: %s, %v", ret, err)
		}
		var sum uint64
		for _, b := range l.Bounties {
			sum += b.Reward
		}
		if s.Balances[self] != sum {
			t.Fatalf("escrow holds %d; the open bounties' rewards sum to %d", s.Balances[self], sum)
		}
	}
	call := func(a, method string, args any) Outcome {
		t.Helper()
		ret, res, err := s.Call(c, who(a), method, args)
		t.Logf("%s: %d gas", method, res.GasUsed)
		if err != nil {
			t.Fatalf("%s by %s: %v", method, a, err)
		}
		var o Outcome
		if err := json.Unmarshal(ret, &o); err != nil {
			t.Fatalf("%s returned %q: %v", method, ret, err)
		}
		escrow()
		return o
	}

	call(poster, "post", postArgs("B-1", 1000))
	call(poster, "post", postArgs("B-2", 300))
	if s.Balances[poster] != funds-1300 {
		t.Fatalf("poster holds %d after posting 1300 of rewards", s.Balances[poster])
	}
	_, _, err := s.Call(c, who(stranger), "post", postArgs("B-3", 1))
	var rev *wasm.RevertError
	if !errors.As(err, &rev) || !strings.Contains(rev.Message, "escrowing the reward of 1") {
		t.Fatalf("post by an account with no tokens: %v; want a revert from the escrow", err)
	}
	call(students[0], "enroll", EnrollArgs{"B-1", []Member{{students[0], 70}, {students[1], 30}}})
	sol, salt, commitment := sealed(0)
	call(students[1], "submit", SubmitArgs{"B-1", commitment})
	s.Time = submitBy
	if _, _, err := s.Call(c, who(students[0]), "reveal", RevealArgs{"B-1", sol, salt + "ff"}); !errors.As(err, &rev) ||
		!strings.HasPrefix(rev.Message, "reveal does not match the commitment") {
		t.Fatalf("a reveal that does not match on the VM: %v; want refused", err)
	}
	call(students[0], "reveal", RevealArgs{"B-1", sol, salt})
	call(judges[0], "judge", JudgeArgs{"B-1", 0, true})
	if o := call(judges[2], "judge", JudgeArgs{"B-1", 0, true}); o.State != Awarded {
		t.Fatalf("quorum on the VM: %+v; want awarded", o)
	}
	if s.Balances[students[0]] != 700 || s.Balances[students[1]] != 300 {
		t.Fatalf("payouts on the VM: %v; want 700 and 300", s.Balances)
	}
	s.Time = judgeBy
	call(stranger, "refund", IDArg{"B-2"})
	if s.Balances[poster] != funds-1000 || s.Balances[self] != 0 {
		t.Fatalf("after the refund on the VM: %v; want the poster 300 back and no escrow", s.Balances)
	}
	ret, _, err := s.Call(c, who(stranger), "get", IDArg{"B-1"})
	if err != nil || !strings.Contains(string(ret), `"state":"awarded"`) || !strings.Contains(string(ret), `"winner":0`) {
		t.Fatalf("get on the VM: %s, %v; want awarded to team 0", ret, err)
	}
}
