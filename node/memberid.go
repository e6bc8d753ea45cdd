package node

import (
	"bytes"
	"fmt"

	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/p2p"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// On a permissioned chain nodes prove to each other that they are
// consensus members of an organisation, with the certificates the
// organisations' CAs issued (SM2 or P-256), on top of the network's TLS:
// each end sends its member certificate and a signature, by the key the
// certificate names (the node key), of the TLS session's exported keying
// material. The proof is bound to the session, so it cannot be replayed on
// another connection, and it works for SM2 certificates that TLS itself
// cannot use. A peer is accepted while its certificate verifies against
// the committed chain configuration (known CA, valid now, not revoked,
// role consensus, common name = its node id) and, when the configuration
// lists nodes, it is listed.

// memberProofDomain separates identity-proof signatures from every other
// signature a node key makes.
const memberProofDomain = "accord p2p member proof v1\x00"

// memberIdentity returns the p2p identity hooks of this node, whose member
// certificate is NODE_HOME/node_key.pem.
func (n *Node) memberIdentity(nodeID string) (*p2p.Identity, error) {
	ks, err := keystore.Open(n.home)
	if err != nil {
		return nil, err
	}
	cert, err := ks.Cert(NodeKeyFile)
	if err != nil {
		return nil, fmt.Errorf("this chain is permissioned: the node needs its consensus certificate %s (accord init --orgs makes it): %w", ks.CertPath(NodeKeyFile), err)
	}
	c, err := identity.ParseCert(cert)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ks.CertPath(NodeKeyFile), err)
	}
	if c.Name != nodeID || c.Role != identity.Consensus || !bytes.Equal(c.PublicKey, n.nodeKey.Public().Bytes()) {
		return nil, fmt.Errorf("%s names %s (role %s), not this node %s's consensus key", ks.CertPath(NodeKeyFile), c.Name, c.Role, nodeID)
	}
	chain := n.genesis.ChainID
	return &p2p.Identity{
		Proof: func(binding []byte) ([]byte, error) {
			sig, err := n.nodeKey.Sign(memberProofMessage(chain, binding))
			if err != nil {
				return nil, err
			}
			return p2ppb.Marshal(&p2ppb.MemberProof{Version: p2ppb.Version, Certificate: cert, Signature: sig}), nil
		},
		Check: func(peer string, proof, binding []byte) error {
			return n.checkMemberProof(peer, proof, memberProofMessage(chain, binding))
		},
	}, nil
}

func memberProofMessage(chainID string, binding []byte) []byte {
	m := make([]byte, 0, len(memberProofDomain)+len(chainID)+1+len(binding))
	m = append(m, memberProofDomain...)
	m = append(m, chainID...)
	m = append(m, 0)
	return append(m, binding...)
}

// checkMemberProof judges a peer's proof against committed state.
func (n *Node) checkMemberProof(peer string, proof, msg []byte) error {
	var p p2ppb.MemberProof
	if err := p2ppb.Decode(proof, &p); err != nil {
		return fmt.Errorf("member proof: %w", err)
	}
	return n.chain.CheckNode(peer, p.Certificate, msg, p.Signature)
}
