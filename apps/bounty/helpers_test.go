package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
)

func addr(n int) string { return fmt.Sprintf("%040x", n) }

var (
	self     = addr(0xb0b7)
	poster   = addr(0xc0)
	judges   = []string{addr(0x11), addr(0x12), addr(0x13)}
	students = []string{addr(0x21), addr(0x22), addr(0x23), addr(0x24), addr(0x25)}
	stranger = addr(0x99)
)

const (
	t0       = 1_800_000_000_000 // block time at the start, unix ms
	hour     = 3_600_000
	submitBy = t0 + 30*24*hour
	judgeBy  = submitBy + 14*24*hour
	funds    = 1_000_000
)

type env struct {
	t testing.TB
	m *contract.Mock
}

func newEnv(t testing.TB) *env {
	m := contract.NewMock()
	m.SelfAddr = self
	m.BlockTime = t0
	m.Balances = map[string]uint64{poster: funds, stranger: funds}
	return &env{t: t, m: m}
}

func (e *env) call(who string, fn contract.Method, args any) (json.RawMessage, error) {
	e.m.CallerAddr = who
	e.m.BlockHeight++
	e.m.Tx = []byte(fmt.Sprintf("tx%d", e.m.BlockHeight))
	return e.m.Call(fn, args)
}

func (e *env) must(who string, fn contract.Method, args any, out any) {
	e.t.Helper()
	b, err := e.call(who, fn, args)
	if err != nil {
		e.t.Fatalf("call with %+v by %s: %v", args, who, err)
	}
	if out != nil {
		reflect.ValueOf(out).Elem().SetZero()
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) get(id string) Bounty {
	e.t.Helper()
	var b Bounty
	e.must(stranger, Get, IDArg{id}, &b)
	return b
}

const spec = "5bec000000000000000000000000000000000000000000000000000000000001"

func postArgs(id string, reward uint64) PostArgs {
	return PostArgs{ID: id, Title: "solid-state electrolyte above 10 mS/cm", SpecHash: spec, Reward: reward,
		SubmitBy: submitBy, JudgeBy: judgeBy, Judges: judges, Quorum: 2}
}

// sealed returns a solution hash, salt and the commitment to them.
func sealed(n int) (sol, salt, commitment string) {
	s := contract.SHA256([]byte(fmt.Sprintf("solution %d", n)))
	sl := []byte(fmt.Sprintf("salt-%d", n))
	c := Commitment(s[:], sl)
	return hex.EncodeToString(s[:]), hex.EncodeToString(sl), hex.EncodeToString(c[:])
}
