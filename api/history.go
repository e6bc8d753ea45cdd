package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/types"
	typespb "github.com/accord-chain/accord/types/pb"
)

// Account history paging: the default and largest page.
const (
	defaultHistoryLimit = 50
	maxHistoryLimit     = 1000
)

// ErrBadCursor is returned for a paging cursor this node did not write.
var ErrBadCursor = errors.New("bad cursor")

// ListAccountTxs implements the service.
func (s *Server) ListAccountTxs(_ context.Context, req *connect.Request[pb.ListAccountTxsRequest]) (*connect.Response[pb.ListAccountTxsResponse], error) {
	m := req.Msg
	addr, err := types.ParseAddress(m.Account)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("account: %w", err))
	}
	limit, err := pageLimit(m.Limit, defaultHistoryLimit, maxHistoryLimit)
	if err != nil {
		return nil, err
	}
	before, err := ParseCursor(m.Before)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	items, next, err := s.d.Store.History(addr, before, limit)
	if err != nil {
		return nil, internal(err)
	}
	out := &pb.ListAccountTxsResponse{Txs: make([]*pb.AccountTx, len(items))}
	for i, it := range items {
		out.Txs[i] = &pb.AccountTx{TxId: types.Hash(it.TxID).String(), Height: it.Height, Index: it.Index,
			Contract: it.Contract, Method: it.Method, Status: StatusName(typespb.TxStatus(it.Status))}
	}
	if !next.IsZero() {
		out.Next = FormatCursor(next)
	}
	return connect.NewResponse(out), nil
}

// StatusName is a receipt status as the API and CLI print it: ok, failed
// or invalid.
func StatusName(s typespb.TxStatus) string {
	switch s {
	case typespb.TxStatus_TX_STATUS_OK:
		return "ok"
	case typespb.TxStatus_TX_STATUS_FAILED:
		return "failed"
	case typespb.TxStatus_TX_STATUS_INVALID:
		return "invalid"
	}
	return "unknown"
}

// FormatCursor writes a history cursor as HEIGHT.INDEX.
func FormatCursor(c store.Cursor) string {
	return strconv.FormatUint(c.Height, 10) + "." + strconv.FormatUint(uint64(c.Index), 10)
}

// ParseCursor reads a cursor written by FormatCursor; empty is the zero
// Cursor (the newest).
func ParseCursor(s string) (store.Cursor, error) {
	if s == "" {
		return store.Cursor{}, nil
	}
	h, i, ok := strings.Cut(s, ".")
	height, err1 := strconv.ParseUint(h, 10, 64)
	index, err2 := strconv.ParseUint(i, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return store.Cursor{}, fmt.Errorf("%w %q: pass the next value of an earlier answer (HEIGHT.INDEX)", ErrBadCursor, s)
	}
	return store.Cursor{Height: height, Index: uint32(index)}, nil
}

// pageLimit applies a listing's default and maximum.
func pageLimit(n uint32, def, most int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case int64(n) > int64(most):
		return 0, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("limit %d is over %d: page with the next cursor", n, most))
	}
	return int(n), nil
}
