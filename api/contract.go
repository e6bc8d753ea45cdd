package api

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/usercontract"
	"github.com/accord-chain/accord/execution"
)

// MaxQueryArgs bounds a query's arguments, as a transaction's are.
const MaxQueryArgs = 16 << 10

// QueryContract implements the service: a read-only call on committed
// state.
func (s *Server) QueryContract(_ context.Context, req *connect.Request[pb.QueryContractRequest]) (*connect.Response[pb.QueryContractResponse], error) {
	if s.d.Exec == nil {
		return nil, connect.NewError(connect.CodeUnimplemented, errors.New("this node runs no user contracts"))
	}
	m := req.Msg
	if len(m.Args) > MaxQueryArgs {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("args of %d bytes: at most %d", len(m.Args), MaxQueryArgs))
	}
	if err := usercontract.ValidName(m.Name); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	v := s.d.Store.View()
	defer v.Close()
	tip := v.Tip()
	res, err := s.d.Exec.Simulate(usercontract.ViewState{V: v}, &execution.CallInput{Contract: m.Name, Method: m.Method, Args: m.Args,
		Height: tip.Height + 1, Time: tip.Time + 1, GasLimit: m.GasLimit})
	if err != nil {
		return nil, internal(err)
	}
	if res.Err != nil {
		code := connect.CodeFailedPrecondition
		if errors.Is(res.Err, execution.ErrUnknownContract) {
			code = connect.CodeNotFound
		}
		return nil, connect.NewError(code, res.Err)
	}
	return connect.NewResponse(&pb.QueryContractResponse{Height: tip.Height, Result: res.Return, GasUsed: res.GasUsed, Events: res.Events}), nil
}

func (s *Server) contractView(name string, m usercontract.Meta) *pb.ContractView {
	return &pb.ContractView{Name: name, Version: m.Version, CodeHash: fmt.Sprintf("%x", m.Code[:]), Status: m.Status.String(),
		Address: execution.ContractAddress(s.d.Hash, name).String()}
}

// ListContracts implements the service.
func (s *Server) ListContracts(_ context.Context, _ *connect.Request[pb.ListContractsRequest]) (*connect.Response[pb.ListContractsResponse], error) {
	v := s.d.Store.View()
	defer v.Close()
	names, metas, err := usercontract.List(v)
	if err != nil {
		return nil, internal(err)
	}
	out := &pb.ListContractsResponse{Height: v.Tip().Height}
	for i, n := range names {
		out.Contracts = append(out.Contracts, s.contractView(n, metas[i]))
	}
	return connect.NewResponse(out), nil
}

// GetContract implements the service.
func (s *Server) GetContract(_ context.Context, req *connect.Request[pb.GetContractRequest]) (*connect.Response[pb.ContractView], error) {
	if err := usercontract.ValidName(req.Msg.Name); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	v := s.d.Store.View()
	defer v.Close()
	m, ok, err := usercontract.ReadMeta(v.State(), req.Msg.Name)
	if err != nil {
		return nil, internal(err)
	}
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("%w: %q (accord contract list shows what is installed)", usercontract.ErrNotInstalled, req.Msg.Name))
	}
	return connect.NewResponse(s.contractView(req.Msg.Name, m)), nil
}
