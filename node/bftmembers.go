package node

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus/bft"
	"github.com/accord-chain/accord/crypto"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// Membership of a BFT network. `accord node add/remove` asks any node,
// which carries the signed change (its p2p.v1.NodeChange) in the blocks
// it proposes; the block that commits it ends the epoch (consensus/bft
// epoch.go), and every node then derives the next validator set alike
// from the last epoch's member list, the block's changes and, on a
// permissioned chain, the node list governance committed. The driver
// records the set with the member list (a p2p.v1.Members with the highest
// Raft id used) in its epoch record, the source of the set at each start.

// bftMemberList is one epoch's members, ordered by Raft id, and the
// highest Raft id the network ever used.
type bftMemberList struct {
	peers []config.Peer
	maxID uint64
}

func encodeBFTMembers(l bftMemberList) []byte {
	m := &p2ppb.Members{Version: p2ppb.Version, MaxId: l.maxID}
	for _, p := range l.peers {
		m.Members = append(m.Members, memberMsg(p))
	}
	return p2ppb.Marshal(m)
}

func decodeBFTMembers(b []byte) (bftMemberList, error) {
	var m p2ppb.Members
	if err := p2ppb.Decode(b, &m); err != nil {
		return bftMemberList{}, err
	}
	l := bftMemberList{maxID: m.MaxId}
	for _, x := range m.Members {
		p, err := peerOf(x)
		if err != nil {
			return bftMemberList{}, err
		}
		l.peers = append(l.peers, p)
	}
	return l, nil
}

// validators is the list's validator set, by Raft id.
func (l bftMemberList) validators(scheme crypto.Scheme) (bft.ValidatorSet, error) {
	peers := slices.Clone(l.peers)
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

// apply applies one verified change; it says why not when it cannot.
func (l *bftMemberList) apply(c *pb.NodeChange, scheme crypto.Scheme) error {
	i := slices.IndexFunc(l.peers, func(p config.Peer) bool { return p.ID == c.Id })
	switch c.Op {
	case "add":
		if c.Id <= l.maxID {
			return fmt.Errorf("raft id %d was used before (ids up to %d); ids are never reused", c.Id, l.maxID)
		}
		if slices.ContainsFunc(l.peers, func(p config.Peer) bool { return p.NodeID == c.NodeId }) {
			return fmt.Errorf("node %s is already a member", c.NodeId)
		}
		if _, err := crypto.PublicKeyFromBytes(scheme, c.PubKey); err != nil {
			return fmt.Errorf("pub_key is not a %s key (a bft validator needs its node key's): %w", scheme, err)
		}
		l.peers = append(l.peers, config.Peer{ID: c.Id, NodeID: c.NodeId, P2P: c.P2PAddress, API: c.ApiAddress, PubKey: hex.EncodeToString(c.PubKey)})
		l.maxID = c.Id
	case "remove":
		if i < 0 {
			return fmt.Errorf("node %d is not a member", c.Id)
		}
		if len(l.peers) == 1 {
			return errors.New("the last validator cannot be removed")
		}
		l.peers = slices.Delete(l.peers, i, i+1)
	}
	return nil
}

// nodeID maps Raft ids to node ids in l, for the governance check.
func (l bftMemberList) nodeID(id uint64) (string, bool) {
	for _, p := range l.peers {
		if p.ID == id {
			return p.NodeID, true
		}
	}
	return "", false
}

// bftNextEpoch is the driver's NextEpoch: the chain has applied the
// block that carries the changes, and nothing after it, so every node
// checks each change against the same committed state. A change that
// does not verify is skipped (the same on every node).
func (w *network) bftNextEpoch(genesis bftMemberList, scheme crypto.Scheme) func(bft.EpochChange) (bft.EpochInfo, error) {
	return func(e bft.EpochChange) (bft.EpochInfo, error) {
		l := genesis
		if len(e.Prev.Members) > 0 {
			var err error
			if l, err = decodeBFTMembers(e.Prev.Members); err != nil {
				return bft.EpochInfo{}, fmt.Errorf("the epoch record's members: %w", err)
			}
		}
		l.peers = slices.Clone(l.peers)
		for i, raw := range e.Changes {
			req, err := decodeNodeChange(raw)
			var c *pb.NodeChange
			if err == nil {
				c, err = api.VerifyNodeChange(req, w.chainID, w.issuer, time.UnixMilli(int64(e.Time)))
			}
			if err == nil {
				err = w.govern(c, l.nodeID)
			}
			if err == nil {
				err = l.apply(c, scheme)
			}
			if err != nil {
				w.log.Warn("membership change in a committed block not applied", "height", e.Height, "change", i, "err", err)
			}
		}
		vs, err := l.validators(scheme)
		if err != nil {
			return bft.EpochInfo{}, err
		}
		w.setBFTMembers(l)
		return bft.EpochInfo{Validators: vs, Members: encodeBFTMembers(l)}, nil
	}
}

// setBFTMembers makes l the member list: the transport dials new members
// and drops removed ones, and the stored list follows.
func (w *network) setBFTMembers(l bftMemberList) {
	w.mu.Lock()
	old := w.members
	w.bftMaxID = l.maxID
	w.members = map[uint64]config.Peer{}
	for _, p := range l.peers {
		w.members[p.ID] = p
	}
	w.mu.Unlock()
	for _, p := range l.peers {
		if _, ok := old[p.ID]; !ok && p.NodeID != w.selfName {
			if err := w.tr.AddPeer(p.NodeID, p.P2P); err != nil {
				w.log.Warn("adding peer", "node", p.NodeID, "err", err)
			}
		}
	}
	for id, p := range old {
		if _, ok := w.members[id]; !ok && p.NodeID != w.selfName {
			w.tr.RemovePeer(p.NodeID)
			w.chain.Forget(p.NodeID)
		}
	}
	if err := w.store.PutMeta(peersMeta, encodeMembers(l.peers)); err != nil {
		w.log.Error("storing the member list", "err", err)
	}
}

// bftChangeNodes carries a membership change into this node's proposals
// and waits until the block with it commits and the next epoch begins.
func (w *network) bftChangeNodes(ctx context.Context, req *pb.ChangeNodesRequest, c *pb.NodeChange) ([]string, error) {
	if err := w.govern(c, w.nodeID); err != nil {
		return nil, err
	}
	name, member := w.nodeID(c.Id)
	switch {
	case c.Op == "remove" && name == w.selfName:
		// It stops as the change takes effect, before it could answer.
		return nil, fmt.Errorf("node %s cannot carry its own removal: send it to another node (--node URL)", name)
	case c.Op == "add" && member:
		return nil, fmt.Errorf("node %d is already a member", c.Id)
	case c.Op == "add" && len(c.PubKey) == 0:
		return nil, fmt.Errorf("%w: adding a node to a bft network needs its pub_key (its node key's public key)", api.ErrBadNodeChange)
	case c.Op == "remove" && !member:
		return nil, fmt.Errorf("node %d is not a member", c.Id)
	}
	if _, err := w.bftd.ProposeChange(ctx, encodeNodeChange(req)); err != nil {
		return nil, err
	}
	if name2, now := w.nodeID(c.Id); c.Op == "add" && (!now || name2 != c.NodeId) || c.Op == "remove" && now {
		return nil, fmt.Errorf("the change committed but did not apply (see the node log); members: %v", w.memberNames())
	}
	return w.memberNames(), nil
}
