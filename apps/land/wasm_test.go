package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/accord-chain/accord/apps/internal/apptest"
	"github.com/accord-chain/accord/sdk/contract"
	"github.com/accord-chain/accord/vm/wasm"
)

const pkg = "github.com/accord-chain/accord/apps/land"

func newStore() *apptest.Store {
	s := apptest.NewStore(fmt.Sprintf("%040x", 0x1a4d))
	s.Orgs = []string{"org1", "org2", "org3", "org4"}
	s.Policies = map[string]string{PolicyPlan: "SET(1 of org1; admin)", PolicyAudit: "SET(1 of org3; admin)"}
	s.Time = t0
	return s
}

func as(p party) apptest.Party { return apptest.Party{Addr: p.addr, Org: p.org, Role: p.role} }

// TestOnTheVM runs a parcel's life on the wasm runtime: the module built
// with the installed Go, installed and instrumented as on the chain.
func TestOnTheVM(t *testing.T) {
	c := apptest.Install(t, pkg)
	s := newStore()
	call := func(p party, method string, args any) Outcome {
		t.Helper()
		ret, res, err := s.Call(c, as(p), method, args)
		t.Logf("%s: %d gas", method, res.GasUsed)
		if err != nil {
			t.Fatalf("%s by %+v: %v", method, p, err)
		}
		var o Outcome
		if err := json.Unmarshal(ret, &o); err != nil {
			t.Fatalf("%s returned %q: %v", method, ret, err)
		}
		return o
	}
	call(planner, "plan", planArgs("P-1"))
	call(planner, "allocate", allocArgs("P-1"))
	_, _, err := s.Call(c, as(admin("org1", 9)), "allocate", allocArgs("P-1"))
	var rev *wasm.RevertError
	if !errors.As(err, &rev) || !strings.HasPrefix(rev.Message, "already approved by this organisation: org1") {
		t.Fatalf("a second approval by org1 on the VM: %v; want a revert naming the rule", err)
	}
	call(office2, "allocate", allocArgs("P-1"))
	if o := call(office3, "allocate", allocArgs("P-1")); o.State != Allocated {
		t.Fatalf("third approval on the VM: %+v; want allocated", o)
	}
	call(holder, "report_built", BuiltArgs{"P-1", docA})
	call(holder, "start_production", ParcelArg{"P-1"})
	s.Time = t0 + 365*dayMs
	if o := call(auditor, "audit", AuditArgs{Parcel: "P-1", Year: 2026, Figures: Figures{500, 900, 30}}); o.State != InBreach {
		t.Fatalf("audit below the terms on the VM: %+v; want in_breach", o)
	}

	ret, _, err := s.Call(c, as(stranger), "get", ParcelArg{"P-1"})
	var v View
	if err != nil || json.Unmarshal(ret, &v) != nil || v.State != InBreach || v.Holder != holder.addr || v.LastAudit.Year != 2026 {
		t.Fatalf("get on the VM: %s, %v; want in_breach, the holder and the 2026 audit", ret, err)
	}
	ret, _, err = s.Call(c, as(stranger), "history", ParcelArg{"P-1"})
	var h struct{ Entries []Entry }
	if err != nil || json.Unmarshal(ret, &h) != nil || len(h.Entries) != 7 || h.Entries[3].Org != "org3" || h.Entries[3].To != Allocated {
		t.Fatalf("history on the VM: %s, %v; want 7 entries, the fourth org3's allocation", ret, err)
	}
	ret, _, err = s.Call(c, as(stranger), "list", ListArgs{State: InBreach})
	if err != nil || !strings.Contains(string(ret), `"parcel":"P-1"`) {
		t.Fatalf("list in_breach on the VM: %s, %v; want P-1", ret, err)
	}
	if len(s.Events) != 7 || s.Events[0].Topic != "land.plan" {
		t.Fatalf("%d events on the VM; want 7, the first land.plan", len(s.Events))
	}
}

// registry fills a store with n planned parcels, run natively through the
// contract's own methods, and gives one parcel in the middle a long life:
// allocation by three organisations, building, production and audits.
func registry(tb testing.TB, n int) (*apptest.Store, string) {
	s := newStore()
	for i := range n {
		if _, err := s.RunNative(Plan, as(planner), planArgs(fmt.Sprintf("P-%06d", i))); err != nil {
			tb.Fatal(err)
		}
	}
	id := fmt.Sprintf("P-%06d", n/2)
	steps := []struct {
		p    party
		fn   contract.Method
		args any
	}{
		{planner, Allocate, allocArgs(id)}, {office2, Allocate, allocArgs(id)}, {office3, Allocate, allocArgs(id)},
		{holder, ReportBuilt, BuiltArgs{id, docA}}, {holder, StartProduction, ParcelArg{id}},
	}
	for _, st := range steps {
		if _, err := s.RunNative(st.fn, as(st.p), st.args); err != nil {
			tb.Fatal(err)
		}
	}
	for year := 2026; year < 2036; year++ {
		s.Time = t0 + uint64(year-2025)*366*dayMs
		if _, err := s.RunNative(Audit, as(auditor), AuditArgs{Parcel: id, Year: year, Figures: Figures{500, 1000, 30}}); err != nil {
			tb.Fatal(err)
		}
	}
	return s, id
}

// BenchmarkQueries measures get and history of one parcel, with 16 history
// entries, in a registry of 100,000 parcels, on the wasm runtime (compiler
// engine) with an in-memory host.
func BenchmarkQueries(b *testing.B) {
	c := apptest.Install(b, pkg)
	s, id := registry(b, 100_000)
	b.Logf("registry: %d keys", s.Len())
	for _, q := range []string{"get", "history"} {
		b.Run(q, func(b *testing.B) {
			var gas uint64
			for b.Loop() {
				_, res, err := s.Call(c, as(stranger), q, ParcelArg{id})
				if err != nil {
					b.Fatal(err)
				}
				gas = res.GasUsed
			}
			b.ReportMetric(float64(gas), "gas/op")
		})
	}
}
