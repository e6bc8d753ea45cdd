package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
)

func TestIncrementAndGet(t *testing.T) {
	m := contract.NewMock()
	m.CallerAddr = "alice"
	if got, err := m.Call(Get, nil); err != nil || string(got) != `{"value":0}` {
		t.Fatalf("get on a new counter = %s, %v; want {\"value\":0}", got, err)
	}
	for i, want := range []string{`{"value":3}`, `{"value":10}`} {
		by := []int{3, 7}[i]
		got, err := m.Call(Increment, map[string]int{"by": by})
		if err != nil || string(got) != want {
			t.Fatalf("increment by %d = %s, %v; want %s", by, got, err, want)
		}
	}
	if got, _ := m.Call(Get, nil); string(got) != `{"value":10}` {
		t.Fatalf("get = %s; want {\"value\":10}", got)
	}
	if len(m.Events) != 2 || m.Events[1].Topic != "incremented" ||
		string(m.Events[1].Data) != `{"by":7,"value":10,"caller":"alice"}` {
		t.Fatalf("events = %+v; want two incremented events, the last by 7 to 10 from alice", m.Events)
	}
}

func TestIncrementRefusesBadArgsWithoutChangingState(t *testing.T) {
	m := contract.NewMock()
	if _, err := m.Call(Increment, map[string]int{"by": 5}); err != nil {
		t.Fatal(err)
	}
	for _, args := range []string{`{"by":0}`, `{}`, `{"bye":1}`, `{"by":-1}`, `{"by":"2"}`, `[1]`} {
		if _, err := m.Call(Increment, []byte(args)); !errors.Is(err, contract.ErrReverted) {
			t.Errorf("increment %s: err = %v; want a revert", args, err)
		}
	}
	if string(m.State["value"]) != "5" || len(m.Events) != 1 {
		t.Fatalf("state %q, %d events after refused calls; want 5 and 1", m.State["value"], len(m.Events))
	}
}

func TestIncrementOverflowReverts(t *testing.T) {
	m := contract.NewMock()
	m.State["value"] = []byte("18446744073709551615")
	_, err := m.Call(Increment, map[string]int{"by": 1})
	if err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("increment past 2^64-1: %v; want an overflow revert", err)
	}
}
