package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
	"pgregory.net/rapid"
)

// TestStateMachineInvariants runs random calls by random parties at random
// times and checks after each one: a refused call changes nothing; a
// parcel moves only along Transitions and only when the party that may
// move it called; allocate and reclaim take effect exactly when admins of
// three distinct organisations (a majority of four) have approved the
// same arguments, an organisation counting once and approvals of other
// arguments not at all; and get's pending approvals are those approvals.
func TestStateMachineInvariants(t *testing.T) {
	org1b := admin("org1", 11) // a second admin of org1
	holder2 := party{addr: fmt.Sprintf("%040x", 0xb0c), org: "org2", role: "client"}
	parties := []party{planner, org1b, office2, office3, office4, client1, holder, holder2}
	holders := []party{holder, holder2}
	termSets := []Terms{terms, {InvestPerMu: 100, OutputPerMu: 200, TaxPerMu: 10, BuildBy: "2026-09-30", ProduceBy: "2027-03-31"}}
	reasons := []string{"idle", "output below terms"}
	reached := map[string]int{}

	rapid.Check(t, func(rt *rapid.T) {
		e := newEnv(t)
		// approvals[parcel][action/proposal] is the set of organisations
		// that approved it, as the test counts them.
		approvals := map[string]map[string][]string{}
		steps := rapid.IntRange(40, 150).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			id := rapid.SampledFrom([]string{"P-0", "P-1"}).Draw(rt, "parcel")
			who := rapid.SampledFrom(parties).Draw(rt, "who")
			var fn contract.Method
			var args any
			var action, proposal string
			op := rapid.IntRange(0, 12).Draw(rt, "op")
			if op > 6 {
				// The next sensible step for the parcel, so runs reach every state.
				admins := []party{planner, office2, office3, office4}
				next := func(prop string) party {
					for _, a := range admins {
						if !slices.Contains(approvals[id][prop], a.org) {
							return a
						}
					}
					return planner
				}
				p, ok := parcels(e.m)[id]
				switch {
				case !ok:
					op, who = 0, planner
				case p.State == Planned:
					fn, action, proposal = Allocate, ActAllocate, fmt.Sprintf("%s %d %d", ActAllocate, 0, 0)
					args, who = AllocateArgs{Parcel: id, Holder: holders[0].addr, Terms: termSets[0]}, next(proposal)
				case p.State == Allocated:
					fn, args, action, who = ReportBuilt, BuiltArgs{id, docA}, ActBuilt, holder
				case p.State == Built:
					fn, args, action, who = StartProduction, ParcelArg{id}, ActProduce, holder
				case p.State == InBreach && rapid.Bool().Draw(rt, "reclaim"):
					fn, action, proposal = Reclaim, ActReclaim, fmt.Sprintf("%s %d", ActReclaim, 0)
					args, who = ReclaimArgs{id, reasons[0]}, next(proposal)
				case p.State == Producing || p.State == Compliant || p.State == InBreach:
					year := yearOf(e.m.BlockTime) - 1
					if p.LastAudit != nil && p.LastAudit.Year >= year {
						e.m.BlockTime += 365 * dayMs
						continue
					}
					fn, action, who = Audit, ActAudit, auditor
					args = AuditArgs{Parcel: id, Year: year, Figures: Figures{500, 1000, rapid.Uint64Range(29, 31).Draw(rt, "tax")}}
				default:
					continue
				}
			}
			switch op {
			case 0:
				fn, args, action = Plan, planArgs(id), ActPlan
			case 1:
				h, ts := rapid.IntRange(0, 1).Draw(rt, "holder"), rapid.IntRange(0, 1).Draw(rt, "terms")
				fn, args, action = Allocate, AllocateArgs{Parcel: id, Holder: holders[h].addr, Terms: termSets[ts]}, ActAllocate
				proposal = fmt.Sprintf("%s %d %d", ActAllocate, h, ts)
			case 2:
				who = rapid.SampledFrom(append(holders, planner)).Draw(rt, "reporter")
				fn, args, action = ReportBuilt, BuiltArgs{id, docA}, ActBuilt
			case 3:
				who = rapid.SampledFrom(append(holders, planner)).Draw(rt, "producer")
				fn, args, action = StartProduction, ParcelArg{id}, ActProduce
			case 4:
				who = rapid.SampledFrom([]party{auditor, office2}).Draw(rt, "auditor")
				fn, action = Audit, ActAudit
				args = AuditArgs{Parcel: id, Year: rapid.IntRange(2025, 2028).Draw(rt, "year"), Figures: Figures{
					rapid.Uint64Range(90, 600).Draw(rt, "invest"), rapid.Uint64Range(190, 1100).Draw(rt, "output"),
					rapid.Uint64Range(9, 31).Draw(rt, "tax")}}
			case 5:
				r := rapid.IntRange(0, 1).Draw(rt, "reason")
				fn, args, action = Reclaim, ReclaimArgs{id, reasons[r]}, ActReclaim
				proposal = fmt.Sprintf("%s %d", ActReclaim, r)
			case 6:
				e.m.BlockTime += rapid.Uint64Range(0, 200).Draw(rt, "days") * dayMs
				continue
			}

			before, snap := parcels(e.m), snapshot(e.m)
			_, err := e.call(who, fn, args)
			after := parcels(e.m)
			if err != nil {
				if snapshot(e.m) != snap {
					rt.Fatalf("refused %s by %+v (%v) changed state", action, who, err)
				}
				approved := slices.Contains(approvals[id][proposal], who.org)
				if errors.Is(err, ErrAlreadyApproved) && !approved {
					rt.Fatalf("%s by %+v: %v; the test's count says org approved=%v", action, who, err, approved)
				}
				continue
			}
			for other := range after {
				if other != id && after[other].State != before[other].State {
					rt.Fatalf("%s of %s moved %s too", action, id, other)
				}
			}
			from, to := before[id].State, after[id].State
			moved := from != to
			if moved && (!slices.Contains(Transitions[action].From, from) || !slices.Contains(Transitions[action].To, to)) {
				rt.Fatalf("%s moved %s from %q to %q, not along the state machine", action, id, from, to)
			}
			switch action {
			case ActPlan:
				if who.role != adminRole || who.org != "org1" {
					rt.Fatalf("plan by %+v succeeded; land.plan allows org1's admins only", who)
				}
			case ActAudit:
				if who != auditor {
					rt.Fatalf("audit by %+v succeeded; land.audit allows org3 only", who)
				}
			case ActBuilt, ActProduce:
				if who.addr != before[id].Holder {
					rt.Fatalf("%s by %+v succeeded; only the holder %s may", action, who, before[id].Holder)
				}
			case ActAllocate, ActReclaim:
				if who.role != adminRole {
					rt.Fatalf("%s by %+v succeeded; only admins approve", action, who)
				}
				if slices.Contains(approvals[id][proposal], who.org) {
					rt.Fatalf("%s by %+v succeeded; %s had already approved these arguments", action, who, who.org)
				}
				if approvals[id] == nil {
					approvals[id] = map[string][]string{}
				}
				orgs := append(approvals[id][proposal], who.org)
				approvals[id][proposal] = orgs
				if moved != (len(orgs) >= 3) {
					rt.Fatalf("%s of %s approved by %v: moved=%v; want moved exactly at three distinct organisations", action, id, orgs, moved)
				}
				if moved && action == ActAllocate {
					a := args.(AllocateArgs)
					if after[id].Holder != a.Holder || *after[id].Terms != a.Terms {
						rt.Fatalf("allocated to %s on %+v; the approvals were for %s on %+v", after[id].Holder, after[id].Terms, a.Holder, a.Terms)
					}
				}
			}
			if moved {
				delete(approvals, id)
				reached[to]++
			}
			var v View
			e.must(stranger, Get, ParcelArg{id}, &v)
			var got []string
			for _, p := range v.Pending {
				for _, a := range p.Approvals {
					got = append(got, p.Action+"/"+a.Org)
				}
			}
			var want []string
			for prop, orgs := range approvals[id] {
				for _, o := range orgs {
					want = append(want, strings.Fields(prop)[0]+"/"+o)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				rt.Fatalf("pending approvals of %s: %v; want %v", id, got, want)
			}
		}
	})
	// -short runs a fifth of the cases, too few to be sure of reaching them.
	for _, s := range []string{Allocated, Built, Producing, Compliant, InBreach, Reclaimed} {
		if reached[s] == 0 && !testing.Short() {
			t.Fatalf("runs reached %v; the generator must reach every state", reached)
		}
	}
	t.Logf("transitions into each state: %v", reached)
}

// parcels decodes every parcel record in the mock's state.
func parcels(m *contract.Mock) map[string]Parcel {
	out := map[string]Parcel{}
	for k, v := range m.State {
		if strings.HasPrefix(k, contract.Key(prefParcel)) {
			var p Parcel
			if err := json.Unmarshal(v, &p); err != nil {
				panic(err)
			}
			out[p.Parcel] = p
		}
	}
	return out
}
