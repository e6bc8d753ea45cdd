package api_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// TestSubscribeFilters: the node sends a filtered subscription only the
// blocks with a matching event, and in them only the matching
// transactions and events; a malformed account is invalid_argument.
func TestSubscribeFilters(t *testing.T) {
	url, admin := testNode(t)
	c := sdk.New(url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	issuer := types.AddressOf(crypto.Ed25519, admin.Public().Bytes())
	other := types.Address{1}
	var last uint64
	for _, call := range []func() (types.Hash, error){
		func() (types.Hash, error) { return c.Mint(ctx, admin, other, 5) },
		func() (types.Hash, error) { return c.Mint(ctx, admin, issuer, 10) },
		func() (types.Hash, error) {
			tx, err := c.Sign(ctx, admin, sdk.Call{Contract: tokencall.Name, Method: tokencall.MethodBurn, Args: tokencall.Burn(3)})
			if err != nil {
				return types.Hash{}, err
			}
			return c.Submit(ctx, tx)
		},
	} {
		id, err := call()
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.WaitOK(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		last = r.Height
	}

	// The burn alone, though the mints came first.
	s, err := c.Watch(ctx, sdk.EventFilter{Contract: tokencall.Name, Event: tokencall.MethodBurn, FromHeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Receive() {
		t.Fatalf("filtered stream ended: %v", s.Err())
	}
	m := s.Msg()
	if m.Header.Height != last || len(m.Results) != 1 || len(m.Results[0].Receipt.Events) != 1 || m.Results[0].Receipt.Events[0].Name != tokencall.MethodBurn {
		t.Fatalf("first message of a burn filter: height %d, results %v; want the burn at height %d alone", m.Header.Height, m.Results, last)
	}
	s.Close()

	// An account named by an attribute: the mint to other, not the others.
	s, err = c.Watch(ctx, sdk.EventFilter{Account: other.String(), FromHeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Receive() {
		t.Fatalf("filtered stream ended: %v", s.Err())
	}
	if m := s.Msg(); len(m.Results) != 1 || m.Results[0].Receipt.Events[0].Name != tokencall.MethodMint || m.Header.Height >= last {
		t.Fatalf("account filter: %v, want the mint to %s", m, other)
	}
	s.Close()

	s, err = c.Watch(ctx, sdk.EventFilter{Account: "nothex", FromHeight: 1})
	if err == nil {
		if s.Receive() {
			t.Fatal("a malformed account filter streamed a block")
		}
		err = s.Err()
	}
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("malformed account filter: %v, want invalid_argument", err)
	}
}
