package sdk

import (
	"context"

	"connectrpc.com/connect"

	apipb "github.com/accord-chain/accord/api/pb"
)

// EventFilter selects committed events for Watch. Every field given must
// match; the node does the filtering.
type EventFilter struct {
	Contract string // the emitting contract, e.g. "token"
	Event    string // the event's name, e.g. "transfer"
	// Account, 40 hex digits, matches an event of a transaction that this
	// address sent, or one with an attribute equal to it (a transfer's
	// "from" or "to").
	Account string
	// FromHeight replays committed blocks from this height before
	// following new ones; 0 starts with the next block.
	FromHeight uint64
}

// Watch streams the committed blocks that have an event matching f, each
// with only the matching transactions and events. Receive on the stream
// until it returns false, then check its Err; cancel ctx to stop.
func (c *Client) Watch(ctx context.Context, f EventFilter) (*connect.ServerStreamForClient[apipb.SubscribeResponse], error) {
	s, err := c.rpc.Subscribe(ctx, connect.NewRequest(&apipb.SubscribeRequest{
		FromHeight: f.FromHeight, IncludeTxs: true, Contract: f.Contract, Event: f.Event, Account: f.Account,
	}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return s, nil
}
