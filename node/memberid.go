package node

import (
	"bytes"
	"fmt"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/p2p"
)

// Member proofs between the nodes of a permissioned chain: p2p makes
// and checks them (p2p.MemberIdentity), judging certificates with the
// chain (chain.CheckNode).

// memberIdentity returns the p2p identity hooks of this node, whose member
// certificate is NODE_HOME/node_key.pem.
func (n *Node) memberIdentity(nodeID string) (*p2p.Identity, error) {
	ks, err := keystore.Open(n.home)
	if err != nil {
		return nil, err
	}
	cert, err := ks.Cert(config.NodeKeyFile)
	if err != nil {
		return nil, fmt.Errorf("this chain is permissioned: the node needs its consensus certificate %s (accord init --orgs makes it): %w", ks.CertPath(config.NodeKeyFile), err)
	}
	c, err := identity.ParseCert(cert)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ks.CertPath(config.NodeKeyFile), err)
	}
	if c.Name != nodeID || c.Role != identity.Consensus || !bytes.Equal(c.PublicKey, n.nodeKey.Public().Bytes()) {
		return nil, fmt.Errorf("%s names %s (role %s), not this node %s's consensus key", ks.CertPath(config.NodeKeyFile), c.Name, c.Role, nodeID)
	}
	return p2p.MemberIdentity(n.genesis.ChainID, cert, n.nodeKey.Sign, n.chain.CheckNode), nil
}
