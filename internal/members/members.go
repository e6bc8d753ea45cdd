// Package members owns a network's member list as it is stored and sent
// between nodes: a member's encoding (the context of a Raft change that
// adds it), the stored list of a network, and a BFT epoch's list with the
// validator set derived from it and the membership changes applied to
// it. Every decoder reads bytes from another node, a Raft entry or the
// store, and refuses bad ones with p2ppb.ErrMalformed (FuzzDecode). It
// does no I/O and holds no node: node/ stores the lists and dials the
// members.
package members

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/accord-chain/accord/config"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

func memberMsg(p config.Peer) *p2ppb.Member {
	pub, _ := hex.DecodeString(p.PubKey) // checked where the key is used
	return &p2ppb.Member{Version: p2ppb.Version, Id: p.ID, NodeId: p.NodeID, P2P: p.P2P, Api: p.API, PubKey: pub}
}

func peerOf(m *p2ppb.Member) (config.Peer, error) {
	if m.GetVersion() != p2ppb.Version {
		return config.Peer{}, fmt.Errorf("%w: member version %d", p2ppb.ErrMalformed, m.GetVersion())
	}
	if m.Id == 0 || m.NodeId == "" || m.P2P == "" {
		return config.Peer{}, fmt.Errorf("%w: a member needs a Raft id, a node id and a p2p address", p2ppb.ErrMalformed)
	}
	p := config.Peer{ID: m.Id, NodeID: m.NodeId, P2P: m.P2P, API: m.Api}
	if len(m.PubKey) > 0 {
		p.PubKey = hex.EncodeToString(m.PubKey)
	}
	return p, nil
}

// EncodePeer is the context of a Raft change that adds p.
func EncodePeer(p config.Peer) []byte { return p2ppb.Marshal(memberMsg(p)) }

// DecodePeer reads the context of a Raft change that adds a member.
func DecodePeer(b []byte) (config.Peer, error) {
	var p config.Peer
	if legacyJSON(b, '{', &p) {
		return peerOf(memberMsg(p))
	}
	var m p2ppb.Member
	if err := p2ppb.Decode(b, &m); err != nil {
		return config.Peer{}, err
	}
	return peerOf(&m)
}

// EncodePeers is the stored member list.
func EncodePeers(list []config.Peer) []byte {
	m := &p2ppb.Members{Version: p2ppb.Version, Members: make([]*p2ppb.Member, len(list))}
	for i, p := range list {
		m.Members[i] = memberMsg(p)
	}
	return p2ppb.Marshal(m)
}

// DecodePeers reads the stored member list.
func DecodePeers(b []byte) ([]config.Peer, error) {
	var m p2ppb.Members
	var list []config.Peer
	if legacyJSON(b, '[', &list) {
		m.Members = make([]*p2ppb.Member, len(list))
		for i, p := range list {
			m.Members[i] = memberMsg(p)
		}
	} else if err := p2ppb.Decode(b, &m); err != nil {
		return nil, err
	}
	out := make([]config.Peer, len(m.Members))
	for i, x := range m.Members {
		p, err := peerOf(x)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// legacyJSON reads the JSON that releases before p2p/pb wrote for members
// (Raft log entries and stored lists of networks made by them). A protobuf
// message here never starts with { or [ (field 15 or 11 of wire type 3).
func legacyJSON(b []byte, open byte, v any) bool {
	return len(b) > 0 && b[0] == open && json.Unmarshal(b, v) == nil
}
