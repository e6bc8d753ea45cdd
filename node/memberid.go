package node

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/governance"
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

// errNotNode is a peer whose certificate is valid but names no consensus
// member the chain knows as a node.
var errNotNode = errors.New("not a node of this chain")

// checkMemberProof judges a peer's proof against committed state.
func (n *Node) checkMemberProof(peer string, proof, msg []byte) error {
	var p p2ppb.MemberProof
	if err := p2ppb.Decode(proof, &p); err != nil {
		return fmt.Errorf("member proof: %w", err)
	}
	reg, err := n.chain.Registry()
	if err != nil {
		return err
	}
	m, err := reg.VerifyCert(p.Certificate, uint64(n.clock.Now().UnixMilli()))
	if err != nil {
		return err
	}
	if m.Role != identity.Consensus {
		return fmt.Errorf("%w: its certificate's role is %s, not consensus", errNotNode, m.Role)
	}
	if m.Name != peer {
		return fmt.Errorf("%w: its member certificate names %q, its TLS certificate %q", errNotNode, m.Name, peer)
	}
	if err := m.Verify(msg, p.Signature); err != nil {
		return fmt.Errorf("member proof signature: %w", err)
	}
	st, err := governance.ReadState(n.store.State())
	if err != nil {
		return err
	}
	if len(st.Nodes) > 0 && !slices.ContainsFunc(st.Nodes, func(x governance.Node) bool { return x.ID == peer && x.Org == m.Org }) {
		return fmt.Errorf("%w: %s of %s is not among the chain's nodes (governance adds nodes with add_node)", errNotNode, peer, m.Org)
	}
	return nil
}

// errNotGoverned is a membership change the chain's governance has not
// approved.
var errNotGoverned = errors.New("membership change not approved by governance")

// governedNodeChange checks, on a permissioned chain, that governance has
// approved a membership change: a node joins Raft only once an add_node
// change listing it has been applied, and leaves only once remove_node
// took it off the list. Open chains leave membership to the admin key.
func (n *Node) governedNodeChange(c *apipb.NodeChange, nodeID func(uint64) (string, bool)) error {
	if n.signers == nil {
		return nil
	}
	st, err := governance.ReadState(n.store.State())
	if err != nil {
		return err
	}
	name := c.NodeId
	if c.Op == "remove" {
		name, _ = nodeID(c.Id)
	}
	listed := slices.ContainsFunc(st.Nodes, func(x governance.Node) bool { return x.ID == name })
	switch {
	case c.Op == "add" && !listed:
		return fmt.Errorf("%w: node %s is not on the chain's node list; propose an add_node change first (accord gov propose)", errNotGoverned, name)
	case c.Op == "remove" && listed:
		return fmt.Errorf("%w: node %s is still on the chain's node list; propose a remove_node change first (accord gov propose)", errNotGoverned, name)
	}
	return nil
}
