package govcall

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	govpb "github.com/accord-chain/accord/contracts/governance/pb"
	"github.com/accord-chain/accord/contracts/usercontract/usercall"
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
	KindContract      = "contract"       // Contract: a user contract's lifecycle
)

var kinds = []string{KindAddOrg, KindRemoveOrg, KindAddCA, KindRemoveCA, KindRevoke, KindFreeze, KindUnfreeze,
	KindSetPolicy, KindSetGovernance, KindSetParams, KindAddNode, KindRemoveNode, KindContract}

// Kinds returns the names of every kind of change.
func Kinds() []string { return slices.Clone(kinds) }

// MaxChangeSize is the largest encoded change, in bytes.
const MaxChangeSize = 16 << 10

// Change is one configuration change: what a proposal or an offline
// submission carries, and what its endorsers sign (through
// identity.Proposal.Payload). Its encoding (Encode) is a Change message;
// its JSON, the same fields with empty ones left out, is how users write
// and read it.
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
	// Contract is a user contract's lifecycle operation, pinning the code
	// hash of an install or upgrade.
	Contract *ContractChange `json:"contract,omitempty"`
}

// ContractChange is the operation of a "contract" change.
type ContractChange struct {
	Op       string `json:"op"` // install, upgrade, freeze, unfreeze or revoke
	Name     string `json:"name"`
	CodeHash string `json:"code_hash,omitempty"` // install, upgrade: SHA-256 of the module, hex
	Args     string `json:"args,omitempty"`      // install, upgrade: JSON for the init or upgrade export
}

var codeHashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (c *ContractChange) validate() error {
	switch c.Op {
	case "install", "upgrade":
		if !codeHashRE.MatchString(c.CodeHash) {
			return fmt.Errorf("contract %s: code_hash must be 64 lower-case hex digits", c.Op)
		}
	case "freeze", "unfreeze", "revoke":
		if c.CodeHash != "" || c.Args != "" {
			return fmt.Errorf("contract %s takes no code_hash or args", c.Op)
		}
	default:
		return fmt.Errorf("contract op %q: want install, upgrade, freeze, unfreeze or revoke", c.Op)
	}
	if len(c.Name) == 0 || len(c.Name) > types.MaxNameLen || strings.ContainsAny(c.Name, "/\x00") {
		return fmt.Errorf("contract name %q: 1 to %d bytes without '/'", c.Name, types.MaxNameLen)
	}
	return nil
}

// Params are chain parameters that governance sets and the node reads:
// its consensus engine cuts blocks with them. Zero means the node's own
// configured value.
type Params struct {
	MaxBlockTxs     uint64 `json:"max_block_txs,omitempty"`     // at most MaxParamBlockTxs
	MaxBlockBytes   uint64 `json:"max_block_bytes,omitempty"`   // MinParamBlockBytes to MaxParamBlockBytes
	BlockIntervalMs uint64 `json:"block_interval_ms,omitempty"` // 1 to MaxParamIntervalMs

	// User contracts' limits and gas schedule (docs/contracts.md); zero
	// keeps the default. The executor reads them, not the node.
	ContractMemoryPages uint64 `json:"contract_memory_pages,omitempty"` // at most 65536
	ContractCallDepth   uint64 `json:"contract_call_depth,omitempty"`   // at most 1900
	ContractTxGas       uint64 `json:"contract_tx_gas,omitempty"`       // a transaction's default gas limit
	ContractTxGasMax    uint64 `json:"contract_tx_gas_max,omitempty"`   // the most a transaction may name
	ContractBlockGas    uint64 `json:"contract_block_gas,omitempty"`    // a block's gas limit
	GasInstr            uint64 `json:"gas_instr,omitempty"`             // gas costs: each at most 2^24
	GasPage             uint64 `json:"gas_page,omitempty"`
	GasByte             uint64 `json:"gas_byte,omitempty"`
	GasHostCall         uint64 `json:"gas_host_call,omitempty"`
	GasHostByte         uint64 `json:"gas_host_byte,omitempty"`
	GasStateWrite       uint64 `json:"gas_state_write,omitempty"`
	GasHashByte         uint64 `json:"gas_hash_byte,omitempty"`
	GasVerify           uint64 `json:"gas_verify,omitempty"`
	GasRangeEntry       uint64 `json:"gas_range_entry,omitempty"`
	GasCallBase         uint64 `json:"gas_call_base,omitempty"` // charged once per contract call
}

func (p Params) gasCosts() []uint64 {
	return []uint64{p.GasInstr, p.GasPage, p.GasByte, p.GasHostCall, p.GasHostByte, p.GasStateWrite, p.GasHashByte, p.GasVerify, p.GasRangeEntry, p.GasCallBase}
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
	if err := usercall.CheckLimits(p.ContractMemoryPages, p.ContractCallDepth, p.ContractTxGas, p.ContractTxGasMax, p.ContractBlockGas); err != nil {
		return fmt.Errorf("%w: %w", ErrBadParams, err)
	}
	for _, c := range p.gasCosts() {
		if c > usercall.MaxGasCost {
			return fmt.Errorf("%w: a gas cost of %d is above %d", ErrBadParams, c, usercall.MaxGasCost)
		}
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

var nodeIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidNodeID reports whether id can name a validator: 1 to 64 letters,
// digits, '.', '_' or '-', not starting with a punctuation mark.
func ValidNodeID(id string) bool { return nodeIDRE.MatchString(id) }

// Encode returns the change's canonical encoding: a Change message of
// proto/accord/governance/v1. Its endorsers sign these bytes.
func (c *Change) Encode() []byte {
	m := &govpb.Change{Version: Version, Kind: c.Kind, Org: c.Org, Scheme: c.Scheme, CaPem: c.CAPEM, Serial: c.Serial,
		Address: c.Address, Method: c.Method, Policy: c.Policy}
	if c.Params != nil {
		m.Params = c.Params.Message()
	}
	if c.Node != nil {
		m.Node = c.Node.message()
	}
	if c.Contract != nil {
		m.Contract = &govpb.ContractChange{Op: c.Contract.Op, Name: c.Contract.Name, CodeHash: c.Contract.CodeHash, Args: c.Contract.Args}
	}
	return types.EncodeCanonical(m)
}

// DecodeChange decodes a change encoded by Encode and checks its shape
// (Validate). Any other encoding of the same change is refused, so that
// one change has one digest to endorse.
func DecodeChange(b []byte) (*Change, error) {
	if len(b) > MaxChangeSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadChange, len(b), MaxChangeSize)
	}
	var m govpb.Change
	if err := decode(b, &m, ErrBadChange); err != nil {
		return nil, err
	}
	c := &Change{Kind: m.Kind, Org: m.Org, Scheme: m.Scheme, CAPEM: m.CaPem, Serial: m.Serial, Address: m.Address,
		Method: m.Method, Policy: m.Policy}
	if m.Params != nil {
		p, err := ParamsOf(m.Params)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadChange, err)
		}
		c.Params = &p
	}
	if m.Node != nil {
		n := nodeOf(m.Node)
		c.Node = &n
	}
	if m.Contract != nil {
		c.Contract = &ContractChange{Op: m.Contract.Op, Name: m.Contract.Name, CodeHash: m.Contract.CodeHash, Args: m.Contract.Args}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Message returns p as stored and carried: a Params message.
func (p Params) Message() *govpb.Params {
	return &govpb.Params{Version: Version, MaxBlockTxs: p.MaxBlockTxs, MaxBlockBytes: p.MaxBlockBytes, BlockIntervalMs: p.BlockIntervalMs,
		ContractMemoryPages: p.ContractMemoryPages, ContractCallDepth: p.ContractCallDepth, ContractTxGas: p.ContractTxGas,
		ContractTxGasMax: p.ContractTxGasMax, ContractBlockGas: p.ContractBlockGas, GasInstr: p.GasInstr, GasPage: p.GasPage,
		GasByte: p.GasByte, GasHostCall: p.GasHostCall, GasHostByte: p.GasHostByte, GasStateWrite: p.GasStateWrite,
		GasHashByte: p.GasHashByte, GasVerify: p.GasVerify, GasRangeEntry: p.GasRangeEntry, GasCallBase: p.GasCallBase}
}

// ParamsOf returns the parameters of a decoded Params message, refusing
// another version. It does not Validate them.
func ParamsOf(m *govpb.Params) (Params, error) {
	if m.Version != Version {
		return Params{}, fmt.Errorf("%w: Params version %d, this node knows %d", types.ErrNotCanonical, m.Version, Version)
	}
	return Params{MaxBlockTxs: m.MaxBlockTxs, MaxBlockBytes: m.MaxBlockBytes, BlockIntervalMs: m.BlockIntervalMs,
		ContractMemoryPages: m.ContractMemoryPages, ContractCallDepth: m.ContractCallDepth, ContractTxGas: m.ContractTxGas,
		ContractTxGasMax: m.ContractTxGasMax, ContractBlockGas: m.ContractBlockGas, GasInstr: m.GasInstr, GasPage: m.GasPage,
		GasByte: m.GasByte, GasHostCall: m.GasHostCall, GasHostByte: m.GasHostByte, GasStateWrite: m.GasStateWrite,
		GasHashByte: m.GasHashByte, GasVerify: m.GasVerify, GasRangeEntry: m.GasRangeEntry, GasCallBase: m.GasCallBase}, nil
}

// EncodeNodes encodes a validator list as stored: a Nodes message.
func EncodeNodes(ns []Node) []byte {
	m := &govpb.Nodes{Version: Version}
	for i := range ns {
		m.Nodes = append(m.Nodes, ns[i].message())
	}
	return types.EncodeCanonical(m)
}

// DecodeNodes decodes an EncodeNodes encoding. It checks the encoding,
// not the list: the contract keeps that sorted and valid.
func DecodeNodes(b []byte) ([]Node, error) {
	var m govpb.Nodes
	if err := types.DecodeVersioned(b, &m, Version); err != nil {
		return nil, err
	}
	ns := make([]Node, 0, len(m.Nodes))
	for _, n := range m.Nodes {
		ns = append(ns, nodeOf(n))
	}
	return ns, nil
}

func (n *Node) message() *govpb.Node {
	return &govpb.Node{Id: n.ID, Org: n.Org, Addr: n.Addr, Key: n.Key, CertPem: n.CertPEM}
}

func nodeOf(m *govpb.Node) Node {
	return Node{ID: m.Id, Org: m.Org, Addr: m.Addr, Key: m.Key, CertPEM: m.CertPem}
}

// Validate checks that the change has the fields its kind needs and no
// others. Whether it applies to a configuration is Apply's question.
func (c *Change) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadChange, c.Kind, fmt.Sprintf(format, args...))
	}
	has := map[string]bool{"org": c.Org != "", "scheme": c.Scheme != "", "ca_pem": c.CAPEM != "", "serial": c.Serial != "",
		"address": c.Address != "", "method": c.Method != "", "policy": c.Policy != "", "params": c.Params != nil, "node": c.Node != nil,
		"contract": c.Contract != nil}
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
	case KindContract:
		want = []string{"contract"}
	default:
		return fmt.Errorf("%w: kind %q (want one of %s)", ErrBadChange, c.Kind, strings.Join(kinds, ", "))
	}
	for _, f := range []string{"org", "scheme", "ca_pem", "serial", "address", "method", "policy", "params", "node", "contract"} {
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
	if c.Contract != nil {
		if err := c.Contract.validate(); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

// PolicyName returns the name of the method policy that, when the
// configuration sets one, replaces the governance policy for this kind of
// change: "gov." + kind.
func (c *Change) PolicyName() string { return Name + "." + c.Kind }
