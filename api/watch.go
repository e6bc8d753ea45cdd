package api

import (
	"fmt"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/types"
	typespb "github.com/accord-chain/accord/types/pb"
)

// eventFilter selects the events a subscription asked for: each field
// given must match. The node filters, so that a client watching one
// contract is not sent every block of a busy chain.
type eventFilter struct {
	contract, event string
	account         string // lower-case hex, as event attributes carry addresses
	addr            types.Address
}

// newEventFilter reads the request's filter; nil when it gives none.
func newEventFilter(m *pb.SubscribeRequest) (*eventFilter, error) {
	if m.Contract == "" && m.Event == "" && m.Account == "" {
		return nil, nil
	}
	f := &eventFilter{contract: m.Contract, event: m.Event}
	if m.Account != "" {
		a, err := types.ParseAddress(m.Account)
		if err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("account: %w", err))
		}
		f.addr, f.account = a, a.String()
	}
	return f, nil
}

// named reports whether ev is of the contract and name asked for.
func (f *eventFilter) named(ev *typespb.Event) bool {
	return (f.contract == "" || ev.Contract == f.contract) && (f.event == "" || ev.Name == f.event)
}

// mentions reports whether one of ev's attributes is the account.
func (f *eventFilter) mentions(ev *typespb.Event) bool {
	for _, a := range ev.Attributes {
		if a.Value == f.account {
			return true
		}
	}
	return false
}

// response is the subscription's message for block c: every result, or
// with a filter only the transactions with a matching event and only those
// events; nil when nothing in c matches.
func (s *Server) response(c *Committed, m *pb.SubscribeRequest, f *eventFilter) (*pb.SubscribeResponse, error) {
	if f == nil {
		return subscribeResponse(c, m.IncludeTxs), nil
	}
	var (
		out     *pb.SubscribeResponse
		senders []types.Address // read from the block only when the account filter needs them
	)
	for i, r := range c.Receipts {
		var evs []*typespb.Event
		for _, ev := range r.Events {
			if !f.named(ev) {
				continue
			}
			if f.account != "" && !f.mentions(ev) {
				if senders == nil {
					var err error
					if senders, err = s.senders(c.Header.Height); err != nil {
						return nil, err
					}
				}
				if senders[i] != f.addr {
					continue
				}
			}
			evs = append(evs, ev)
		}
		if len(evs) == 0 {
			continue
		}
		if out == nil {
			out = &pb.SubscribeResponse{Header: HeaderView(c.Header, c.Hash)}
		}
		// A new receipt: the block's own is shared by every subscriber.
		out.Results = append(out.Results, &pb.TxResult{TxId: c.TxIDs[i].String(), Index: uint32(i),
			Receipt: &typespb.Receipt{Status: r.Status, Message: r.Message, Events: evs}})
	}
	return out, nil
}

// senders returns the sender of each transaction of the committed block
// at height.
func (s *Server) senders(height uint64) ([]types.Address, error) {
	raw, err := s.d.Store.BlockByHeight(height)
	if err != nil {
		return nil, err
	}
	_, txs, err := types.SplitBlock(raw)
	if err != nil {
		return nil, err
	}
	out := make([]types.Address, len(txs))
	for i, t := range txs {
		tx, err := types.DecodeTx(t, s.d.Hash)
		if err != nil {
			return nil, err
		}
		out[i] = tx.Sender
	}
	return out, nil
}

// send sends block c's message, if it has one for this subscription.
func (s *Server) send(stream *connect.ServerStream[pb.SubscribeResponse], c *Committed, m *pb.SubscribeRequest, f *eventFilter) error {
	r, err := s.response(c, m, f)
	if err != nil {
		return internal(err)
	}
	if r == nil {
		return nil
	}
	return stream.Send(r)
}
