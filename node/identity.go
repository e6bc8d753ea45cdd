package node

import (
	"fmt"

	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/execution"
)

// setupIdentity returns the executor configuration and contracts of the
// chain: the token and payments on an open chain; on a permissioned one
// the token and payments authorised by policy, the gov contract and the Gate, which share one
// registry loader with the chain (n.signers).
func (n *Node) setupIdentity(cfg execution.Config) (execution.Config, []execution.Contract) {
	if n.genesis.Identity == nil {
		return cfg, []execution.Contract{token.New(), pay.New()}
	}
	n.signers = governance.NewLoader(n.hash)
	cfg.Gate = governance.NewGate(n.signers)
	return cfg, []execution.Contract{token.NewByPolicy(), governance.New(n.genesis.ChainID, n.signers), pay.NewByPolicy()}
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
