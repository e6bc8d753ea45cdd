package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/accord-chain/accord/sdk/contract"
)

// party is who calls: an account of an organisation with a role.
type party struct{ addr, org, role string }

func admin(org string, n int) party {
	return party{addr: fmt.Sprintf("%040x", 0xa0000+n), org: org, role: "admin"}
}

var (
	planner  = admin("org1", 1) // land.plan allows org1 alone
	office2  = admin("org2", 2)
	office3  = admin("org3", 3)
	office4  = admin("org4", 4)
	auditor  = admin("org3", 33) // land.audit allows org3 alone
	client1  = party{addr: fmt.Sprintf("%040x", 0xc1), org: "org1", role: "client"}
	holder   = party{addr: fmt.Sprintf("%040x", 0xb0b), org: "org4", role: "client"}
	stranger = party{addr: fmt.Sprintf("%040x", 0x5), role: "client"}
)

// env is a land contract on a mock host, with four organisations.
type env struct {
	t testing.TB
	m *contract.Mock
}

var t0 = uint64(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixMilli())

func newEnv(t testing.TB) *env {
	m := contract.NewMock()
	m.BlockTime = t0
	m.Orgs = []string{"org1", "org2", "org3", "org4"}
	m.Policies = map[string]string{
		PolicyPlan:  "SET(1 of org1; admin)",
		PolicyAudit: "SET(1 of org3; admin)",
	}
	return &env{t: t, m: m}
}

// at sets the block time to a date and hour (UTC).
func (e *env) at(date string, hour int) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		e.t.Fatal(err)
	}
	e.m.BlockTime = uint64(d.Add(time.Duration(hour) * time.Hour).UnixMilli())
}

func (e *env) call(p party, fn contract.Method, args any) (json.RawMessage, error) {
	e.m.CallerAddr, e.m.Org, e.m.Role = p.addr, p.org, p.role
	e.m.BlockHeight++
	e.m.Tx = []byte(fmt.Sprintf("tx%d", e.m.BlockHeight))
	return e.m.Call(fn, args)
}

// must calls and fails the test on an error, decoding the result into out.
func (e *env) must(p party, fn contract.Method, args any, out any) {
	e.t.Helper()
	b, err := e.call(p, fn, args)
	if err != nil {
		e.t.Fatalf("call with %v by %+v: %v", args, p, err)
	}
	if out != nil {
		reflect.ValueOf(out).Elem().SetZero() // omitted fields must not keep old values
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) get(id string) View {
	e.t.Helper()
	var v View
	e.must(stranger, Get, ParcelArg{id}, &v)
	return v
}

func (e *env) history(id string) []Entry {
	e.t.Helper()
	var h struct{ Entries []Entry }
	e.must(stranger, History, ParcelArg{id}, &h)
	return h.Entries
}

const docA = "aa00000000000000000000000000000000000000000000000000000000000001"

func planArgs(id string) PlanArgs {
	return PlanArgs{Parcel: id, District: "Songshan Lake", AreaMu: 120, Use: "battery cells", DocHash: docA}
}

var terms = Terms{InvestPerMu: 500, OutputPerMu: 1000, TaxPerMu: 30, BuildBy: "2027-06-30", ProduceBy: "2027-12-31"}

func allocArgs(id string) AllocateArgs {
	return AllocateArgs{Parcel: id, Holder: holder.addr, Terms: terms}
}

// allocated plans and allocates id to holder with three approvals.
func (e *env) allocated(id string) {
	e.t.Helper()
	e.must(planner, Plan, planArgs(id), nil)
	for _, p := range []party{planner, office2, office3} {
		e.must(p, Allocate, allocArgs(id), nil)
	}
	if s := e.get(id).State; s != Allocated {
		e.t.Fatalf("%s after three approvals is %s; want allocated", id, s)
	}
}
