package p2p

import (
	"fmt"

	"github.com/accord-chain/accord/p2p/pb"
)

// On a permissioned chain nodes prove to each other that they are
// consensus members of an organisation, with the certificates the
// organisations' CAs issued (SM2 or P-256), on top of the network's TLS:
// each end sends its member certificate and a signature, by the key the
// certificate names (the node key), of the TLS session's exported keying
// material. The proof is bound to the session, so it cannot be replayed on
// another connection, and it works for SM2 certificates that TLS itself
// cannot use. Whether a certificate makes its holder a node of the chain
// is the caller's judgement (check), against committed state.

// memberProofDomain separates identity-proof signatures from every other
// signature a node key makes.
const memberProofDomain = "accord p2p member proof v1\x00"

// MemberIdentity is the Identity of a member of chain chainID holding the
// member certificate cert (DER), whose key signs with sign. check judges a
// peer's certificate and its signature sig of msg; nil accepts the peer.
func MemberIdentity(chainID string, cert []byte, sign func(msg []byte) ([]byte, error), check func(peer string, cert, msg, sig []byte) error) *Identity {
	return &Identity{
		Proof: func(binding []byte) ([]byte, error) {
			sig, err := sign(memberProofMessage(chainID, binding))
			if err != nil {
				return nil, err
			}
			return pb.Marshal(&pb.MemberProof{Version: pb.Version, Certificate: cert, Signature: sig}), nil
		},
		Check: func(peer string, proof, binding []byte) error {
			var p pb.MemberProof
			if err := pb.Decode(proof, &p); err != nil {
				return fmt.Errorf("member proof: %w", err)
			}
			return check(peer, p.Certificate, memberProofMessage(chainID, binding), p.Signature)
		},
	}
}

func memberProofMessage(chainID string, binding []byte) []byte {
	m := make([]byte, 0, len(memberProofDomain)+len(chainID)+1+len(binding))
	m = append(m, memberProofDomain...)
	m = append(m, chainID...)
	m = append(m, 0)
	return append(m, binding...)
}
