package genesis

import (
	"encoding/hex"
	"fmt"

	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
)

// Identity is the optional "identity" section of genesis.json. A
// chain with it is permissioned: every signer is a member of an
// organisation with a role, method policies decide who calls what, and
// the configuration changes only through governance (contract "gov"). A
// chain without it is open, as `accord dev` makes.
type Identity struct {
	// Mode is "cert" (transactions carry the signer's certificate, or its
	// hash once registered) or "key" (admins register members' keys).
	Mode string `json:"mode"`
	Orgs []Org  `json:"orgs"`
	// Governance is the policy a configuration change needs, as
	// identity.ParsePolicy reads it; default "MAJORITY(admin)".
	Governance string `json:"governance,omitempty"`
	// Policies are method policies, e.g. token.mint → "SET(1 of org1; admin)".
	// A permissioned chain must give token.mint and token.burn one.
	Policies []Policy           `json:"policies,omitempty"`
	Params   *governance.Params `json:"params,omitempty"`
	Nodes    []governance.Node  `json:"nodes,omitempty"`
	// Keys are the members registered at genesis in key mode: at least one
	// admin, who registers the others.
	Keys []Key `json:"keys,omitempty"`
}

// Org is an organisation and its trust roots.
type Org struct {
	ID     string   `json:"id"`
	Scheme string   `json:"scheme"`  // sm2 or p256
	CAs    []string `json:"ca_pems"` // CA certificates, PEM
}

// Policy is one method policy.
type Policy struct {
	Method string `json:"method"`
	Policy string `json:"policy"`
}

// Key is a member registered by key at genesis (key mode).
type Key struct {
	Org       string `json:"org"`
	Role      string `json:"role"`
	Name      string `json:"name"`
	Scheme    string `json:"scheme"`
	PublicKey string `json:"public_key"` // hex
}

// State converts the section into the governance contract's genesis
// state, validating it.
func (gi *Identity) State() (governance.State, []identity.Key, error) {
	var s governance.State
	mode, err := identity.ParseMode(gi.Mode)
	if err != nil {
		return s, nil, err
	}
	s.Config.Mode = mode
	for i, o := range gi.Orgs {
		sch, err := crypto.ParseScheme(o.Scheme)
		if err != nil {
			return s, nil, fmt.Errorf("orgs[%d].scheme: %v", i, err)
		}
		org := identity.Org{ID: o.ID, Scheme: sch}
		for j, p := range o.CAs {
			c, err := identity.ParseCertPEM([]byte(p))
			if err != nil {
				return s, nil, fmt.Errorf("orgs[%d].ca_pems[%d]: %w", i, j, err)
			}
			org.CAs = append(org.CAs, c.Raw)
		}
		s.Config.Orgs = append(s.Config.Orgs, org)
	}
	if gi.Governance != "" {
		if s.Config.Governance, err = identity.ParsePolicy(gi.Governance); err != nil {
			return s, nil, fmt.Errorf("governance: %w", err)
		}
	}
	for i, p := range gi.Policies {
		pol, err := identity.ParsePolicy(p.Policy)
		if err != nil {
			return s, nil, fmt.Errorf("policies[%d]: %w", i, err)
		}
		s.Config.Methods = append(s.Config.Methods, identity.MethodPolicy{Method: p.Method, Policy: pol})
	}
	s.Config.EnsureDefaults()
	if err := s.Config.Validate(); err != nil {
		return s, nil, err
	}
	if gi.Params != nil {
		s.Params = *gi.Params
	}
	s.Nodes = gi.Nodes
	var keys []identity.Key
	for i, k := range gi.Keys {
		role, err := identity.ParseRole(k.Role)
		if err != nil {
			return s, nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		sch, err := crypto.ParseScheme(k.Scheme)
		if err != nil {
			return s, nil, fmt.Errorf("keys[%d].scheme: %v", i, err)
		}
		pub, err := hex.DecodeString(k.PublicKey)
		if err != nil {
			return s, nil, fmt.Errorf("keys[%d].public_key: %v", i, err)
		}
		keys = append(keys, identity.Key{Org: k.Org, Role: role, Name: k.Name, Scheme: sch, PublicKey: pub})
	}
	if mode == identity.CertMode && len(keys) > 0 {
		return s, nil, fmt.Errorf("keys are registered in key mode only; this chain is in cert mode")
	}
	reg, err := identity.NewRegistry(s.Config, crypto.SHA256, nil)
	if err != nil {
		return s, nil, err
	}
	for _, m := range []string{"token.mint", "token.burn"} {
		if _, ok := reg.Policy(m); !ok {
			return s, nil, fmt.Errorf("policies: %s needs a policy (e.g. \"SET(1 of %s; admin)\"), or every member could do it", m, reg.Orgs()[0])
		}
	}
	if _, err := governance.Genesis(s, keys); err != nil {
		return s, nil, err
	}
	return s, keys, nil
}

// validateIdentity checks the identity section, if any.
func (g *Doc) validateIdentity() error {
	if g.Identity == nil {
		return nil
	}
	if _, _, err := g.Identity.State(); err != nil {
		return fmt.Errorf("%w: identity: %v", ErrBad, err)
	}
	return nil
}
