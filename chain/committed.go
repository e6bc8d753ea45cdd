package chain

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/types"
)

// What the rest of the node judges against committed state: admission's
// dry run and identity check, the registry that member proofs and API
// clients are checked with, and the block limits governance set. Each is
// cached until the next block commits.

// ErrOpenChain: an open chain has no identity registry to judge by.
var ErrOpenChain = errors.New("this chain is open: it has no identity registry")

// committedViews caches what is read of committed state, by height.
type committedViews struct {
	mu     sync.Mutex
	height uint64
	reg    *identity.Registry // of committed state at height; nil before first use

	limitsMu sync.Mutex
	paramsAt uint64
	params   *governance.Params // nil before first use
}

// Registry is the identity registry of committed state, rebuilt only when
// a block has committed since the last call; ErrOpenChain on an open chain.
func (c *Chain) Registry() (*identity.Registry, error) {
	if c.cfg.Signers == nil {
		return nil, ErrOpenChain
	}
	s := &c.committed
	h := c.cfg.Store.Tip().Height
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reg == nil || s.height != h {
		reg, err := c.cfg.Signers.Registry(c.cfg.Store.State())
		if err != nil {
			return nil, err
		}
		s.reg, s.height = reg, h
	}
	return s.reg, nil
}

// Limits is the consensus engines' Limits hook (solo.Config.Limits,
// raft.Config.Limits): on a permissioned chain, the block limits that
// governance set (set_params) in committed state, read again only when a
// block has committed since; nil on an open chain, whose limits are the
// node configuration's. A zero parameter leaves the configured limit.
func (c *Chain) Limits() func() (maxTxs, maxBytes int, interval time.Duration) {
	if c.cfg.Signers == nil {
		return nil
	}
	s := &c.committed
	return func() (int, int, time.Duration) {
		h := c.cfg.Store.Tip().Height
		s.limitsMu.Lock()
		defer s.limitsMu.Unlock()
		if s.params == nil || s.paramsAt != h {
			p, err := governance.ReadParams(c.cfg.Store.State())
			if err != nil {
				// Said once per height; the configured limits hold meanwhile.
				c.cfg.Log.Error("reading the chain parameters; using the configured block limits", "height", h, "err", err)
			}
			s.params, s.paramsAt = &p, h
		}
		p := s.params
		return int(p.MaxBlockTxs), int(p.MaxBlockBytes), time.Duration(p.BlockIntervalMs) * time.Millisecond
	}
}

// Admit is the pool's admission check (txpool.Pool.SetCheck). On a
// permissioned chain the signer must be a member who may send now (known
// CA, valid at the clock's time, not revoked, a role that sends, not
// frozen) and may call the method; a signer named by certificate is bound
// to its key here, before its signature is verified. Then the call is dry
// run against committed state, so that a call bound to fail now (a mint by
// someone other than the issuer, a transfer beyond the sender's balance,
// malformed arguments, an unknown method) is refused with a clear error
// instead of taking space in a block. Execution still decides: a call that
// passes here can fail in its block, and checks the signer again at the
// block's time.
func (c *Chain) Admit(tx *types.Tx) error {
	var signer any
	if c.cfg.Signers != nil {
		reg, err := c.Registry()
		if err != nil {
			return err
		}
		m, err := governance.Sender(reg, tx, uint64(c.cfg.Clock.Now().UnixMilli()))
		if err != nil {
			return err
		}
		if err := reg.Authorize(m, tx.Body.Contract+"."+tx.Body.Method); err != nil {
			return err
		}
		signer = m
	}
	tip := c.cfg.Store.Tip()
	failure, err := c.cfg.Exec.Check(c.cfg.Store.State(), &execution.CallInput{
		Sender:   tx.Sender,
		Signer:   signer,
		Height:   tip.Height + 1,
		Time:     tip.Time + 1,
		Contract: tx.Body.Contract,
		Method:   tx.Body.Method,
		Args:     tx.Body.Args,
		GasLimit: tx.Body.GasLimit,
	})
	if err != nil {
		return err
	}
	return failure
}

// BlockGas is the pool's gas budget (txpool.Pool.SetGasBudget): the gas
// limit of the next block, from committed state, and the gas of it each
// transaction may use. On an error it reports no limit: execution still
// refuses a call that does not fit.
func (c *Chain) BlockGas() (limit uint64, txGas func(*types.Tx) uint64) {
	limit, gas, err := c.cfg.Exec.BlockGas(c.cfg.Store.State())
	if err != nil || limit == 0 {
		return 0, nil
	}
	return limit, func(tx *types.Tx) uint64 { return gas(tx.Body.Contract, tx.Body.GasLimit) }
}

// ErrNotNode is a peer whose certificate is valid but names no consensus
// member the chain knows as a node.
var ErrNotNode = errors.New("not a node of this chain")

// ErrNotGoverned is a membership change the chain's governance has not
// approved.
var ErrNotGoverned = errors.New("membership change not approved by governance")

// CheckMember judges an API client's member certificate against committed
// state at the clock's time: any role may use the API.
func (c *Chain) CheckMember(cert []byte) (identity.Member, error) {
	reg, err := c.Registry()
	if err != nil {
		return identity.Member{}, err
	}
	return reg.VerifyCert(cert, uint64(c.cfg.Clock.Now().UnixMilli()))
}

// CheckNode judges a peer's member proof against committed state at the
// clock's time: cert must be a valid consensus certificate naming peer,
// sig its key's signature of msg, and, when the configuration lists
// nodes, peer of its organisation must be listed.
func (c *Chain) CheckNode(peer string, cert, msg, sig []byte) error {
	m, err := c.CheckMember(cert)
	if err != nil {
		return err
	}
	if m.Role != identity.Consensus {
		return fmt.Errorf("%w: its certificate's role is %s, not consensus", ErrNotNode, m.Role)
	}
	if m.Name != peer {
		return fmt.Errorf("%w: its member certificate names %q, its TLS certificate %q", ErrNotNode, m.Name, peer)
	}
	if err := m.Verify(msg, sig); err != nil {
		return fmt.Errorf("member proof signature: %w", err)
	}
	st, err := governance.ReadState(c.cfg.Store.State())
	if err != nil {
		return err
	}
	if len(st.Nodes) > 0 && !slices.ContainsFunc(st.Nodes, func(x governance.Node) bool { return x.ID == peer && x.Org == m.Org }) {
		return fmt.Errorf("%w: %s of %s is not among the chain's nodes (governance adds nodes with add_node)", ErrNotNode, peer, m.Org)
	}
	return nil
}

// GovernedNodeChange checks, on a permissioned chain, that governance has
// approved a membership change: a node joins Raft only once an add_node
// change listing it has been applied, and leaves only once remove_node
// took it off the list. nodeID names a member by Raft id. Open chains
// leave membership to the admin key.
func (c *Chain) GovernedNodeChange(ch *pb.NodeChange, nodeID func(uint64) (string, bool)) error {
	if c.cfg.Signers == nil {
		return nil
	}
	st, err := governance.ReadState(c.cfg.Store.State())
	if err != nil {
		return err
	}
	name, op := ch.NodeId, ch.Op
	if op == "remove" {
		name, _ = nodeID(ch.Id)
	}
	listed := slices.ContainsFunc(st.Nodes, func(x governance.Node) bool { return x.ID == name })
	switch {
	case op == "add" && !listed:
		return fmt.Errorf("%w: node %s is not on the chain's node list; propose an add_node change first (accord gov propose)", ErrNotGoverned, name)
	case op == "remove" && listed:
		return fmt.Errorf("%w: node %s is still on the chain's node list; propose a remove_node change first (accord gov propose)", ErrNotGoverned, name)
	}
	return nil
}
