package governance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/types"
)

// The types of a change and of what it changes are defined with the calls
// that carry them, in govcall, so that clients need not link the contract.
type (
	// Change is one configuration change (govcall.Change).
	Change = govcall.Change
	// Params are the chain parameters (govcall.Params).
	Params = govcall.Params
	// Node is a validator (govcall.Node).
	Node = govcall.Node
)

// Kinds of change (see govcall).
const (
	KindAddOrg        = govcall.KindAddOrg
	KindRemoveOrg     = govcall.KindRemoveOrg
	KindAddCA         = govcall.KindAddCA
	KindRemoveCA      = govcall.KindRemoveCA
	KindRevoke        = govcall.KindRevoke
	KindFreeze        = govcall.KindFreeze
	KindUnfreeze      = govcall.KindUnfreeze
	KindSetPolicy     = govcall.KindSetPolicy
	KindSetGovernance = govcall.KindSetGovernance
	KindSetParams     = govcall.KindSetParams
	KindAddNode       = govcall.KindAddNode
	KindRemoveNode    = govcall.KindRemoveNode
	KindContract      = govcall.KindContract
)

// Errors a governance call fails with, wrapped with detail.
var (
	ErrBadChange   = govcall.ErrBadChange
	ErrBadParams   = govcall.ErrBadParams
	ErrBadArgs     = govcall.ErrBadArgs
	ErrNoProposal  = govcall.ErrNoProposal
	ErrReplay      = errors.New("proposal id already used")
	ErrClosed      = errors.New("proposal closed")
	ErrDuplicate   = errors.New("already voted")
	ErrNotAdmin    = errors.New("not an admin of the organisation")
	ErrNotMember   = errors.New("not a member")
	ErrRegistered  = errors.New("already registered")
	ErrNotIdentity = errors.New("chain has no identity configuration")
)

// State is what governance changes: the identity configuration, the chain
// parameters and the validator list.
type State struct {
	Config identity.Config
	Params Params
	Nodes  []Node // sorted by ID
}

// Apply applies change c to s and validates the result. On error s is
// left as it was.
func (s *State) Apply(c *Change) error {
	w := s.clone()
	if err := apply(c, &w); err != nil {
		return err
	}
	*s = w
	return nil
}

// clone copies every list Apply may change in place, so that changing the
// copy leaves s alone.
func (s *State) clone() State {
	w := State{Config: s.Config, Params: s.Params, Nodes: slices.Clone(s.Nodes)}
	w.Config.Orgs = slices.Clone(s.Config.Orgs)
	w.Config.Revoked = slices.Clone(s.Config.Revoked)
	w.Config.Frozen = slices.Clone(s.Config.Frozen)
	w.Config.Methods = slices.Clone(s.Config.Methods)
	return w
}

func apply(c *Change, s *State) error {
	if err := c.Validate(); err != nil {
		return err
	}
	cfg := &s.Config
	org := func() (*identity.Org, error) {
		for i := range cfg.Orgs {
			if cfg.Orgs[i].ID == c.Org {
				return &cfg.Orgs[i], nil
			}
		}
		return nil, fmt.Errorf("%w: %w %q", ErrBadChange, identity.ErrUnknownOrg, c.Org)
	}
	ca := func() ([]byte, error) {
		cert, err := identity.ParseCertPEM([]byte(c.CAPEM))
		if err != nil {
			return nil, fmt.Errorf("%w: ca_pem: %w", ErrBadChange, err)
		}
		return cert.Raw, nil
	}
	switch c.Kind {
	case KindAddOrg:
		if _, err := org(); err == nil {
			return fmt.Errorf("%w: organisation %s already exists", ErrBadChange, c.Org)
		}
		sch, err := crypto.ParseScheme(c.Scheme)
		if err != nil {
			return fmt.Errorf("%w: scheme: %v", ErrBadChange, err)
		}
		der, err := ca()
		if err != nil {
			return err
		}
		cfg.Orgs = append(cfg.Orgs, identity.Org{ID: c.Org, Scheme: sch, CAs: [][]byte{der}})
	case KindRemoveOrg:
		if _, err := org(); err != nil {
			return err
		}
		if len(cfg.Orgs) == 1 {
			return fmt.Errorf("%w: %s is the last organisation", ErrBadChange, c.Org)
		}
		cfg.Orgs = slices.DeleteFunc(cfg.Orgs, func(o identity.Org) bool { return o.ID == c.Org })
		cfg.Revoked = slices.DeleteFunc(cfg.Revoked, func(r identity.Revocation) bool { return r.Org == c.Org })
		s.Nodes = slices.DeleteFunc(s.Nodes, func(n Node) bool { return n.Org == c.Org })
	case KindAddCA, KindRemoveCA:
		o, err := org()
		if err != nil {
			return err
		}
		der, err := ca()
		if err != nil {
			return err
		}
		i := slices.IndexFunc(o.CAs, func(b []byte) bool { return bytes.Equal(b, der) })
		if c.Kind == KindAddCA {
			if i >= 0 {
				return fmt.Errorf("%w: %s already trusts this CA", ErrBadChange, c.Org)
			}
			o.CAs = append(slices.Clone(o.CAs), der)
		} else {
			if i < 0 {
				return fmt.Errorf("%w: %s does not list this CA", ErrBadChange, c.Org)
			}
			o.CAs = slices.Delete(slices.Clone(o.CAs), i, i+1)
		}
	case KindRevoke:
		if _, err := org(); err != nil {
			return err
		}
		r := identity.Revocation{Org: c.Org, Serial: c.Serial}
		if !slices.Contains(cfg.Revoked, r) {
			cfg.Revoked = append(cfg.Revoked, r)
		}
	case KindFreeze, KindUnfreeze:
		a, _ := types.ParseAddress(c.Address)
		cfg.Frozen = slices.DeleteFunc(cfg.Frozen, func(b types.Address) bool { return a == b })
		if c.Kind == KindFreeze {
			cfg.Frozen = append(cfg.Frozen, a)
		}
	case KindSetPolicy:
		cfg.Methods = slices.DeleteFunc(cfg.Methods, func(m identity.MethodPolicy) bool { return m.Method == c.Method })
		if c.Policy != "" {
			p, err := identity.ParsePolicy(c.Policy)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrBadChange, err)
			}
			cfg.Methods = append(cfg.Methods, identity.MethodPolicy{Method: c.Method, Policy: p})
		}
	case KindSetGovernance:
		p, err := identity.ParsePolicy(c.Policy)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadChange, err)
		}
		cfg.Governance = p
	case KindSetParams:
		s.Params = *c.Params
	case KindAddNode:
		if slices.ContainsFunc(s.Nodes, func(n Node) bool { return n.ID == c.Node.ID }) {
			return fmt.Errorf("%w: node %s already exists", ErrBadChange, c.Node.ID)
		}
		if c.Node.Org != "" && !slices.ContainsFunc(cfg.Orgs, func(o identity.Org) bool { return o.ID == c.Node.Org }) {
			return fmt.Errorf("%w: node %s: %w %q", ErrBadChange, c.Node.ID, identity.ErrUnknownOrg, c.Node.Org)
		}
		s.Nodes = append(s.Nodes, *c.Node)
		slices.SortFunc(s.Nodes, func(a, b Node) int { return strings.Compare(a.ID, b.ID) })
	case KindRemoveNode:
		n := len(s.Nodes)
		s.Nodes = slices.DeleteFunc(s.Nodes, func(x Node) bool { return x.ID == c.Node.ID })
		if len(s.Nodes) == n {
			return fmt.Errorf("%w: no node %s", ErrBadChange, c.Node.ID)
		}
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: the configuration it leads to is invalid: %w", ErrBadChange, err)
	}
	return nil
}
