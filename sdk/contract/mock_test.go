//go:build !wasip1

package contract

import (
	"errors"
	"strings"
	"testing"
)

func TestMockSelfBalanceTransferCollect(t *testing.T) {
	m := NewMock()
	m.SelfAddr, m.CallerAddr = "c0", "alice"
	m.Balances = map[string]uint64{"alice": 100}
	deposit := func(ctx Context) (any, error) {
		if err := ctx.Collect(30); err != nil {
			return nil, err
		}
		if err := ctx.Transfer("bob", 10); err != nil {
			return nil, err
		}
		mine, _ := ctx.Balance(ctx.Self())
		return map[string]uint64{"mine": mine}, nil
	}
	if got, err := m.Call(deposit, nil); err != nil || string(got) != `{"mine":20}` {
		t.Fatalf("deposit = %s, %v; want {\"mine\":20}", got, err)
	}
	if m.Balances["alice"] != 70 || m.Balances["c0"] != 20 || m.Balances["bob"] != 10 {
		t.Fatalf("balances = %v; want alice 70, c0 20, bob 10", m.Balances)
	}
	// A failing call undoes its token movements.
	failing := func(ctx Context) (any, error) {
		if err := ctx.Collect(50); err != nil {
			return nil, err
		}
		return nil, errors.New("changed my mind")
	}
	if _, err := m.Call(failing, nil); !errors.Is(err, ErrReverted) {
		t.Fatalf("failing call: %v; want a revert", err)
	}
	if m.Balances["alice"] != 70 || m.Balances["c0"] != 20 {
		t.Fatalf("after a revert balances = %v; want alice 70, c0 20", m.Balances)
	}
	// Overdrafts are refused, and the contract may handle the refusal.
	overdraw := func(ctx Context) (any, error) {
		err := ctx.Transfer("bob", 21)
		return map[string]bool{"refused": errors.Is(err, ErrRefused)}, nil
	}
	if got, err := m.Call(overdraw, nil); err != nil || string(got) != `{"refused":true}` {
		t.Fatalf("overdraw = %s, %v; want a handled refusal", got, err)
	}
}

func TestMockCallOtherContract(t *testing.T) {
	m := NewMock()
	m.SelfAddr, m.CallerAddr = "vault", "alice"
	m.Balances = map[string]uint64{"alice": 100, "vault": 50}
	var sawCaller string
	reg := m.Register("registry", map[string]Method{
		"put": func(ctx Context) (any, error) {
			sawCaller = ctx.Caller()
			var a struct {
				K string `json:"k"`
			}
			if err := Decode(ctx, &a); err != nil {
				return nil, err
			}
			ctx.Put(a.K, []byte("1"))
			if err := ctx.Collect(1); err == nil {
				return nil, errors.New("collect from a contract's call must be refused")
			}
			if err := ctx.Transfer("alice", 5); err != nil { // registry holds nothing
				return map[string]string{"stored": a.K, "paid": "no"}, nil
			}
			return nil, nil
		},
		"boom": func(ctx Context) (any, error) { ctx.Put("x", nil); return nil, errors.New("boom") },
	})
	call := func(ctx Context) (any, error) {
		var out map[string]string
		if err := CallJSON(ctx, "registry", "put", map[string]string{"k": "a"}, &out); err != nil {
			return nil, err
		}
		if _, err := ctx.Call("registry", "boom", nil); !errors.Is(err, ErrCallFailed) || !strings.Contains(err.Error(), "boom") {
			return nil, errors.New("want the callee's failure, got " + err.Error())
		}
		if _, err := ctx.Call("nobody", "x", nil); !errors.Is(err, ErrCallFailed) {
			return nil, errors.New("a missing contract must fail the call")
		}
		return out, nil
	}
	if got, err := m.Call(call, nil); err != nil || string(got) != `{"paid":"no","stored":"a"}` {
		t.Fatalf("call = %s, %v", got, err)
	}
	if sawCaller != "vault" || string(reg.State["a"]) != "1" || reg.State["x"] != nil {
		t.Fatalf("callee saw caller %q, state %v; want vault and a=1 only", sawCaller, reg.State)
	}
	// The caller's failure undoes what the callee kept.
	undo := func(ctx Context) (any, error) {
		if err := CallJSON(ctx, "registry", "put", map[string]string{"k": "b"}, nil); err != nil {
			return nil, err
		}
		return nil, errors.New("abort")
	}
	if _, err := m.Call(undo, nil); !errors.Is(err, ErrReverted) {
		t.Fatalf("undo: %v; want a revert", err)
	}
	if _, ok := reg.State["b"]; ok {
		t.Fatal("the callee's write survived the caller's revert")
	}
	// A call back into a running contract is refused.
	reg.Contracts = map[string]*Mock{"vault": m}
	reg.Methods["back"] = func(ctx Context) (any, error) { return ctx.Call("vault", "any", nil) }
	m.Methods = map[string]Method{"any": func(Context) (any, error) { return nil, nil }}
	back := func(ctx Context) (any, error) { return ctx.Call("registry", "back", nil) }
	if _, err := m.Call(back, nil); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("re-entrant call: %v; want a refusal", err)
	}
}

func TestMockPolicySatisfied(t *testing.T) {
	m := NewMock()
	m.Orgs = []string{"org3", "org1", "org2"}
	m.Policies = map[string]string{"land.allocate": "SET(2 of org1,org2,org3; admin)", "bad": "SOME"}
	check := func(policy string, as ...Approval) (bool, error) {
		var ok bool
		var err error
		_, cerr := m.Call(func(ctx Context) (any, error) {
			ok, err = ctx.PolicySatisfied(policy, as)
			return nil, nil
		}, nil)
		if cerr != nil {
			t.Fatal(cerr)
		}
		return ok, err
	}
	cases := []struct {
		policy string
		as     []Approval
		want   bool
	}{
		{"land.allocate", []Approval{{"org1", "admin"}, {"org2", "admin"}}, true},
		{"land.allocate", []Approval{{"org1", "admin"}, {"org1", "admin"}}, false},  // one organisation, twice
		{"land.allocate", []Approval{{"org1", "admin"}, {"org2", "client"}}, false}, // client does not count
		{"land.allocate", []Approval{{"org1", "admin"}, {"org9", "admin"}}, false},  // not a member
		{"other", []Approval{{"org1", "admin"}, {"org2", "admin"}}, true},           // MAJORITY(admin) of 3
		{"other", []Approval{{"org1", "admin"}}, false},
	}
	for _, c := range cases {
		if got, err := check(c.policy, c.as...); err != nil || got != c.want {
			t.Errorf("%s %v = %v, %v; want %v", c.policy, c.as, got, err, c.want)
		}
	}
	if _, err := check("bad"); !errors.Is(err, ErrRefused) {
		t.Errorf("a malformed policy: %v; want ErrRefused", err)
	}
}
