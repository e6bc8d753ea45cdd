// Command land is the science city's register of industrial land as an
// Accord contract: every parcel from plan through allocation, building,
// production and yearly audits to reclaim, with the organisations that
// must agree to each step. docs/apps.md walks through it.
//
// Methods (JSON arguments):
//
//	plan             {"parcel", "district", "area_mu", "use", "doc_hash"}
//	allocate         {"parcel", "holder", "terms": {"invest_per_mu", "output_per_mu", "tax_per_mu", "build_by", "produce_by"}}
//	report_built     {"parcel", "doc_hash"}
//	start_production {"parcel"}
//	audit            {"parcel", "year", "invest_per_mu", "output_per_mu", "tax_per_mu"}
//	reclaim          {"parcel", "reason"}
//	get              {"parcel"}
//	history          {"parcel"}
//	list             {"state", "after", "limit"}
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/accord-chain/accord/sdk/contract"
)

func main() {}

func init() {
	contract.Warm(PlanArgs{}, AllocateArgs{}, BuiltArgs{}, ParcelArg{}, AuditArgs{}, ReclaimArgs{},
		ListArgs{}, Outcome{}, View{}, Parcel{}, Entry{}, Approval{}, ListView{}, Summary{})
}

// State layout, all keys built with contract.Key:
//
//	p/<parcel>                      the Parcel record (JSON)
//	s/<state>/<parcel>              index for list (empty value)
//	h/<parcel>/<seq, 10 digits>     one Entry of the history (JSON)
//	a/<parcel>/<action>/<hash>/<org> an Approval still pending (JSON)
//	q/<parcel>/<action>/<hash>      the arguments those approvals are for
const (
	prefParcel   = "p"
	prefState    = "s"
	prefHistory  = "h"
	prefApproval = "a"
	prefProposal = "q"
)

// Parcel is the stored record of one parcel.
type Parcel struct {
	Parcel       string   `json:"parcel"`
	District     string   `json:"district"`
	AreaMu       uint64   `json:"area_mu"`
	Use          string   `json:"use"`
	DocHash      string   `json:"doc_hash"`
	State        string   `json:"state"`
	Holder       string   `json:"holder,omitempty"`
	Terms        *Terms   `json:"terms,omitempty"`
	BuiltDocHash string   `json:"built_doc_hash,omitempty"`
	Producing    bool     `json:"production_started"`
	LastAudit    *Audited `json:"last_audit,omitempty"`
	// Entries is how many history entries the parcel has.
	Entries uint64 `json:"history_entries"`
}

// Audited is the record of an audit.
type Audited struct {
	Year int `json:"year"`
	Figures
	Result string `json:"result"`
	Note   string `json:"note,omitempty"`
	Org    string `json:"org"`
	Height uint64 `json:"height"`
	Time   uint64 `json:"time"`
}

// Approval is one organisation's approval of a pending allocate or
// reclaim.
type Approval struct {
	Org    string `json:"org"`
	Role   string `json:"role"`
	Caller string `json:"caller"`
	Height uint64 `json:"height"`
	Time   uint64 `json:"time"`
}

// Pending is a set of approvals of the same arguments.
type Pending struct {
	Action    string          `json:"action"`
	ArgsHash  string          `json:"args_hash"`
	Args      json.RawMessage `json:"args"`
	Approvals []Approval      `json:"approvals"`
}

// View is what get returns: the record and its pending approvals.
type View struct {
	Parcel
	Pending []Pending `json:"pending"`
}

// Entry is one line of a parcel's history: a transition or an approval.
type Entry struct {
	Seq      uint64 `json:"seq"`
	Height   uint64 `json:"height"`
	Time     uint64 `json:"time"`
	Caller   string `json:"caller"`
	Org      string `json:"org"`
	Action   string `json:"action"`
	Kind     string `json:"kind"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	ArgsHash string `json:"args_hash,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Outcome is what a method that moves a parcel returns. Pending is true
// when the call was recorded as an approval and more are needed; Refused
// names the rule when a late report was refused and the parcel marked
// in_breach instead (the call succeeds so that the breach is recorded).
type Outcome struct {
	Parcel    string   `json:"parcel"`
	State     string   `json:"state"`
	Pending   bool     `json:"pending,omitempty"`
	Approvals []string `json:"approvals,omitempty"`
	Refused   string   `json:"refused,omitempty"`
}

func parcelKey(id string) string { return contract.Key(prefParcel, id) }

func load(ctx contract.Context, id string) (*Parcel, error) {
	if err := checkID("parcel", id); err != nil {
		return nil, err
	}
	b, ok := ctx.Get(parcelKey(id))
	if !ok {
		return nil, fmt.Errorf("%w: %s (plan it first)", ErrNoParcel, id)
	}
	var p Parcel
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parcel %s: stored record is corrupt: %w", id, err)
	}
	return &p, nil
}

// save writes p and keeps the state index in step with it.
func save(ctx contract.Context, p *Parcel, old string) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	ctx.Put(parcelKey(p.Parcel), b)
	if old != p.State {
		if old != "" {
			ctx.Delete(contract.Key(prefState, old, p.Parcel))
		}
		ctx.Put(contract.Key(prefState, p.State, p.Parcel), nil)
	}
	return nil
}

// record appends e to p's history and emits it as an event named after
// the method. The caller saves p afterwards.
func record(ctx contract.Context, p *Parcel, e Entry) error {
	e.Seq = p.Entries
	e.Height, e.Time = ctx.Height(), ctx.Time()
	e.Caller, e.Org = ctx.Caller(), ctx.CallerOrg()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	ctx.Put(contract.Key(prefHistory, p.Parcel, fmt.Sprintf("%010d", e.Seq)), b)
	p.Entries++
	ctx.Emit("land."+e.Action, b)
	return nil
}

// move changes p's state, records the transition and saves p.
func move(ctx contract.Context, p *Parcel, action, to, note string) error {
	from := p.State
	p.State = to
	if err := record(ctx, p, Entry{Action: action, Kind: KindMove, From: from, To: to, Note: note}); err != nil {
		return err
	}
	// A new parcel has no approvals, and a yearly audit that finds a breach
	// again keeps reclaim's.
	if from != to && from != "" {
		clearPending(ctx, p.Parcel)
	}
	return save(ctx, p, from)
}

// wrongState is the refusal of action on a parcel in a state it does not
// start from.
func wrongState(p *Parcel, action string) error {
	return fmt.Errorf("%w: parcel %s is %s; %s needs it %v", ErrWrongState, p.Parcel, p.State, action, Transitions[action].From)
}

// allowedAlone reports whether the caller's organisation, by itself,
// satisfies policy: the test for methods one organisation may call.
func allowedAlone(ctx contract.Context, policy string) error {
	if ctx.CallerOrg() == "" {
		return fmt.Errorf("%w: the caller belongs to no organisation; %s needs a member of an organisation policy %s allows", ErrNotAllowed, policy, policy)
	}
	ok, err := ctx.PolicySatisfied(policy, []contract.Approval{{Org: ctx.CallerOrg(), Role: ctx.CallerRole()}})
	if err != nil {
		return fmt.Errorf("checking policy %s: %w", policy, err)
	}
	if !ok {
		return fmt.Errorf("%w: policy %s does not allow %s of organisation %s", ErrNotAllowed, policy, ctx.CallerRole(), ctx.CallerOrg())
	}
	return nil
}

func requireAdmin(ctx contract.Context, action string) error {
	if ctx.CallerRole() != adminRole || ctx.CallerOrg() == "" {
		return fmt.Errorf("%w: %s is for an organisation's admins; the caller is %q of %q", ErrNotAllowed, action, ctx.CallerRole(), ctx.CallerOrg())
	}
	return nil
}

// approve records the caller's organisation's approval of action with
// args on p, and reports whether the approvals recorded for exactly these
// args, this one included, now satisfy policy. Approvals of other args
// are kept apart and never counted together.
func approve(ctx contract.Context, p *Parcel, action, policy string, args any) (bool, []string, error) {
	if err := requireAdmin(ctx, action); err != nil {
		return false, nil, err
	}
	canon, err := json.Marshal(args)
	if err != nil {
		return false, nil, err
	}
	sum := contract.SHA256(append([]byte(action+"\x00"), canon...))
	hash := hex.EncodeToString(sum[:])
	org := ctx.CallerOrg()
	prefix := contract.Key(prefApproval, p.Parcel, action, hash)
	if _, ok := ctx.Get(prefix + contract.Key(org)); ok {
		return false, nil, fmt.Errorf("%w: %s already approved %s of parcel %s with these arguments (args_hash %s)", ErrAlreadyApproved, org, action, p.Parcel, hash)
	}
	var approvals []contract.Approval
	var orgs []string
	var bad error
	contract.ScanPrefix(ctx, prefix, func(_ string, v []byte) bool {
		var a Approval
		if bad = json.Unmarshal(v, &a); bad != nil {
			return false
		}
		approvals = append(approvals, contract.Approval{Org: a.Org, Role: a.Role})
		orgs = append(orgs, a.Org)
		return true
	})
	if bad != nil {
		return false, nil, fmt.Errorf("parcel %s: stored approval is corrupt: %w", p.Parcel, bad)
	}
	approvals = append(approvals, contract.Approval{Org: org, Role: ctx.CallerRole()})
	orgs = append(orgs, org)
	ok, err := ctx.PolicySatisfied(policy, approvals)
	if err != nil {
		return false, nil, fmt.Errorf("checking policy %s: %w", policy, err)
	}
	if ok {
		return true, orgs, nil
	}
	a, _ := json.Marshal(Approval{Org: org, Role: ctx.CallerRole(), Caller: ctx.Caller(), Height: ctx.Height(), Time: ctx.Time()})
	ctx.Put(prefix+contract.Key(org), a)
	ctx.Put(contract.Key(prefProposal, p.Parcel, action, hash), canon)
	if err := record(ctx, p, Entry{Action: action, Kind: KindApproval, ArgsHash: hash}); err != nil {
		return false, nil, err
	}
	return false, orgs, save(ctx, p, p.State)
}

// clearPending drops every pending approval of a parcel: approvals are
// for a step from the state the parcel was in, and it has left it.
func clearPending(ctx contract.Context, id string) {
	for _, pre := range []string{prefApproval, prefProposal} {
		var keys []string
		contract.ScanPrefix(ctx, contract.Key(pre, id), func(k string, _ []byte) bool {
			keys = append(keys, k)
			return true
		})
		for _, k := range keys {
			ctx.Delete(k)
		}
	}
}

// pending lists a parcel's pending approvals, grouped by arguments, in
// key order.
func pending(ctx contract.Context, id string) ([]Pending, error) {
	out := []Pending{}
	var bad error
	contract.ScanPrefix(ctx, contract.Key(prefApproval, id), func(k string, v []byte) bool {
		parts, err := contract.SplitKey(k)
		if err != nil || len(parts) != 5 {
			bad = fmt.Errorf("parcel %s: malformed approval key %q", id, k)
			return false
		}
		var a Approval
		if bad = json.Unmarshal(v, &a); bad != nil {
			return false
		}
		action, hash := parts[2], parts[3]
		if n := len(out); n == 0 || out[n-1].Action != action || out[n-1].ArgsHash != hash {
			args, _ := ctx.Get(contract.Key(prefProposal, id, action, hash))
			out = append(out, Pending{Action: action, ArgsHash: hash, Args: args})
		}
		out[len(out)-1].Approvals = append(out[len(out)-1].Approvals, a)
		return true
	})
	return out, bad
}

// PlanArgs are plan's arguments.
type PlanArgs struct {
	Parcel   string `json:"parcel"`
	District string `json:"district"`
	AreaMu   uint64 `json:"area_mu"`
	Use      string `json:"use"`
	DocHash  string `json:"doc_hash"`
}

// Plan records a new parcel as planned: by an admin of an organisation
// that policy land.plan allows on its own.
func Plan(ctx contract.Context) (any, error) {
	var a PlanArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	if err := checkID("parcel", a.Parcel); err != nil {
		return nil, err
	}
	if err := checkText("district", a.District); err != nil {
		return nil, err
	}
	if err := checkText("use", a.Use); err != nil {
		return nil, err
	}
	if a.AreaMu == 0 {
		return nil, fmt.Errorf("%w: \"area_mu\" must be at least 1", ErrBadArgs)
	}
	doc, err := normHash("doc_hash", a.DocHash)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(ctx, ActPlan); err != nil {
		return nil, err
	}
	if err := allowedAlone(ctx, PolicyPlan); err != nil {
		return nil, err
	}
	if old, err := load(ctx, a.Parcel); err == nil {
		return nil, fmt.Errorf("%w: parcel %s already exists and is %s; plan makes a new parcel", ErrWrongState, a.Parcel, old.State)
	}
	p := &Parcel{Parcel: a.Parcel, District: a.District, AreaMu: a.AreaMu, Use: a.Use, DocHash: doc}
	if err := move(ctx, p, ActPlan, Planned, ""); err != nil {
		return nil, err
	}
	return Outcome{Parcel: p.Parcel, State: p.State}, nil
}

// AllocateArgs are allocate's arguments.
type AllocateArgs struct {
	Parcel string `json:"parcel"`
	Holder string `json:"holder"`
	Terms  Terms  `json:"terms"`
}

// Allocate approves allocating a planned parcel to holder on terms; it
// takes effect when admins of enough organisations have approved the
// same holder and terms to satisfy policy land.allocate.
func Allocate(ctx contract.Context) (any, error) {
	var a AllocateArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	p, err := load(ctx, a.Parcel)
	if err != nil {
		return nil, err
	}
	if a.Holder, err = normAddress("holder", a.Holder); err != nil {
		return nil, err
	}
	if p.State != Planned {
		return nil, wrongState(p, ActAllocate)
	}
	if err := a.Terms.check(ctx.Time()); err != nil {
		return nil, err
	}
	done, orgs, err := approve(ctx, p, ActAllocate, PolicyAllocate, a)
	if err != nil {
		return nil, err
	}
	if !done {
		return Outcome{Parcel: p.Parcel, State: p.State, Pending: true, Approvals: orgs}, nil
	}
	p.Holder, p.Terms = a.Holder, &a.Terms
	if err := move(ctx, p, ActAllocate, Allocated, "approved by "+fmt.Sprint(orgs)); err != nil {
		return nil, err
	}
	return Outcome{Parcel: p.Parcel, State: p.State, Approvals: orgs}, nil
}

// BuiltArgs are report_built's arguments.
type BuiltArgs struct {
	Parcel  string `json:"parcel"`
	DocHash string `json:"doc_hash"`
}

func requireHolder(ctx contract.Context, p *Parcel, action string) error {
	if ctx.Caller() != p.Holder {
		return fmt.Errorf("%w: only the holder %s may %s parcel %s", ErrNotAllowed, p.Holder, action, p.Parcel)
	}
	return nil
}

// late marks p in_breach for missing deadline and returns the Outcome
// that says the call was refused.
func late(ctx contract.Context, p *Parcel, action, deadline, date string) (any, error) {
	why := fmt.Sprintf("%s: %s was due by %s (block date %s); parcel %s is now %s",
		ErrPastDeadline, deadline, date, dateOf(ctx.Time()), p.Parcel, InBreach)
	if err := move(ctx, p, action, InBreach, why); err != nil {
		return nil, err
	}
	return Outcome{Parcel: p.Parcel, State: p.State, Refused: why}, nil
}

// ReportBuilt records that the holder has built on an allocated parcel,
// on or before build_by; a late report is refused and the parcel marked
// in_breach.
func ReportBuilt(ctx contract.Context) (any, error) {
	var a BuiltArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	p, err := load(ctx, a.Parcel)
	if err != nil {
		return nil, err
	}
	doc, err := normHash("doc_hash", a.DocHash)
	if err != nil {
		return nil, err
	}
	if p.State != Allocated {
		return nil, wrongState(p, ActBuilt)
	}
	if err := requireHolder(ctx, p, ActBuilt); err != nil {
		return nil, err
	}
	if end, _ := parseDate("build_by", p.Terms.BuildBy); ctx.Time() >= end {
		return late(ctx, p, ActBuilt, "building", p.Terms.BuildBy)
	}
	p.BuiltDocHash = doc
	if err := move(ctx, p, ActBuilt, Built, ""); err != nil {
		return nil, err
	}
	return Outcome{Parcel: p.Parcel, State: p.State}, nil
}

// ParcelArg is the argument of start_production, get and history.
type ParcelArg struct {
	Parcel string `json:"parcel"`
}

// StartProduction records that production has started on a built parcel,
// on or before produce_by; a late one is refused and the parcel marked
// in_breach.
func StartProduction(ctx contract.Context) (any, error) {
	var a ParcelArg
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	p, err := load(ctx, a.Parcel)
	if err != nil {
		return nil, err
	}
	if p.State != Built {
		return nil, wrongState(p, ActProduce)
	}
	if err := requireHolder(ctx, p, ActProduce); err != nil {
		return nil, err
	}
	if end, _ := parseDate("produce_by", p.Terms.ProduceBy); ctx.Time() >= end {
		return late(ctx, p, ActProduce, "production", p.Terms.ProduceBy)
	}
	p.Producing = true
	if err := move(ctx, p, ActProduce, Producing, ""); err != nil {
		return nil, err
	}
	return Outcome{Parcel: p.Parcel, State: p.State}, nil
}

// AuditArgs are audit's arguments.
type AuditArgs struct {
	Parcel string `json:"parcel"`
	Year   int    `json:"year"`
	Figures
}

// Audit records a year's audit by an organisation land.audit allows: any
// figure below the terms puts the parcel in_breach, otherwise it is
// compliant. A parcel not yet producing can be audited only once the
// deadline of the stage it is stuck at has passed, and is then in_breach.
func Audit(ctx contract.Context) (any, error) {
	var a AuditArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	p, err := load(ctx, a.Parcel)
	if err != nil {
		return nil, err
	}
	if err := allowedAlone(ctx, PolicyAudit); err != nil {
		return nil, err
	}
	if a.Year < 1970 || a.Year > yearOf(ctx.Time()) {
		return nil, fmt.Errorf("%w: year %d must be 1970 to the block's year %d", ErrBadArgs, a.Year, yearOf(ctx.Time()))
	}
	if p.LastAudit != nil && a.Year <= p.LastAudit.Year {
		return nil, fmt.Errorf("%w: parcel %s was last audited for %d; audit a later year", ErrWrongState, p.Parcel, p.LastAudit.Year)
	}
	var result, note string
	switch {
	case p.Producing && (p.State == Producing || p.State == Compliant || p.State == InBreach):
		result, note = Compliant, a.Figures.shortfall(*p.Terms)
		if note != "" {
			result = InBreach
		}
	case p.State == Allocated || p.State == Built || p.State == InBreach:
		deadline, name := p.Terms.BuildBy, "build_by"
		if p.State != Allocated && p.BuiltDocHash != "" {
			deadline, name = p.Terms.ProduceBy, "produce_by"
		}
		if end, _ := parseDate(name, deadline); ctx.Time() < end {
			return nil, fmt.Errorf("%w: parcel %s is %s and its %s %s has not passed; audit it once it produces", ErrWrongState, p.Parcel, p.State, name, deadline)
		}
		result, note = InBreach, fmt.Sprintf("not producing, and %s %s has passed", name, deadline)
	default:
		return nil, wrongState(p, ActAudit)
	}
	p.LastAudit = &Audited{Year: a.Year, Figures: a.Figures, Result: result, Note: note, Org: ctx.CallerOrg(), Height: ctx.Height(), Time: ctx.Time()}
	if err := move(ctx, p, ActAudit, result, fmt.Sprintf("year %d: %s", a.Year, orOK(note))); err != nil {
		return nil, err
	}
	return Outcome{Parcel: p.Parcel, State: p.State}, nil
}

func orOK(note string) string {
	if note == "" {
		return "meets the terms"
	}
	return note
}

// ReclaimArgs are reclaim's arguments.
type ReclaimArgs struct {
	Parcel string `json:"parcel"`
	Reason string `json:"reason"`
}

// Reclaim approves taking back a parcel in breach; it takes effect when
// admins of enough organisations have approved the same reason to
// satisfy policy land.reclaim.
func Reclaim(ctx contract.Context) (any, error) {
	var a ReclaimArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	p, err := load(ctx, a.Parcel)
	if err != nil {
		return nil, err
	}
	if err := checkText("reason", a.Reason); err != nil {
		return nil, err
	}
	if p.State != InBreach {
		return nil, wrongState(p, ActReclaim)
	}
	done, orgs, err := approve(ctx, p, ActReclaim, PolicyReclaim, a)
	if err != nil {
		return nil, err
	}
	if !done {
		return Outcome{Parcel: p.Parcel, State: p.State, Pending: true, Approvals: orgs}, nil
	}
	if err := move(ctx, p, ActReclaim, Reclaimed, a.Reason); err != nil {
		return nil, err
	}
	return Outcome{Parcel: p.Parcel, State: p.State, Approvals: orgs}, nil
}

// Get returns a parcel: its state, holder, terms, last audit and pending
// approvals.
func Get(ctx contract.Context) (any, error) {
	var a ParcelArg
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	p, err := load(ctx, a.Parcel)
	if err != nil {
		return nil, err
	}
	pend, err := pending(ctx, p.Parcel)
	if err != nil {
		return nil, err
	}
	return View{Parcel: *p, Pending: pend}, nil
}

// History returns every transition and approval of a parcel, oldest first:
// {"parcel": ID, "entries": [Entry...]}.
func History(ctx contract.Context) (any, error) {
	var a ParcelArg
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	if _, err := load(ctx, a.Parcel); err != nil {
		return nil, err
	}
	// The entries are returned as stored (this contract wrote them as
	// JSON), in a HistoryView written by hand: decoding each and encoding
	// it again, or even letting encoding/json check it, is most of the gas.
	id, _ := json.Marshal(a.Parcel)
	out := append(append([]byte(`{"parcel":`), id...), `,"entries":[`...)
	n := 0
	contract.ScanPrefix(ctx, contract.Key(prefHistory, a.Parcel), func(_ string, v []byte) bool {
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, v...)
		n++
		return true
	})
	return append(out, "]}"...), nil
}

// ListArgs are list's arguments: a state, and optionally the parcel to
// continue after and how many to return (default 100, at most 1000).
type ListArgs struct {
	State string `json:"state"`
	After string `json:"after,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// Summary is one parcel in a list.
type Summary struct {
	Parcel   string `json:"parcel"`
	District string `json:"district"`
	Holder   string `json:"holder,omitempty"`
}

// ListView is what list returns; More says that parcels follow the last.
type ListView struct {
	State   string    `json:"state"`
	Parcels []Summary `json:"parcels"`
	More    bool      `json:"more"`
}

const (
	defaultList = 100
	maxList     = 1000
)

// List returns the parcels in a state, in id order.
func List(ctx contract.Context) (any, error) {
	var a ListArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	known := false
	for _, s := range states {
		known = known || s == a.State
	}
	if !known {
		return nil, fmt.Errorf("%w: state %q (want one of %v)", ErrBadArgs, a.State, states)
	}
	if a.Limit < 0 || a.Limit > maxList {
		return nil, fmt.Errorf("%w: limit %d (want 1 to %d)", ErrBadArgs, a.Limit, maxList)
	}
	if a.Limit == 0 {
		a.Limit = defaultList
	}
	prefix := contract.Key(prefState, a.State)
	start := prefix
	if a.After != "" {
		if err := checkID("after", a.After); err != nil {
			return nil, err
		}
		start = contract.Key(prefState, a.State, a.After) + "\x00"
	}
	out := ListView{State: a.State, Parcels: []Summary{}}
	var bad error
	contract.Scan(ctx, start, prefixEnd(prefix), func(k string, _ []byte) bool {
		if len(out.Parcels) == a.Limit {
			out.More = true
			return false
		}
		parts, err := contract.SplitKey(k)
		if err != nil || len(parts) != 3 {
			bad = fmt.Errorf("malformed index key %q", k)
			return false
		}
		var p *Parcel
		if p, bad = load(ctx, parts[2]); bad != nil {
			return false
		}
		out.Parcels = append(out.Parcels, Summary{Parcel: p.Parcel, District: p.District, Holder: p.Holder})
		return true
	})
	return out, bad
}

// prefixEnd is the least key above every key with the prefix; prefixes
// here end in a zero byte, so incrementing it never carries.
func prefixEnd(prefix string) string {
	return prefix[:len(prefix)-1] + "\x01"
}
