package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	paypb "github.com/accord-chain/accord/contracts/pay/pb"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/types"
)

// Merchant listing: the default and largest page.
const (
	defaultMerchantLimit = 100
	maxMerchantLimit     = 1000
)

// GetMerchant implements the service.
func (s *Server) GetMerchant(_ context.Context, req *connect.Request[pb.GetMerchantRequest]) (*connect.Response[pb.Merchant], error) {
	if err := paycall.CheckID(req.Msg.Id); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	v := s.d.Store.View()
	defer v.Close()
	m, err := pay.GetMerchant(v.State(), req.Msg.Id)
	if err != nil {
		return nil, internal(err)
	}
	if m == nil {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("%w: no merchant %q", pay.ErrUnknownMerchant, req.Msg.Id))
	}
	return connect.NewResponse(merchantView(m)), nil
}

func merchantView(m *paypb.Merchant) *pb.Merchant {
	return &pb.Merchant{Id: m.Id, Name: m.Name, Owner: hex.EncodeToString(m.Owner), CreatedHeight: m.CreatedHeight}
}

// ListMerchants implements the service.
func (s *Server) ListMerchants(_ context.Context, req *connect.Request[pb.ListMerchantsRequest]) (*connect.Response[pb.ListMerchantsResponse], error) {
	limit, err := pageLimit(req.Msg.Limit, defaultMerchantLimit, maxMerchantLimit)
	if err != nil {
		return nil, err
	}
	lower, upper := pay.MerchantBounds()
	if a := req.Msg.After; a != "" {
		if err := paycall.CheckID(a); err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("after: %w", err))
		}
		lower = append(pay.MerchantKey(a), 0)
	}
	v := s.d.Store.View()
	defer v.Close()
	out := &pb.ListMerchantsResponse{}
	err = v.Scan(lower, upper, func(_, val []byte) error {
		if len(out.Merchants) == limit {
			out.Next = out.Merchants[limit-1].Id
			return store.ErrStopScan
		}
		m, err := pay.DecodeMerchant(val)
		if err != nil {
			return err
		}
		out.Merchants = append(out.Merchants, merchantView(m))
		return nil
	})
	if err != nil {
		return nil, internal(err)
	}
	return connect.NewResponse(out), nil
}

// GetStatement implements the service.
func (s *Server) GetStatement(_ context.Context, req *connect.Request[pb.GetStatementRequest]) (*connect.Response[pb.Statement], error) {
	m := req.Msg
	if err := paycall.CheckID(m.Merchant); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	day, err := paycall.ParseDay(m.Day)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	v := s.d.Store.View()
	defer v.Close()
	st := v.State()
	if mc, err := pay.GetMerchant(st, m.Merchant); err != nil {
		return nil, internal(err)
	} else if mc == nil {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("%w: no merchant %q", pay.ErrUnknownMerchant, m.Merchant))
	}
	var entries []pay.EntryAt
	lower, upper := pay.EntryBounds(m.Merchant, day)
	err = v.Scan(lower, upper, func(k, val []byte) error {
		e, err := pay.DecodeEntry(k, val)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, internal(err)
	}
	ps, rs, err := pay.DayTotals(entries)
	if err != nil {
		return nil, internal(err)
	}
	out := &pb.Statement{
		Merchant: m.Merchant, Day: paycall.FormatDay(day), Height: v.Tip().Height,
		Payments: &pb.Totals{Count: ps.Count, Sum: ps.Sum},
		Refunds:  &pb.Totals{Count: rs.Count, Sum: rs.Sum},
		Net:      int64(ps.Sum - rs.Sum),
	}
	if len(entries) > 0 {
		out.MerkleRoot = pay.Root(s.d.Hash, entries).String()
	}
	if m.List {
		out.Entries = make([]*pb.StatementEntry, len(entries))
		for i, e := range entries {
			se := &pb.StatementEntry{Kind: "payment", Id: types.Hash(e.Id).String(), Amount: e.Amount, Height: e.Height, Index: e.Index}
			if e.Kind == pay.KindRefund {
				se.Kind, se.Payment = "refund", hex.EncodeToString(e.Payment)
			}
			out.Entries[i] = se
		}
	}
	return connect.NewResponse(out), nil
}

// GetPaymentRequest implements the service.
func (s *Server) GetPaymentRequest(_ context.Context, req *connect.Request[pb.GetPaymentRequestRequest]) (*connect.Response[pb.PaymentRequest], error) {
	id, err := types.ParseHash(req.Msg.Id)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("id: %w", err))
	}
	v := s.d.Store.View()
	defer v.Close()
	r, err := pay.GetRequest(v.State(), id)
	if err != nil {
		return nil, internal(err)
	}
	if r == nil {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("%w: no request %s", pay.ErrUnknownRequest, id))
	}
	out := &pb.PaymentRequest{Id: id.String(), Merchant: r.Merchant, Amount: r.Amount, ExpiresAt: r.ExpiresAt, Memo: r.Memo,
		Status: pay.RequestStatus(r, v.Tip().Time), CreatedHeight: r.CreatedHeight}
	if len(r.Payment) == len(id) {
		out.Payment = types.Hash(r.Payment).String()
	}
	return connect.NewResponse(out), nil
}

// GetPayment implements the service.
func (s *Server) GetPayment(_ context.Context, req *connect.Request[pb.GetPaymentRequest]) (*connect.Response[pb.Payment], error) {
	id, err := types.ParseHash(req.Msg.Id)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("id: %w", err))
	}
	notFound := connect.NewError(connect.CodeNotFound, fmt.Errorf("%w: no payment %s", pay.ErrUnknownPayment, id))
	v := s.d.Store.View()
	defer v.Close()
	// A payment is recorded only as its statement entry, whose key is
	// the payment's place: found from its transaction.
	height, index, err := s.d.Store.TxLocation(store.Hash(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, internal(err)
	}
	raw, err := s.d.Store.BlockByHeight(height)
	if err != nil {
		return nil, internal(err)
	}
	hb, txs, err := types.SplitBlock(raw)
	if err != nil || int(index) >= len(txs) {
		return nil, internal(fmt.Errorf("block %d: index %d: %v", height, index, err))
	}
	hdr, err := types.DecodeHeader(hb)
	if err != nil {
		return nil, internal(err)
	}
	tx, err := types.DecodeTx(txs[index], s.d.Hash)
	if err != nil {
		return nil, internal(err)
	}
	at, ok := pay.PaymentPlace(tx.Body.Contract, tx.Body.Method, tx.Body.Args, height, hdr.Time, index)
	if !ok {
		return nil, notFound
	}
	p, err := pay.GetPayment(v.State(), id, at)
	if err != nil {
		return nil, internal(err)
	}
	if p == nil {
		return nil, notFound
	}
	out := &pb.Payment{Id: id.String(), Merchant: p.Merchant, Payer: hex.EncodeToString(p.Payer), Amount: p.Amount,
		Refunded: p.Refunded, Height: p.Height, Time: hdr.Time}
	if len(p.Request) == len(id) {
		out.Request = types.Hash(p.Request).String()
	}
	return connect.NewResponse(out), nil
}
