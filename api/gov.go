package api

import (
	"context"
	"encoding/json"
	"fmt"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/identity"
)

// maxListedProposals bounds a GetProposal listing.
const maxListedProposals = 1000

// GetProposal implements the service.
func (s *Server) GetProposal(_ context.Context, req *connect.Request[pb.GetProposalRequest]) (*connect.Response[pb.GetProposalResponse], error) {
	v := s.d.Store.View()
	defer v.Close()
	st := v.State()
	if on, err := governance.Enabled(st); err != nil {
		return nil, internal(err)
	} else if !on {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("%w: this chain is open, it has no governance", governance.ErrNotIdentity))
	}
	next, err := governance.NextProposal(st)
	if err != nil {
		return nil, internal(err)
	}
	tip := v.Tip()
	out := &pb.GetProposalResponse{Height: tip.Height, NextId: next}
	lo, hi := req.Msg.Id, req.Msg.Id+1
	if req.Msg.Id == 0 {
		lo, hi = max(1, next-min(next, maxListedProposals)), next
	}
	for id := lo; id < hi; id++ {
		p, err := governance.GetProposal(st, id)
		if err != nil {
			return nil, internal(err)
		}
		if p == nil {
			if req.Msg.Id != 0 {
				return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("%w: %d (the next proposal is %d)", governance.ErrNoProposal, id, next))
			}
			continue
		}
		votes := 0
		if es, err := identity.DecodeEndorsements(p.Votes); err == nil {
			votes = len(es)
		}
		out.Proposals = append(out.Proposals, &pb.ProposalView{Id: p.ID, Change: p.Change, Deadline: p.Deadline, Proposer: p.Proposer,
			Created: p.Created, Executed: p.Executed, Status: p.Status(tip.Time), Votes: uint32(votes), ChangeJson: changeJSON(p.Change)})
	}
	return connect.NewResponse(out), nil
}

// changeJSON renders an encoded change for readers (the explorer); one
// this node cannot decode is left to the change bytes.
func changeJSON(b []byte) string {
	ch, err := govcall.DecodeChange(b)
	if err != nil {
		return ""
	}
	out, err := json.Marshal(ch)
	if err != nil {
		return ""
	}
	return string(out)
}
