// Package api serves the node API: gRPC, gRPC-Web and HTTP/JSON (the
// Connect protocol) from the one schema in proto/accord/api/v1, plus
// /metrics and /healthz. It translates between the wire and the node's
// parts; it must not hold chain state of its own or decide validity beyond
// decoding input.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/explorer"
	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/api/pb/pbconnect"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
	typespb "github.com/accord-chain/accord/types/pb"
)

// MaxBatch is the most transactions one SubmitTxs call may carry.
const MaxBatch = 10_000

// Deps are the node parts the API reads and writes.
type Deps struct {
	ChainID   string
	Hash      crypto.Hash
	Issuer    types.Address
	NodeID    string
	Consensus string
	Pool      *txpool.Pool
	Store     *store.Store
	Hub       *Hub
	// Network is nil on a single node.
	Network Network
	// Clock judges how old a signed membership change is; nil is
	// clock.Real.
	Clock clock.Clock
	// Exec runs QueryContract's read-only calls; nil: not served.
	Exec *execution.Executor
}

// Server implements pbconnect.NodeServiceHandler.
type Server struct {
	d Deps
	// loader reads the identity configuration, to show who signed a
	// transaction by certificate (bindSender).
	loaderOnce sync.Once
	loader     *governance.Loader
}

var _ pbconnect.NodeServiceHandler = (*Server)(nil)

// New returns a server over d.
func New(d Deps) *Server {
	if d.Clock == nil {
		d.Clock = clock.Real
	}
	return &Server{d: d}
}

// Handler mounts the service, /healthz and the given metrics handler on one
// mux. /healthz names the chain, which a client needs before it can make a
// member proof (see Members).
func (s *Server) Handler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	// Compressing small answers costs the node more CPU than it saves on
	// loopback or a LAN; large ones (blocks, subscriptions) still compress.
	opts := append(jsonCodecs(), connect.WithReadMaxBytes(MaxBodyBytes), connect.WithCompressMinBytes(64<<10))
	path, h := pbconnect.NewNodeServiceHandler(s, opts...)
	mux.Handle(path, h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		tip := s.d.Store.Tip()
		_ = json.NewEncoder(w).Encode(struct {
			Status  string `json:"status"`
			Height  uint64 `json:"height"`
			ChainID string `json:"chain_id"`
		}{"ok", tip.Height, s.d.ChainID})
	})
	mux.HandleFunc("GET /v1/evidence", s.serveEvidence)
	mux.Handle(explorer.Path, explorer.Handler())
	if metrics != nil {
		mux.Handle("/metrics", metrics)
	}
	return mux
}

// SubmitTx implements the service.
func (s *Server) SubmitTx(ctx context.Context, req *connect.Request[pb.SubmitTxRequest]) (*connect.Response[pb.SubmitTxResponse], error) {
	if len(req.Msg.Tx) == 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("tx is empty: send the encoded transaction in field tx"))
	}
	if err := s.available(); err != nil {
		return nil, err
	}
	r := s.d.Pool.Submit([][]byte{req.Msg.Tx})[0]
	if r.Err != nil {
		code, _ := Classify(r.Err)
		return nil, connect.NewError(code, r.Err)
	}
	if s.d.Network != nil {
		errs, err := s.d.Network.Forward(ctx, [][]byte{req.Msg.Tx})
		if err == nil {
			err = errs[0]
		}
		if err != nil {
			code, _ := Classify(err)
			return nil, connect.NewError(code, err)
		}
	}
	return connect.NewResponse(&pb.SubmitTxResponse{TxId: r.ID.String()}), nil
}

// SubmitTxs implements the service.
func (s *Server) SubmitTxs(ctx context.Context, req *connect.Request[pb.SubmitTxsRequest]) (*connect.Response[pb.SubmitTxsResponse], error) {
	n := len(req.Msg.Txs)
	if n == 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("txs is empty"))
	}
	if n > MaxBatch {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("batch of %d transactions exceeds %d", n, MaxBatch))
	}
	if err := batchSize(req.Msg.Txs); err != nil {
		return nil, err
	}
	if err := s.available(); err != nil {
		return nil, err
	}
	results := s.d.Pool.Submit(req.Msg.Txs)
	out := &pb.SubmitTxsResponse{Results: make([]*pb.SubmitResult, len(results))}
	if s.d.Network != nil {
		if err := s.forward(ctx, req.Msg.Txs, results); err != nil {
			return nil, err
		}
	}
	for i, r := range results {
		sr := &pb.SubmitResult{}
		if !r.ID.IsZero() {
			sr.TxId = r.ID.String()
		}
		if r.Err != nil {
			_, reason := Classify(r.Err)
			sr.Error, sr.Code = r.Err.Error(), reason
		}
		out.Results[i] = sr
	}
	return connect.NewResponse(out), nil
}

// forward sends the transactions this node admitted to the leader and
// puts the leader's verdicts into results.
func (s *Server) forward(ctx context.Context, raws [][]byte, results []txpool.Result) error {
	fwd := make([][]byte, 0, len(results))
	at := make([]int, 0, len(results))
	for i, r := range results {
		if r.Err == nil {
			fwd = append(fwd, raws[i])
			at = append(at, i)
		}
	}
	if len(fwd) == 0 {
		return nil
	}
	errs, err := s.d.Network.Forward(ctx, fwd)
	if err != nil {
		code, _ := Classify(err)
		return connect.NewError(code, err)
	}
	for k, i := range at {
		results[i].Err = errs[k]
	}
	return nil
}

// available refuses writes on a node that cannot get them committed.
func (s *Server) available() error {
	if s.d.Network == nil {
		return nil
	}
	if err := s.d.Network.Available(); err != nil {
		return connect.NewError(connect.CodeUnavailable, err)
	}
	return nil
}

// GetTx implements the service.
func (s *Server) GetTx(_ context.Context, req *connect.Request[pb.GetTxRequest]) (*connect.Response[pb.GetTxResponse], error) {
	id, err := types.ParseHash(req.Msg.TxId)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("tx_id: %w", err))
	}
	height, index, err := s.d.Store.TxLocation(store.Hash(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("transaction %s is not in a committed block", id))
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
	tx, err := types.DecodeTx(txs[index], s.d.Hash)
	if err != nil {
		return nil, internal(err)
	}
	if hdr, err := types.DecodeHeader(hb); err == nil {
		s.bindSender(tx, hdr.Time)
	}
	rb, err := s.d.Store.Receipt(height, index)
	if err != nil {
		return nil, internal(err)
	}
	receipt, err := types.DecodeReceipt(rb)
	if err != nil {
		return nil, internal(err)
	}
	return connect.NewResponse(&pb.GetTxResponse{
		Tx:        TxView(tx),
		Receipt:   receipt,
		Height:    height,
		Index:     index,
		BlockHash: types.Hash(s.d.Hash.Sum(hb)).String(),
	}), nil
}

// TxView renders a transaction for readers.
func TxView(tx *types.Tx) *pb.TxView {
	return &pb.TxView{
		TxId:      tx.ID.String(),
		ChainId:   tx.Body.ChainId,
		Sender:    tx.Sender.String(),
		Scheme:    tx.Scheme.String(),
		Nonce:     tx.Body.Nonce,
		ExpiresAt: tx.Body.ExpiresAt,
		Contract:  tx.Body.Contract,
		Method:    tx.Body.Method,
		ArgsJson:  describeArgs(tx.Body.Contract, tx.Body.Method, tx.Body.Args),
		Raw:       tx.Raw,
	}
}

// GetBlock implements the service.
func (s *Server) GetBlock(_ context.Context, req *connect.Request[pb.GetBlockRequest]) (*connect.Response[pb.GetBlockResponse], error) {
	m := req.Msg
	if err := oneSelector(m); err != nil {
		return nil, err
	}
	var (
		raw    []byte
		height uint64
		err    error
	)
	switch {
	case m.Latest:
		height = s.d.Store.Tip().Height
		raw, err = s.d.Store.BlockByHeight(height)
	case m.Hash != "":
		h, perr := types.ParseHash(m.Hash)
		if perr != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("hash: %w", perr))
		}
		raw, height, err = s.d.Store.BlockByHash(store.Hash(h))
	case m.Height > 0:
		height = m.Height
		raw, err = s.d.Store.BlockByHeight(height)
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("give a height of 1 or more, a hash, or latest"))
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && raw == nil) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("no block %s (the chain is at height %d)", blockName(m), s.d.Store.Tip().Height))
	}
	if err != nil {
		return nil, internal(err)
	}
	hb, txs, err := types.SplitBlock(raw)
	if err != nil {
		return nil, internal(err)
	}
	hdr, err := types.DecodeHeader(hb)
	if err != nil {
		return nil, internal(err)
	}
	out := &pb.GetBlockResponse{Header: HeaderView(hdr, types.Hash(s.d.Hash.Sum(hb))), TxIds: make([]string, len(txs))}
	for i, t := range txs {
		id, err := types.TxID(t, s.d.Hash)
		if err != nil {
			return nil, internal(err)
		}
		out.TxIds[i] = id.String()
	}
	rbs, err := s.d.Store.Receipts(height)
	if err != nil {
		return nil, internal(err)
	}
	for _, rb := range rbs {
		r, err := types.DecodeReceipt(rb)
		if err != nil {
			return nil, internal(err)
		}
		out.Receipts = append(out.Receipts, r)
	}
	return connect.NewResponse(out), nil
}

// oneSelector refuses a GetBlock request that names a block more than one
// way: answering by one selector and ignoring the other would hand the
// client a block it may not have meant.
func oneSelector(m *pb.GetBlockRequest) error {
	var given []string
	if m.Height > 0 {
		given = append(given, "height")
	}
	if m.Hash != "" {
		given = append(given, "hash")
	}
	if m.Latest {
		given = append(given, "latest")
	}
	if len(given) > 1 {
		return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("give exactly one of height, hash or latest; this request gives %s", strings.Join(given, " and ")))
	}
	return nil
}

func blockName(m *pb.GetBlockRequest) string {
	switch {
	case m.Latest:
		return "latest"
	case m.Hash != "":
		return "with hash " + m.Hash
	}
	return "at height " + strconv.FormatUint(m.Height, 10)
}

// HeaderView renders a header for readers.
func HeaderView(h *typespb.Header, hash types.Hash) *pb.HeaderView {
	return &pb.HeaderView{
		Version:      h.Version,
		ChainId:      h.ChainId,
		Height:       h.Height,
		Time:         h.Time,
		Hash:         hash.String(),
		PrevHash:     hexOf(h.PrevHash),
		TxRoot:       hexOf(h.TxRoot),
		WriteSetHash: hexOf(h.WriteSetHash),
		StateHash:    hexOf(h.StateHash),
		ReceiptRoot:  hexOf(h.ReceiptRoot),
		TxCount:      h.TxCount,
		Proposer:     hexOf(h.Proposer),
	}
}

// GetAccount implements the service.
func (s *Server) GetAccount(_ context.Context, req *connect.Request[pb.GetAccountRequest]) (*connect.Response[pb.GetAccountResponse], error) {
	addr, err := types.ParseAddress(req.Msg.Address)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("address: %w", err))
	}
	v := s.d.Store.View()
	defer v.Close()
	sr := v.State()
	bal, err := token.Balance(sr, addr)
	if err != nil {
		return nil, internal(err)
	}
	nonce, err := execution.Nonce(sr, addr)
	if err != nil {
		return nil, internal(err)
	}
	next := nonce
	if pooled, ok := s.d.Pool.NextNonce(addr); ok && pooled > next {
		next = pooled
	}
	return connect.NewResponse(&pb.GetAccountResponse{Address: addr.String(), Balance: bal, Nonce: nonce, Height: v.Tip().Height, NextNonce: next}), nil
}

// Status implements the service.
func (s *Server) Status(context.Context, *connect.Request[pb.StatusRequest]) (*connect.Response[pb.StatusResponse], error) {
	tip := s.d.Store.Tip()
	var (
		leader  string
		term    uint64
		peers   []*pb.PeerStatus
		members []*pb.Member
		maxID   uint64
		round   uint64
		vals    []*pb.ValidatorStatus
	)
	if s.d.Network != nil {
		leader, term = s.d.Network.Leader()
		peers = s.d.Network.Peers()
		members, maxID = s.d.Network.Members()
	}
	if b, ok := s.d.Network.(BFTNetwork); ok {
		round, vals = b.BFTStatus()
	}
	return connect.NewResponse(&pb.StatusResponse{
		ChainId:       s.d.ChainID,
		Height:        tip.Height,
		LastBlockHash: types.Hash(tip.BlockHash).String(),
		WriteSetHash:  types.Hash(tip.WriteSetHash).String(),
		StateHash:     types.Hash(tip.StateHash).String(),
		Hash:          s.d.Hash.String(),
		NodeId:        s.d.NodeID,
		Consensus:     s.d.Consensus,
		PoolSize:      uint64(s.d.Pool.Len()),
		Issuer:        s.d.Issuer.String(),
		LastBlockTime: tip.Time,
		Leader:        leader,
		Term:          term,
		Peers:         peers,
		Members:       members,
		MaxRaftId:     maxID,
		Round:         round,
		Validators:    vals,
	}), nil
}

// Subscribe implements the service: it replays committed blocks from
// from_height, then follows new ones.
func (s *Server) Subscribe(ctx context.Context, req *connect.Request[pb.SubscribeRequest], stream *connect.ServerStream[pb.SubscribeResponse]) error {
	f, err := newEventFilter(req.Msg)
	if err != nil {
		return err
	}
	sub := s.d.Hub.Subscribe(1024)
	defer s.d.Hub.Unsubscribe(sub)
	// Send the headers now: a client may wait for them to know that every
	// block committed from here on will reach it, before it sends a
	// transaction.
	if err := stream.Send(nil); err != nil {
		return err
	}
	next := req.Msg.FromHeight
	tip := s.d.Store.Tip().Height
	if next == 0 {
		next = tip + 1
	}
	for ; next <= tip; next++ {
		c, err := s.loadCommitted(next)
		if err != nil {
			return internal(err)
		}
		if err := s.send(stream, c, req.Msg, f); err != nil {
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// The client's deadline (Connect-Timeout-Ms, grpc-timeout):
				// say so, rather than end as if the stream were complete.
				return connect.NewError(connect.CodeDeadlineExceeded, errors.New("the subscription's deadline passed"))
			}
			return nil
		case c, ok := <-sub.C:
			if !ok {
				return connect.NewError(connect.CodeResourceExhausted, errors.New("subscriber fell too far behind; resubscribe from the last height received"))
			}
			h := c.Header.Height
			if h < next {
				continue
			}
			for ; next < h; next++ { // blocks committed between the replay and the subscription
				old, err := s.loadCommitted(next)
				if err != nil {
					return internal(err)
				}
				if err := s.send(stream, old, req.Msg, f); err != nil {
					return err
				}
			}
			if err := s.send(stream, c, req.Msg, f); err != nil {
				return err
			}
			next = h + 1
		}
	}
}

func (s *Server) loadCommitted(height uint64) (*Committed, error) {
	raw, err := s.d.Store.BlockByHeight(height)
	if err != nil {
		return nil, err
	}
	hb, txs, err := types.SplitBlock(raw)
	if err != nil {
		return nil, err
	}
	hdr, err := types.DecodeHeader(hb)
	if err != nil {
		return nil, err
	}
	c := &Committed{Header: hdr, Hash: types.Hash(s.d.Hash.Sum(hb)), TxIDs: make([]types.Hash, len(txs))}
	for i, t := range txs {
		if c.TxIDs[i], err = types.TxID(t, s.d.Hash); err != nil {
			return nil, err
		}
	}
	rbs, err := s.d.Store.Receipts(height)
	if err != nil {
		return nil, err
	}
	for _, rb := range rbs {
		r, err := types.DecodeReceipt(rb)
		if err != nil {
			return nil, err
		}
		c.Receipts = append(c.Receipts, r)
	}
	return c, nil
}

func subscribeResponse(c *Committed, withTxs bool) *pb.SubscribeResponse {
	out := &pb.SubscribeResponse{Header: HeaderView(c.Header, c.Hash)}
	if withTxs {
		out.Results = make([]*pb.TxResult, len(c.TxIDs))
		for i, id := range c.TxIDs {
			out.Results[i] = &pb.TxResult{TxId: id.String(), Index: uint32(i), Receipt: c.Receipts[i]}
		}
	}
	return out
}

func hexOf(b []byte) string { return fmt.Sprintf("%x", b) }

func internal(err error) error { return connect.NewError(connect.CodeInternal, err) }
