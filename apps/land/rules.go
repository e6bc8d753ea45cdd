package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The rules a refusal names. Every refused call wraps one of these, so a
// caller (and a test) can tell which rule stopped it.
var (
	// ErrWrongState: the parcel is not in a state the method acts on.
	ErrWrongState = errors.New("wrong state")
	// ErrNotAllowed: the caller is not a party that may do this.
	ErrNotAllowed = errors.New("not allowed")
	// ErrAlreadyApproved: the caller's organisation has already approved
	// these exact arguments.
	ErrAlreadyApproved = errors.New("already approved by this organisation")
	// ErrPastDeadline: a date in the terms has passed.
	ErrPastDeadline = errors.New("past the deadline")
	// ErrNoParcel: no parcel has that id.
	ErrNoParcel = errors.New("no such parcel")
	// ErrBadArgs: the arguments are malformed.
	ErrBadArgs = errors.New("bad arguments")
)

// The states of a parcel.
const (
	Planned   = "planned"
	Allocated = "allocated"
	Built     = "built"
	Producing = "producing"
	Compliant = "compliant"
	InBreach  = "in_breach"
	Reclaimed = "reclaimed"
)

var states = []string{Planned, Allocated, Built, Producing, Compliant, InBreach, Reclaimed}

// The methods that move a parcel, as named in its history.
const (
	ActPlan      = "plan"
	ActAllocate  = "allocate"
	ActBuilt     = "report_built"
	ActProduce   = "start_production"
	ActAudit     = "audit"
	ActReclaim   = "reclaim"
	KindMove     = "transition"
	KindApproval = "approval"
)

// The governance policies that decide who may plan, allocate, audit and
// reclaim. A policy the chain does not configure defaults to
// MAJORITY(admin).
const (
	PolicyPlan     = "land.plan"
	PolicyAllocate = "land.allocate"
	PolicyAudit    = "land.audit"
	PolicyReclaim  = "land.reclaim"
)

// adminRole is the role name the chain gives an organisation's admins.
const adminRole = "admin"

// Transitions is the state machine: for each method, the states it starts
// from and those it may lead to. Audit from allocated or built applies
// only once that stage's deadline has passed, and always finds a breach.
var Transitions = map[string]struct{ From, To []string }{
	ActPlan:     {From: []string{""}, To: []string{Planned}},
	ActAllocate: {From: []string{Planned}, To: []string{Allocated}},
	ActBuilt:    {From: []string{Allocated}, To: []string{Built, InBreach}},
	ActProduce:  {From: []string{Built}, To: []string{Producing, InBreach}},
	ActAudit:    {From: []string{Allocated, Built, Producing, Compliant, InBreach}, To: []string{Compliant, InBreach}},
	ActReclaim:  {From: []string{InBreach}, To: []string{Reclaimed}},
}

// maxText bounds free-text fields (district, use, reason) and ids.
const (
	maxID   = 64
	maxText = 256
)

// checkID accepts ids of 1 to 64 letters, digits, '.', '_' and '-': they
// become parts of state keys and must read well in a URL or a shell.
func checkID(what, id string) error {
	if id == "" || len(id) > maxID {
		return fmt.Errorf("%w: %q must be 1 to %d characters", ErrBadArgs, what, maxID)
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q %q may hold only letters, digits, '.', '_' and '-'", ErrBadArgs, what, id)
		}
	}
	return nil
}

func checkText(what, s string) error {
	if strings.TrimSpace(s) == "" || len(s) > maxText {
		return fmt.Errorf("%w: %q must be 1 to %d bytes of text", ErrBadArgs, what, maxText)
	}
	return nil
}

// normHash checks a 32-byte hex digest and returns it in lower case.
func normHash(what, s string) (string, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 32 {
		return "", fmt.Errorf("%w: %q must be 64 hex digits (a SHA-256 or SM3 digest)", ErrBadArgs, what)
	}
	return hex.EncodeToString(b), nil
}

// normAddress checks an account address (40 hex digits, as the chain
// writes callers) and returns it in lower case.
func normAddress(what, s string) (string, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 20 {
		return "", fmt.Errorf("%w: %q must be an address of 40 hex digits", ErrBadArgs, what)
	}
	return hex.EncodeToString(b), nil
}

const dayMs = 24 * 60 * 60 * 1000

// parseDate reads a YYYY-MM-DD date (UTC) and returns the unix
// millisecond at which it ends: a deadline on that date is met by any
// block time before the next day begins.
func parseDate(what, s string) (uint64, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s || t.Year() < 1970 {
		return 0, fmt.Errorf("%w: %q %q is not a date YYYY-MM-DD (UTC, 1970 or later)", ErrBadArgs, what, s)
	}
	return uint64(t.UnixMilli()) + dayMs, nil
}

// yearOf is the UTC year of a block time in unix milliseconds.
func yearOf(ms uint64) int { return time.UnixMilli(int64(ms)).UTC().Year() }

// dateOf writes a block time as a UTC date, for messages.
func dateOf(ms uint64) string { return time.UnixMilli(int64(ms)).UTC().Format(time.DateOnly) }

// Terms are what a holder commits to when land is allocated.
type Terms struct {
	InvestPerMu uint64 `json:"invest_per_mu"`
	OutputPerMu uint64 `json:"output_per_mu"`
	TaxPerMu    uint64 `json:"tax_per_mu"`
	BuildBy     string `json:"build_by"`
	ProduceBy   string `json:"produce_by"`
}

// check validates the terms against the block time now.
func (t Terms) check(now uint64) error {
	build, err := parseDate("build_by", t.BuildBy)
	if err != nil {
		return err
	}
	produce, err := parseDate("produce_by", t.ProduceBy)
	if err != nil {
		return err
	}
	if produce < build {
		return fmt.Errorf("%w: produce_by %s is before build_by %s", ErrBadArgs, t.ProduceBy, t.BuildBy)
	}
	if now >= build {
		return fmt.Errorf("%w: build_by %s has already passed (block date %s)", ErrPastDeadline, t.BuildBy, dateOf(now))
	}
	return nil
}

// Figures are an audit's findings, per mu.
type Figures struct {
	InvestPerMu uint64 `json:"invest_per_mu"`
	OutputPerMu uint64 `json:"output_per_mu"`
	TaxPerMu    uint64 `json:"tax_per_mu"`
}

// shortfall names the first figure below the terms, or "" if none is.
func (f Figures) shortfall(t Terms) string {
	switch {
	case f.InvestPerMu < t.InvestPerMu:
		return fmt.Sprintf("invest_per_mu %d is below the terms' %d", f.InvestPerMu, t.InvestPerMu)
	case f.OutputPerMu < t.OutputPerMu:
		return fmt.Sprintf("output_per_mu %d is below the terms' %d", f.OutputPerMu, t.OutputPerMu)
	case f.TaxPerMu < t.TaxPerMu:
		return fmt.Sprintf("tax_per_mu %d is below the terms' %d", f.TaxPerMu, t.TaxPerMu)
	}
	return ""
}
