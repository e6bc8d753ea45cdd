package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
)

func TestParcelLifeFromPlanToReclaim(t *testing.T) {
	e := newEnv(t)
	var out Outcome
	e.must(planner, Plan, planArgs("P-001"), &out)
	if out.State != Planned {
		t.Fatalf("plan: state %s; want planned", out.State)
	}
	// Two approvals of four organisations do not satisfy MAJORITY(admin).
	for i, p := range []party{planner, office2} {
		e.must(p, Allocate, allocArgs("P-001"), &out)
		if !out.Pending || out.State != Planned || len(out.Approvals) != i+1 {
			t.Fatalf("approval %d: %+v; want pending with %d approvals", i+1, out, i+1)
		}
	}
	v := e.get("P-001")
	if len(v.Pending) != 1 || len(v.Pending[0].Approvals) != 2 || v.Pending[0].Action != ActAllocate ||
		v.Pending[0].Approvals[1].Org != "org2" || v.Holder != "" {
		t.Fatalf("get after two approvals: %+v; want one pending allocate approved by org1, org2", v)
	}
	e.must(office3, Allocate, allocArgs("P-001"), &out)
	if out.Pending || out.State != Allocated || strings.Join(out.Approvals, ",") != "org1,org2,org3" {
		t.Fatalf("third approval: %+v; want allocated by org1,org2,org3", out)
	}
	v = e.get("P-001")
	if v.Holder != holder.addr || *v.Terms != terms || len(v.Pending) != 0 {
		t.Fatalf("get after allocation: %+v; want holder, terms and no pending approvals", v)
	}

	e.at("2027-06-30", 23) // the last hour of build_by
	e.must(holder, ReportBuilt, BuiltArgs{"P-001", strings.Repeat("bb", 32)}, &out)
	if out.State != Built || out.Refused != "" {
		t.Fatalf("report_built on the last day: %+v; want built", out)
	}
	e.at("2027-12-01", 0)
	e.must(holder, StartProduction, ParcelArg{"P-001"}, &out)
	if out.State != Producing {
		t.Fatalf("start_production: %+v; want producing", out)
	}

	e.at("2028-02-01", 0)
	e.must(auditor, Audit, AuditArgs{Parcel: "P-001", Year: 2027, Figures: Figures{600, 1000, 30}}, &out)
	if out.State != Compliant {
		t.Fatalf("audit at the terms: %+v; want compliant", out)
	}
	e.at("2029-02-01", 0)
	e.must(auditor, Audit, AuditArgs{Parcel: "P-001", Year: 2028, Figures: Figures{600, 999, 30}}, &out)
	if out.State != InBreach {
		t.Fatalf("audit below output_per_mu: %+v; want in_breach", out)
	}
	if la := e.get("P-001").LastAudit; la == nil || la.Year != 2028 || la.Result != InBreach || !strings.Contains(la.Note, "output_per_mu 999") {
		t.Fatalf("last audit %+v; want 2028 in_breach naming output_per_mu", la)
	}

	for _, p := range []party{office2, office4} {
		e.must(p, Reclaim, ReclaimArgs{"P-001", "output below terms"}, &out)
		if !out.Pending {
			t.Fatalf("reclaim approval by %s: %+v; want pending", p.org, out)
		}
	}
	e.must(planner, Reclaim, ReclaimArgs{"P-001", "output below terms"}, &out)
	if out.State != Reclaimed {
		t.Fatalf("third reclaim approval: %+v; want reclaimed", out)
	}

	h := e.history("P-001")
	var got []string
	for i, en := range h {
		if en.Seq != uint64(i) || en.Caller == "" || en.Height == 0 || en.Time == 0 {
			t.Fatalf("history entry %d: %+v; want seq %d with caller, height and time", i, en, i)
		}
		got = append(got, en.Action+":"+en.Kind+":"+en.Org+":"+en.To)
	}
	want := []string{
		"plan:transition:org1:planned",
		"allocate:approval:org1:", "allocate:approval:org2:", "allocate:transition:org3:allocated",
		"report_built:transition:org4:built", "start_production:transition:org4:producing",
		"audit:transition:org3:compliant", "audit:transition:org3:in_breach",
		"reclaim:approval:org2:", "reclaim:approval:org4:", "reclaim:transition:org1:reclaimed",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("history:\n got %v\nwant %v", got, want)
	}
	if len(e.m.Events) != len(want) || e.m.Events[0].Topic != "land.plan" {
		t.Fatalf("%d events, first %q; want one per history entry, land.plan first", len(e.m.Events), e.m.Events[0].Topic)
	}
}

// refused asserts that a call fails with rule and leaves state and events
// as they were.
func refused(t *testing.T, e *env, p party, fn contract.Method, args any, rule error, text string) {
	t.Helper()
	before := snapshot(e.m)
	events := len(e.m.Events)
	_, err := e.call(p, fn, args)
	if !errors.Is(err, rule) || !strings.Contains(err.Error(), text) {
		t.Fatalf("call %+v by %+v: err = %v; want %q naming %q", args, p, err, rule, text)
	}
	if after := snapshot(e.m); after != before || len(e.m.Events) != events {
		t.Fatalf("refused call changed state or events")
	}
}

func snapshot(m *contract.Mock) string {
	b, _ := json.Marshal(m.State) // encoding/json sorts map keys
	return string(b)
}

func TestPlanRefusals(t *testing.T) {
	e := newEnv(t)
	refused(t, e, client1, Plan, planArgs("P-1"), ErrNotAllowed, "admins")
	refused(t, e, office2, Plan, planArgs("P-1"), ErrNotAllowed, "policy land.plan does not allow admin of organisation org2")
	e.must(planner, Plan, planArgs("P-1"), nil)
	refused(t, e, planner, Plan, planArgs("P-1"), ErrWrongState, "already exists")
	for _, bad := range []string{
		`{"parcel":"P 2","district":"d","area_mu":1,"use":"u","doc_hash":"` + docA + `"}`,
		`{"parcel":"P-2","district":"","area_mu":1,"use":"u","doc_hash":"` + docA + `"}`,
		`{"parcel":"P-2","district":"d","area_mu":0,"use":"u","doc_hash":"` + docA + `"}`,
		`{"parcel":"P-2","district":"d","area_mu":1,"use":"u","doc_hash":"abcd"}`,
		`{"parcel":"P-2","district":"d","area_mu":1,"use":"u","doc_hash":"` + docA + `","extra":1}`,
	} {
		if _, err := e.call(planner, Plan, []byte(bad)); err == nil {
			t.Errorf("plan %s succeeded; want bad arguments", bad)
		}
	}
}

func TestAllocateRefusals(t *testing.T) {
	e := newEnv(t)
	refused(t, e, planner, Allocate, allocArgs("nope"), ErrNoParcel, "nope")
	e.must(planner, Plan, planArgs("P-1"), nil)
	refused(t, e, client1, Allocate, allocArgs("P-1"), ErrNotAllowed, "admins")
	refused(t, e, stranger, Allocate, allocArgs("P-1"), ErrNotAllowed, "admins")
	e.must(planner, Allocate, allocArgs("P-1"), nil)
	// Another admin of org1 approving the same arguments is still org1.
	refused(t, e, admin("org1", 99), Allocate, allocArgs("P-1"), ErrAlreadyApproved, "org1")

	late := allocArgs("P-1")
	late.Terms.BuildBy = "2026-02-28"
	refused(t, e, office2, Allocate, late, ErrPastDeadline, "build_by 2026-02-28")
	for _, tm := range []Terms{
		{BuildBy: "2027-2-01", ProduceBy: "2027-12-31"},
		{BuildBy: "2027-02-30", ProduceBy: "2027-12-31"},
		{BuildBy: "2027-06-30", ProduceBy: "2027-06-29"},
	} {
		a := allocArgs("P-1")
		a.Terms = tm
		refused(t, e, office2, Allocate, a, ErrBadArgs, "")
	}
	badHolder := allocArgs("P-1")
	badHolder.Holder = "bob"
	refused(t, e, office2, Allocate, badHolder, ErrBadArgs, "holder")

	e.allocated("P-2")
	refused(t, e, office4, Allocate, allocArgs("P-2"), ErrWrongState, "parcel P-2 is allocated")
}

func TestApprovalsOfDifferentTermsDoNotAddUp(t *testing.T) {
	e := newEnv(t)
	e.must(planner, Plan, planArgs("P-1"), nil)
	a, b := allocArgs("P-1"), allocArgs("P-1")
	b.Terms.TaxPerMu = 29
	var out Outcome
	e.must(planner, Allocate, a, &out)
	e.must(office2, Allocate, b, &out)
	e.must(office3, Allocate, a, &out)
	if out.State != Planned || !out.Pending || len(out.Approvals) != 2 {
		t.Fatalf("org1 and org3 on terms A, org2 on terms B: %+v; want still planned, two approvals of A", out)
	}
	// The holder written with a 0x prefix and in upper case is the same holder.
	a.Holder = "0x" + strings.ToUpper(a.Holder)
	e.must(office2, Allocate, a, &out)
	if out.State != Allocated {
		t.Fatalf("org2 joins terms A: %+v; want allocated", out)
	}
	if v := e.get("P-1"); v.Terms.TaxPerMu != 30 || len(v.Pending) != 0 {
		t.Fatalf("allocated on %+v with %d pending; want terms A and the approvals of B dropped", v.Terms, len(v.Pending))
	}
}

func TestBuildAndProductionDeadlines(t *testing.T) {
	e := newEnv(t)
	e.allocated("P-1")
	refused(t, e, holder, StartProduction, ParcelArg{"P-1"}, ErrWrongState, "start_production needs it [built]")
	refused(t, e, office2, ReportBuilt, BuiltArgs{"P-1", docA}, ErrNotAllowed, "only the holder")
	refused(t, e, holder, ReportBuilt, BuiltArgs{"P-1", "zz"}, ErrBadArgs, "doc_hash")

	e.at("2027-07-01", 0) // build_by 2027-06-30 has passed
	var out Outcome
	e.must(holder, ReportBuilt, BuiltArgs{"P-1", docA}, &out)
	if out.State != InBreach || !strings.Contains(out.Refused, "past the deadline") || !strings.Contains(out.Refused, "2027-06-30") {
		t.Fatalf("late report_built: %+v; want refused past the deadline and in_breach", out)
	}
	if v := e.get("P-1"); v.State != InBreach || v.BuiltDocHash != "" {
		t.Fatalf("after a late report: %+v; want in_breach and not built", v)
	}
	refused(t, e, holder, ReportBuilt, BuiltArgs{"P-1", docA}, ErrWrongState, "in_breach")

	e2 := newEnv(t)
	e2.allocated("P-2")
	e2.must(holder, ReportBuilt, BuiltArgs{"P-2", docA}, nil)
	refused(t, e2, office2, StartProduction, ParcelArg{"P-2"}, ErrNotAllowed, "only the holder")
	e2.at("2028-01-01", 0)
	e2.must(holder, StartProduction, ParcelArg{"P-2"}, &out)
	if out.State != InBreach || !strings.Contains(out.Refused, "2027-12-31") {
		t.Fatalf("late start_production: %+v; want in_breach past produce_by", out)
	}
}

func TestAuditRefusalsAndStuckParcels(t *testing.T) {
	e := newEnv(t)
	e.must(planner, Plan, planArgs("P-1"), nil)
	refused(t, e, auditor, Audit, AuditArgs{Parcel: "P-1", Year: 2025}, ErrWrongState, "parcel P-1 is planned")
	e.allocated("P-2")
	refused(t, e, office2, Audit, AuditArgs{Parcel: "P-2", Year: 2025}, ErrNotAllowed, "land.audit")
	refused(t, e, auditor, Audit, AuditArgs{Parcel: "P-2", Year: 2025}, ErrWrongState, "build_by 2027-06-30 has not passed")
	refused(t, e, auditor, Audit, AuditArgs{Parcel: "P-2", Year: 2027}, ErrBadArgs, "block's year 2026")

	// Never built by build_by: the audit finds a breach whatever the figures.
	e.at("2028-01-15", 0)
	var out Outcome
	e.must(auditor, Audit, AuditArgs{Parcel: "P-2", Year: 2027, Figures: Figures{9999, 9999, 9999}}, &out)
	if out.State != InBreach {
		t.Fatalf("audit of a parcel never built: %+v; want in_breach", out)
	}
	refused(t, e, auditor, Audit, AuditArgs{Parcel: "P-2", Year: 2027}, ErrWrongState, "last audited for 2027")
	// Still stuck next year: audited in_breach again, not compliant.
	e.at("2029-01-15", 0)
	e.must(auditor, Audit, AuditArgs{Parcel: "P-2", Year: 2028, Figures: Figures{9999, 9999, 9999}}, &out)
	if out.State != InBreach {
		t.Fatalf("second audit of a parcel never built: %+v; want in_breach", out)
	}

	// A producing parcel in breach can be found compliant again.
	e3 := newEnv(t)
	e3.allocated("P-3")
	e3.must(holder, ReportBuilt, BuiltArgs{"P-3", docA}, nil)
	e3.must(holder, StartProduction, ParcelArg{"P-3"}, nil)
	e3.at("2027-01-15", 0)
	e3.must(auditor, Audit, AuditArgs{Parcel: "P-3", Year: 2026, Figures: Figures{500, 1000, 29}}, &out)
	if out.State != InBreach {
		t.Fatalf("tax below terms: %+v; want in_breach", out)
	}
	e3.at("2028-01-15", 0)
	e3.must(auditor, Audit, AuditArgs{Parcel: "P-3", Year: 2027, Figures: Figures{500, 1000, 30}}, &out)
	if out.State != Compliant {
		t.Fatalf("next year's audit at the terms: %+v; want compliant", out)
	}
}

func TestReclaimRefusals(t *testing.T) {
	e := newEnv(t)
	e.allocated("P-1")
	refused(t, e, planner, Reclaim, ReclaimArgs{"P-1", "idle"}, ErrWrongState, "reclaim needs it [in_breach]")
	e.at("2027-07-01", 0)
	e.must(holder, ReportBuilt, BuiltArgs{"P-1", docA}, nil) // late: in_breach
	refused(t, e, holder, Reclaim, ReclaimArgs{"P-1", "idle"}, ErrNotAllowed, "admins")
	refused(t, e, planner, Reclaim, ReclaimArgs{"P-1", ""}, ErrBadArgs, "reason")
	var out Outcome
	e.must(planner, Reclaim, ReclaimArgs{"P-1", "idle"}, &out)
	refused(t, e, admin("org1", 7), Reclaim, ReclaimArgs{"P-1", "idle"}, ErrAlreadyApproved, "org1")
	e.must(office2, Reclaim, ReclaimArgs{"P-1", "never built"}, &out)
	e.must(office3, Reclaim, ReclaimArgs{"P-1", "never built"}, &out)
	if out.State != InBreach || len(out.Approvals) != 2 {
		t.Fatalf("two approvals each of two reasons: %+v; want still in_breach", out)
	}
	e.must(office4, Reclaim, ReclaimArgs{"P-1", "idle"}, &out)
	e.must(office3, Reclaim, ReclaimArgs{"P-1", "idle"}, &out)
	if out.State != Reclaimed {
		t.Fatalf("third approval of one reason: %+v; want reclaimed", out)
	}
	refused(t, e, planner, Reclaim, ReclaimArgs{"P-1", "idle"}, ErrWrongState, "reclaimed")
	refused(t, e, auditor, Audit, AuditArgs{Parcel: "P-1", Year: 2026}, ErrWrongState, "reclaimed")
}

func TestPoliciesDecideWhoActs(t *testing.T) {
	e := newEnv(t)
	e.m.Policies[PolicyPlan] = "ANY(admin)"
	e.m.Policies[PolicyAllocate] = "SET(2 of org2,org4; admin)"
	e.must(office4, Plan, planArgs("P-1"), nil)
	var out Outcome
	e.must(planner, Allocate, allocArgs("P-1"), &out) // org1 is not named: recorded, never enough
	e.must(office2, Allocate, allocArgs("P-1"), &out)
	if out.State != Planned {
		t.Fatalf("org1 and org2 under SET(2 of org2,org4): %+v; want planned", out)
	}
	e.must(office4, Allocate, allocArgs("P-1"), &out)
	if out.State != Allocated {
		t.Fatalf("org2 and org4: %+v; want allocated", out)
	}
}

func TestGetHistoryAndListQueries(t *testing.T) {
	e := newEnv(t)
	if _, err := e.call(stranger, Get, ParcelArg{"P-9"}); !errors.Is(err, ErrNoParcel) {
		t.Fatalf("get of an unknown parcel: %v; want %v", err, ErrNoParcel)
	}
	if _, err := e.call(stranger, History, ParcelArg{"P-9"}); !errors.Is(err, ErrNoParcel) {
		t.Fatalf("history of an unknown parcel: %v; want %v", err, ErrNoParcel)
	}
	for _, id := range []string{"P-3", "P-1", "P-2", "P-4"} {
		e.must(planner, Plan, planArgs(id), nil)
	}
	e.allocated("P-5")
	var l ListView
	e.must(stranger, List, ListArgs{State: Planned, Limit: 3}, &l)
	if len(l.Parcels) != 3 || l.Parcels[0].Parcel != "P-1" || l.Parcels[2].Parcel != "P-3" || !l.More {
		t.Fatalf("list planned limit 3: %+v; want P-1..P-3 and more", l)
	}
	e.must(stranger, List, ListArgs{State: Planned, After: "P-3"}, &l)
	if len(l.Parcels) != 1 || l.Parcels[0].Parcel != "P-4" || l.More {
		t.Fatalf("list planned after P-3: %+v; want P-4 only", l)
	}
	e.must(stranger, List, ListArgs{State: Allocated}, &l)
	if len(l.Parcels) != 1 || l.Parcels[0].Holder != holder.addr {
		t.Fatalf("list allocated: %+v; want P-5 with its holder", l)
	}
	for _, bad := range []ListArgs{{State: "sold"}, {State: Planned, Limit: 1001}, {State: Planned, After: "a b"}} {
		if _, err := e.call(stranger, List, bad); !errors.Is(err, ErrBadArgs) {
			t.Errorf("list %+v: %v; want %v", bad, err, ErrBadArgs)
		}
	}
}

func TestAnAuditFindingABreachAgainKeepsReclaimApprovals(t *testing.T) {
	e := newEnv(t)
	e.allocated("P-1")
	e.at("2027-07-01", 0)
	e.must(holder, ReportBuilt, BuiltArgs{"P-1", docA}, nil) // late: in_breach
	e.must(planner, Reclaim, ReclaimArgs{"P-1", "idle"}, nil)
	e.at("2028-01-10", 0)
	var out Outcome
	e.must(auditor, Audit, AuditArgs{Parcel: "P-1", Year: 2027}, &out)
	if v := e.get("P-1"); out.State != InBreach || len(v.Pending) != 1 {
		t.Fatalf("after an audit that finds the breach again: %+v, pending %+v; want in_breach with org1's approval kept", out, v.Pending)
	}
	e.must(office2, Reclaim, ReclaimArgs{"P-1", "idle"}, nil)
	e.must(office3, Reclaim, ReclaimArgs{"P-1", "idle"}, &out)
	if out.State != Reclaimed {
		t.Fatalf("third approval: %+v; want reclaimed", out)
	}
}

func TestCallersWithoutOrganisationAndBrokenPolicies(t *testing.T) {
	e := newEnv(t)
	e.allocated("P-1")
	refused(t, e, party{addr: stranger.addr, role: "admin"}, Plan, planArgs("P-2"), ErrNotAllowed, "admins")
	refused(t, e, stranger, Audit, AuditArgs{Parcel: "P-1", Year: 2026}, ErrNotAllowed, "belongs to no organisation")
	e.m.Policies[PolicyAudit] = "SET(1 of org9; admin)" // names an organisation the chain does not have
	if _, err := e.call(auditor, Audit, AuditArgs{Parcel: "P-1", Year: 2026}); err == nil || !strings.Contains(err.Error(), "checking policy land.audit") {
		t.Fatalf("audit under a policy the chain refuses: %v; want the policy's error", err)
	}
}
