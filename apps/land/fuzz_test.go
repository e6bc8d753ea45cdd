package main

import (
	"errors"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
)

// FuzzCalls sends arbitrary argument bytes to every method, at arbitrary
// times, on a registry with a parcel in each early state: nothing panics,
// and every refusal wraps one of the rules.
func FuzzCalls(f *testing.F) {
	methods := []contract.Method{Plan, Allocate, ReportBuilt, StartProduction, Audit, Reclaim, Get, History, List}
	for i := range methods {
		f.Add(uint8(i), uint16(0), []byte(`{"parcel":"P-2","year":2026,"doc_hash":"`+docA+`"}`))
	}
	f.Add(uint8(1), uint16(3), []byte(`{"parcel":"P-1","holder":"`+holder.addr+`","terms":{"build_by":"2027-02-29","produce_by":"2027-13-01"}}`))
	f.Add(uint8(8), uint16(0), []byte(`{"state":"planned","after":"P-\u0000","limit":-1}`))
	rules := []error{ErrWrongState, ErrNotAllowed, ErrAlreadyApproved, ErrPastDeadline, ErrNoParcel, ErrBadArgs, contract.ErrBadArgs}
	f.Fuzz(func(t *testing.T, method uint8, days uint16, args []byte) {
		e := newEnv(t)
		e.must(planner, Plan, planArgs("P-1"), nil)
		e.allocated("P-2")
		e.m.BlockTime += uint64(days) * dayMs
		for _, p := range []party{planner, holder, auditor} {
			_, err := e.call(p, methods[int(method)%len(methods)], args)
			if err == nil {
				continue
			}
			named := false
			for _, r := range rules {
				named = named || errors.Is(err, r)
			}
			if !named {
				t.Fatalf("refusal names no rule: %v", err)
			}
		}
	})
}
