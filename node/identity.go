package node

import (
	"fmt"
	"sync"
	"time"

	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/types"
)

// identityState is what a permissioned node keeps to enforce its chain's
// configuration: the loader shared by the executor's Gate and the gov
// contract, and the registry of the last committed state for admission.
type identityState struct {
	loader *governance.Loader

	mu     sync.Mutex
	height uint64
	reg    *identity.Registry // of committed state at height; nil before first use

	// The block limits governance set, as of committed height paramsAt.
	limitsMu sync.Mutex
	paramsAt uint64
	params   *governance.Params // nil before first use
}

// setupIdentity returns the executor configuration and contracts of the
// chain: the token alone on an open chain; on a permissioned one the token
// authorised by policy, the gov contract and the Gate.
func (n *Node) setupIdentity(cfg execution.Config) (execution.Config, []execution.Contract) {
	if n.genesis.Identity == nil {
		return cfg, []execution.Contract{token.New(), pay.New()}
	}
	n.ident = &identityState{loader: governance.NewLoader(n.hash)}
	cfg.Gate = governance.NewGate(n.ident.loader)
	return cfg, []execution.Contract{token.NewByPolicy(), governance.New(n.genesis.ChainID, n.ident.loader), pay.NewByPolicy()}
}

// identityGenesis is the gov contract's genesis state; nothing on an open
// chain.
func (n *Node) identityGenesis() ([]execution.Write, error) {
	if n.genesis.Identity == nil {
		return nil, nil
	}
	s, keys, err := n.genesis.Identity.State()
	if err != nil {
		return nil, fmt.Errorf("genesis identity: %w", err)
	}
	return governance.Genesis(s, keys)
}

// blockLimits is the consensus engines' Limits hook (solo.Config.Limits,
// raft.Config.Limits): on a permissioned chain, the block limits that
// governance set (set_params) in committed state, read again only when a
// block has committed since; nil on an open chain, whose limits are the
// node configuration's. A zero parameter leaves the configured limit.
func (n *Node) blockLimits() func() (maxTxs, maxBytes int, interval time.Duration) {
	if n.ident == nil {
		return nil
	}
	s := n.ident
	return func() (int, int, time.Duration) {
		h := n.store.Tip().Height
		s.limitsMu.Lock()
		defer s.limitsMu.Unlock()
		if s.params == nil || s.paramsAt != h {
			p, err := governance.ReadParams(stateReader{n.store})
			if err != nil {
				// Said once per height; the configured limits hold meanwhile.
				n.log.Error("reading the chain parameters; using the configured block limits", "height", h, "err", err)
			}
			s.params, s.paramsAt = &p, h
		}
		p := s.params
		return int(p.MaxBlockTxs), int(p.MaxBlockBytes), time.Duration(p.BlockIntervalMs) * time.Millisecond
	}
}

// admissionRegistry is the registry of committed state, rebuilt only when
// a block has committed since the last call.
func (n *Node) admissionRegistry() (*identity.Registry, error) {
	s := n.ident
	h := n.store.Tip().Height
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reg == nil || s.height != h {
		reg, err := s.loader.Registry(stateReader{n.store})
		if err != nil {
			return nil, err
		}
		s.reg, s.height = reg, h
	}
	return s.reg, nil
}

// checkSigner is admission's identity check: on a permissioned chain the
// signer must be a member who may send now (known CA, valid, not revoked,
// a role that sends, not frozen) and may call the method; a signer named
// by certificate is bound to its key here, before its signature is
// verified. It returns the member for the dry run, nil on an open chain.
// Execution checks the same again at the block's time.
func (n *Node) checkSigner(tx *types.Tx) (any, error) {
	if n.ident == nil {
		return nil, nil
	}
	reg, err := n.admissionRegistry()
	if err != nil {
		return nil, err
	}
	m, err := governance.Sender(reg, tx, uint64(time.Now().UnixMilli()))
	if err != nil {
		return nil, err
	}
	if err := reg.Authorize(m, tx.Body.Contract+"."+tx.Body.Method); err != nil {
		return nil, err
	}
	return m, nil
}

// bindSigners binds the transactions signed by certificate (or its hash)
// of a block from another node to their keys, as the state of the last
// executed block has them at block time at, so that the pool's Verifier
// can check their signatures with the rest of the block. A transaction it
// cannot bind (unknown, revoked or expired signer) is left unbound:
// execution judges it INVALID, deterministically, as every node does.
// Nothing happens on an open chain.
func (n *Node) bindSigners(txs []*types.Tx, at uint64) {
	if n.ident == nil {
		return
	}
	reg, err := n.ident.loader.Registry(pendingReader{n})
	if err != nil {
		return // every certificate signer stays unbound: execution decides
	}
	for _, tx := range txs {
		if !tx.Bound() {
			_, _ = governance.Sender(reg, tx, at)
		}
	}
}
