package governance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/types"
)

// Kinds of configuration change. The names are part of the wire format
// (Change.Kind) and of the per-kind policy names ("gov." + kind).
const (
	KindAddOrg        = "add_org"        // Org, Scheme, CAPEM
	KindRemoveOrg     = "remove_org"     // Org
	KindAddCA         = "add_ca"         // Org, CAPEM: a trust root
	KindRemoveCA      = "remove_ca"      // Org, CAPEM
	KindRevoke        = "revoke"         // Org, Serial
	KindFreeze        = "freeze"         // Address
	KindUnfreeze      = "unfreeze"       // Address
	KindSetPolicy     = "set_policy"     // Method, Policy ("" removes it)
	KindSetGovernance = "set_governance" // Policy
	KindSetParams     = "set_params"     // Params
	KindAddNode       = "add_node"       // Node
	KindRemoveNode    = "remove_node"    // Node.ID
)

var kinds = []string{KindAddOrg, KindRemoveOrg, KindAddCA, KindRemoveCA, KindRevoke, KindFreeze, KindUnfreeze,
	KindSetPolicy, KindSetGovernance, KindSetParams, KindAddNode, KindRemoveNode}

// Kinds returns the names of every kind of change.
func Kinds() []string { return slices.Clone(kinds) }

// MaxChangeSize is the largest encoded change, in bytes.
const MaxChangeSize = 16 << 10

// Change is one configuration change: what a proposal or an offline
// submission carries, and what its endorsers sign (through
// identity.Proposal.Payload). Its encoding is JSON in Go's field order
// with empty fields left out, so that endorsers can read what they sign;
// DecodeChange accepts only that encoding.
type Change struct {
	Kind    string  `json:"kind"`
	Org     string  `json:"org,omitempty"`
	Scheme  string  `json:"scheme,omitempty"` // add_org: sm2 or p256
	CAPEM   string  `json:"ca_pem,omitempty"` // add_org, add_ca, remove_ca: a CA certificate, PEM
	Serial  string  `json:"serial,omitempty"` // revoke: lower-case hex
	Address string  `json:"address,omitempty"`
	Method  string  `json:"method,omitempty"` // set_policy: contract.method or contract.*
	Policy  string  `json:"policy,omitempty"` // set_policy, set_governance: as identity.ParsePolicy reads
	Params  *Params `json:"params,omitempty"`
	Node    *Node   `json:"node,omitempty"`
}

// Params are chain parameters that governance sets and the node reads:
// its consensus engine cuts blocks with them. Zero means the node's own
// configured value.
type Params struct {
	MaxBlockTxs     uint64 `json:"max_block_txs,omitempty"`     // at most MaxParamBlockTxs
	MaxBlockBytes   uint64 `json:"max_block_bytes,omitempty"`   // MinParamBlockBytes to MaxParamBlockBytes
	BlockIntervalMs uint64 `json:"block_interval_ms,omitempty"` // 1 to MaxParamIntervalMs
}

// Bounds on Params: what every consensus engine can run with.
const (
	MaxParamBlockTxs   = 1_000_000
	MinParamBlockBytes = 1 << 10
	MaxParamBlockBytes = 64 << 20
	MaxParamIntervalMs = 10_000
)

// Validate checks that every non-zero parameter is within its bounds.
func (p Params) Validate() error {
	switch {
	case p.MaxBlockTxs > MaxParamBlockTxs:
		return fmt.Errorf("%w: max_block_txs %d: at most %d", ErrBadParams, p.MaxBlockTxs, MaxParamBlockTxs)
	case p.MaxBlockBytes != 0 && (p.MaxBlockBytes < MinParamBlockBytes || p.MaxBlockBytes > MaxParamBlockBytes):
		return fmt.Errorf("%w: max_block_bytes %d: want %d to %d, or 0 for the node's own", ErrBadParams, p.MaxBlockBytes, MinParamBlockBytes, MaxParamBlockBytes)
	case p.BlockIntervalMs > MaxParamIntervalMs:
		return fmt.Errorf("%w: block_interval_ms %d: at most %d (10 s)", ErrBadParams, p.BlockIntervalMs, MaxParamIntervalMs)
	}
	return nil
}

// Node is a validator of the consortium: the hook consensus reads to learn
// which nodes, of which organisation, may take part.
type Node struct {
	ID   string `json:"id"`
	Org  string `json:"org,omitempty"`
	Addr string `json:"addr,omitempty"` // host:port it serves peers on
	// Key is the node's public key (hex) or CertPEM its consensus
	// certificate; either may be empty until the transport needs it.
	Key     string `json:"key,omitempty"`
	CertPEM string `json:"cert_pem,omitempty"`
}

// Errors a governance call fails with, wrapped with detail.
var (
	ErrBadChange   = errors.New("bad change")
	ErrBadParams   = errors.New("bad chain parameters")
	ErrBadArgs     = errors.New("malformed arguments")
	ErrReplay      = errors.New("proposal id already used")
	ErrNoProposal  = errors.New("no such proposal")
	ErrClosed      = errors.New("proposal closed")
	ErrDuplicate   = errors.New("already voted")
	ErrNotAdmin    = errors.New("not an admin of the organisation")
	ErrNotMember   = errors.New("not a member")
	ErrRegistered  = errors.New("already registered")
	ErrNotIdentity = errors.New("chain has no identity configuration")
)

var nodeIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Encode returns the change's canonical encoding.
func (c *Change) Encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic("governance: encoding a change cannot fail: " + err.Error())
	}
	return b
}

// DecodeChange decodes a change encoded by Encode and checks its shape
// (Validate). Any other encoding of the same change is refused, so that
// one change has one digest to endorse.
func DecodeChange(b []byte) (*Change, error) {
	if len(b) > MaxChangeSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadChange, len(b), MaxChangeSize)
	}
	var c Change
	if err := strictJSON(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadChange, err)
	}
	if !bytes.Equal(c.Encode(), b) {
		return nil, fmt.Errorf("%w: not in canonical form (encode it with Change.Encode)", ErrBadChange)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

// Validate checks that the change has the fields its kind needs and no
// others. Whether it applies to a configuration is Apply's question.
func (c *Change) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadChange, c.Kind, fmt.Sprintf(format, args...))
	}
	has := map[string]bool{"org": c.Org != "", "scheme": c.Scheme != "", "ca_pem": c.CAPEM != "", "serial": c.Serial != "",
		"address": c.Address != "", "method": c.Method != "", "policy": c.Policy != "", "params": c.Params != nil, "node": c.Node != nil}
	var want []string
	switch c.Kind {
	case KindAddOrg:
		want = []string{"org", "scheme", "ca_pem"}
	case KindRemoveOrg:
		want = []string{"org"}
	case KindAddCA, KindRemoveCA:
		want = []string{"org", "ca_pem"}
	case KindRevoke:
		want = []string{"org", "serial"}
	case KindFreeze, KindUnfreeze:
		want = []string{"address"}
	case KindSetPolicy:
		want = []string{"method", "policy"}
		has["policy"] = true // an empty policy removes the method's
	case KindSetGovernance:
		want = []string{"policy"}
	case KindSetParams:
		want = []string{"params"}
	case KindAddNode, KindRemoveNode:
		want = []string{"node"}
	default:
		return fmt.Errorf("%w: kind %q (want one of %s)", ErrBadChange, c.Kind, strings.Join(kinds, ", "))
	}
	for _, f := range []string{"org", "scheme", "ca_pem", "serial", "address", "method", "policy", "params", "node"} {
		if w := slices.Contains(want, f); w != has[f] {
			if w {
				return bad("%s is required", f)
			}
			return bad("%s does not apply", f)
		}
	}
	if c.Org != "" && !identity.ValidOrgID(c.Org) {
		return bad("organisation id %q: use 1 to 64 letters, digits, '.', '_' or '-'", c.Org)
	}
	if c.Address != "" {
		if _, err := types.ParseAddress(c.Address); err != nil {
			return bad("address: %v", err)
		}
	}
	if c.Node != nil && !nodeIDRE.MatchString(c.Node.ID) {
		return bad("node id %q: use 1 to 64 letters, digits, '.', '_' or '-'", c.Node.ID)
	}
	if c.Params != nil {
		if err := c.Params.Validate(); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadChange, c.Kind, err)
		}
	}
	return nil
}

// PolicyName returns the name of the method policy that, when the
// configuration sets one, replaces the governance policy for this kind of
// change: "gov." + kind.
func (c *Change) PolicyName() string { return Name + "." + c.Kind }

// State is what governance changes: the identity configuration, the chain
// parameters and the validator list.
type State struct {
	Config identity.Config
	Params Params
	Nodes  []Node // sorted by ID
}

// Apply applies the change to s and validates the result. On error s is
// left as it was.
func (c *Change) Apply(s *State) error {
	w := s.clone()
	if err := c.apply(&w); err != nil {
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

func (c *Change) apply(s *State) error {
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
