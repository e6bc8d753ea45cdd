package main

import (
	"errors"
	"testing"

	"github.com/accord-chain/accord/sdk/contract"
)

func balanceOf(t *testing.T, m *contract.Mock, addr string) string {
	t.Helper()
	got, err := m.Call(BalanceOf, BalanceArgs{addr})
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

func TestMintTransferBalance(t *testing.T) {
	m := contract.NewMock()
	m.CallerAddr = "issuer"
	if _, err := m.Call(Init, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Call(Mint, MoveArgs{"alice", 100}); err != nil {
		t.Fatal(err)
	}
	m.CallerAddr = "alice"
	if _, err := m.Call(Mint, MoveArgs{"alice", 1}); err == nil {
		t.Fatal("alice minted; only the minter may")
	}
	if _, err := m.Call(Transfer, MoveArgs{"bob", 30}); err != nil {
		t.Fatal(err)
	}
	if a, b := balanceOf(t, m, "alice"), balanceOf(t, m, "bob"); a != `{"balance":70}` || b != `{"balance":30}` {
		t.Fatalf("balances alice %s bob %s; want 70 and 30", a, b)
	}
	if len(m.Events) != 2 || m.Events[1].Topic != "transfer" || string(m.Events[1].Data) != `{"from":"alice","to":"bob","amount":30}` {
		t.Fatalf("events = %+v", m.Events)
	}
}

func TestTransferRefusals(t *testing.T) {
	m := contract.NewMock()
	m.CallerAddr = "issuer"
	m.Call(Init, nil)
	m.Call(Mint, MoveArgs{"alice", 10})
	m.CallerAddr = "alice"
	for _, args := range []any{MoveArgs{"bob", 11}, MoveArgs{"bob", 0}, MoveArgs{"", 1}, []byte(`{"to":"bob","amount":1,"x":1}`)} {
		if _, err := m.Call(Transfer, args); !errors.Is(err, contract.ErrReverted) {
			t.Errorf("transfer %v: %v; want a revert", args, err)
		}
	}
	if got := balanceOf(t, m, "alice"); got != `{"balance":10}` {
		t.Fatalf("alice has %s after refused transfers; want 10", got)
	}
	// A transfer to oneself changes nothing.
	if _, err := m.Call(Transfer, MoveArgs{"alice", 10}); err != nil || balanceOf(t, m, "alice") != `{"balance":10}` {
		t.Fatalf("self transfer: %v, %s", err, balanceOf(t, m, "alice"))
	}
}
