package members

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus/bft"
	"github.com/accord-chain/accord/crypto"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// List is one BFT epoch's members, ordered by Raft id, and the highest
// Raft id the network ever used. The driver records it (a p2p.v1.Members
// with MaxId) in its epoch record.
type List struct {
	Peers []config.Peer
	MaxID uint64
}

// Encode is l as the epoch record holds it.
func (l List) Encode() []byte {
	m := &p2ppb.Members{Version: p2ppb.Version, MaxId: l.MaxID}
	for _, p := range l.Peers {
		m.Members = append(m.Members, memberMsg(p))
	}
	return p2ppb.Marshal(m)
}

// DecodeList reads a list that Encode wrote.
func DecodeList(b []byte) (List, error) {
	var m p2ppb.Members
	if err := p2ppb.Decode(b, &m); err != nil {
		return List{}, err
	}
	l := List{MaxID: m.MaxId}
	for _, x := range m.Members {
		p, err := peerOf(x)
		if err != nil {
			return List{}, err
		}
		l.Peers = append(l.Peers, p)
	}
	return l, nil
}

// Validators is the list's validator set, by Raft id.
func (l List) Validators(scheme crypto.Scheme) (bft.ValidatorSet, error) {
	peers := slices.Clone(l.Peers)
	slices.SortFunc(peers, func(a, b config.Peer) int { return cmp.Compare(a.ID, b.ID) })
	var vs bft.ValidatorSet
	for _, p := range peers {
		pub, err := hex.DecodeString(p.PubKey)
		if err == nil {
			_, err = crypto.PublicKeyFromBytes(scheme, pub)
		}
		if err != nil {
			return nil, fmt.Errorf("node %s: pub_key is not a %s key: %w", p.NodeID, scheme, err)
		}
		vs = append(vs, bft.Validator{ID: p.NodeID, PubKey: pub})
	}
	return vs, nil
}

// Apply applies one verified change; it says why not when it cannot. It
// changes l.Peers in place: clone a list shared with others first.
func (l *List) Apply(c *pb.NodeChange, scheme crypto.Scheme) error {
	i := slices.IndexFunc(l.Peers, func(p config.Peer) bool { return p.ID == c.Id })
	switch c.Op {
	case "add":
		if c.Id <= l.MaxID {
			return fmt.Errorf("raft id %d was used before (ids up to %d); ids are never reused", c.Id, l.MaxID)
		}
		if slices.ContainsFunc(l.Peers, func(p config.Peer) bool { return p.NodeID == c.NodeId }) {
			return fmt.Errorf("node %s is already a member", c.NodeId)
		}
		if _, err := crypto.PublicKeyFromBytes(scheme, c.PubKey); err != nil {
			return fmt.Errorf("pub_key is not a %s key (a bft validator needs its node key's): %w", scheme, err)
		}
		l.Peers = append(l.Peers, config.Peer{ID: c.Id, NodeID: c.NodeId, P2P: c.P2PAddress, API: c.ApiAddress, PubKey: hex.EncodeToString(c.PubKey)})
		l.MaxID = c.Id
	case "remove":
		if i < 0 {
			return fmt.Errorf("node %d is not a member", c.Id)
		}
		if len(l.Peers) == 1 {
			return errors.New("the last validator cannot be removed")
		}
		l.Peers = slices.Delete(l.Peers, i, i+1)
	}
	return nil
}

// NodeID maps Raft ids to node ids in l, for the governance check.
func (l List) NodeID(id uint64) (string, bool) {
	for _, p := range l.Peers {
		if p.ID == id {
			return p.NodeID, true
		}
	}
	return "", false
}
