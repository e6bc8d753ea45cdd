package node

import (
	"fmt"
	"path/filepath"

	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/usercontract"
	"github.com/accord-chain/accord/execution"
)

// setupIdentity returns the executor configuration and contracts of the
// chain: the token alone on an open chain; on a permissioned one the token
// authorised by policy, the gov contract and the Gate, which share one
// registry loader with the chain (n.signers).
//
// Both run user contracts (n.user), compiled code cached under
// ContractCacheDir.
func (n *Node) setupIdentity(cfg execution.Config) (execution.Config, []execution.Contract) {
	uc := usercontract.Config{Hash: n.hash, CacheDir: filepath.Join(n.home, ContractCacheDir)}
	if n.genesis.Identity == nil {
		n.user = usercontract.New(uc)
		return cfg, []execution.Contract{token.New(), n.user}
	}
	n.signers = governance.NewLoader(n.hash)
	uc.Governance, uc.Loader = governance.Name, n.signers
	n.user = usercontract.New(uc)
	cfg.Gate = governance.NewGate(n.signers)
	return cfg, []execution.Contract{token.NewByPolicy(), governance.New(n.genesis.ChainID, n.signers), n.user}
}

// ContractCacheDir, under a node's home, keeps user contracts' compiled
// code, so that a restart does not compile them again. It may be deleted.
const ContractCacheDir = "contract-cache"

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
