package api

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/identity"
)

// GetConfig implements the service: the configuration governance keeps,
// read from one view of the last block. Certificates are summarised, not
// inlined: a reader wants to know which CAs there are, and a CA's PEM is
// a few kilobytes.
func (s *Server) GetConfig(_ context.Context, _ *connect.Request[pb.GetConfigRequest]) (*connect.Response[pb.GetConfigResponse], error) {
	v := s.d.Store.View()
	defer v.Close()
	out := &pb.GetConfigResponse{Height: v.Tip().Height, ChainId: s.d.ChainID, Hash: s.d.Hash.String(), Issuer: s.d.Issuer.String()}
	st, err := governance.ReadState(v.State())
	if errors.Is(err, governance.ErrNotIdentity) {
		return connect.NewResponse(out), nil // an open chain
	}
	if err != nil {
		return nil, internal(err)
	}
	c := st.Config
	out.Permissioned = true
	out.Mode = c.Mode.String()
	out.Governance = c.Governance.String()
	for _, o := range c.Orgs {
		ov := &pb.OrgView{Id: o.ID, Scheme: o.Scheme.String()}
		for _, der := range o.CAs {
			ca, err := identity.ParseCert(der)
			if err != nil {
				return nil, internal(err) // genesis and governance validated it
			}
			ov.Cas = append(ov.Cas, &pb.CAView{Subject: ca.Name, Serial: ca.Serial, NotAfter: ca.NotAfter, CertHash: ca.Hash(s.d.Hash).String()})
		}
		out.Orgs = append(out.Orgs, ov)
	}
	for _, m := range c.Methods {
		out.Policies = append(out.Policies, &pb.MethodPolicyView{Method: m.Method, Policy: m.Policy.String()})
	}
	out.Params = &pb.ChainParams{MaxBlockTxs: st.Params.MaxBlockTxs, MaxBlockBytes: st.Params.MaxBlockBytes, BlockIntervalMs: st.Params.BlockIntervalMs}
	for _, n := range st.Nodes {
		out.Nodes = append(out.Nodes, &pb.ValidatorView{Id: n.ID, Org: n.Org, Addr: n.Addr, Key: n.Key, HasCert: n.CertPEM != ""})
	}
	for _, a := range c.Frozen {
		out.Frozen = append(out.Frozen, a.String())
	}
	for _, r := range c.Revoked {
		out.Revoked = append(out.Revoked, &pb.RevokedView{Org: r.Org, Serial: r.Serial})
	}
	return connect.NewResponse(out), nil
}
