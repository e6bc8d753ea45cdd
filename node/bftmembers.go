package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus/bft"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/members"
)

// Membership of a BFT network. `accord node add/remove` asks any node,
// which carries the signed change (its p2p.v1.NodeChange) in the blocks
// it proposes; the block that commits it ends the epoch (consensus/bft
// epoch.go), and every node then derives the next validator set alike
// from the last epoch's member list, the block's changes and, on a
// permissioned chain, the node list governance committed. The driver
// records the set with the member list (members.List) in its epoch
// record, the source of the set at each start.

// bftNextEpoch is the driver's NextEpoch: the chain has applied the
// block that carries the changes, and nothing after it, so every node
// checks each change against the same committed state. A change that
// does not verify is skipped (the same on every node).
func (w *network) bftNextEpoch(genesis members.List, scheme crypto.Scheme) func(bft.EpochChange) (bft.EpochInfo, error) {
	return func(e bft.EpochChange) (bft.EpochInfo, error) {
		l := genesis
		if len(e.Prev.Members) > 0 {
			var err error
			if l, err = members.DecodeList(e.Prev.Members); err != nil {
				return bft.EpochInfo{}, fmt.Errorf("the epoch record's members: %w", err)
			}
		}
		l.Peers = slices.Clone(l.Peers)
		for i, raw := range e.Changes {
			req, err := decodeNodeChange(raw)
			var c *pb.NodeChange
			if err == nil {
				c, err = api.VerifyNodeChange(req, w.chainID, w.issuer, time.UnixMilli(int64(e.Time)))
			}
			if err == nil {
				err = w.govern(c, l.NodeID)
			}
			if err == nil {
				err = l.Apply(c, scheme)
			}
			if err != nil {
				w.log.Warn("membership change in a committed block not applied", "height", e.Height, "change", i, "err", err)
			}
		}
		vs, err := l.Validators(scheme)
		if err != nil {
			return bft.EpochInfo{}, err
		}
		w.setBFTMembers(l)
		return bft.EpochInfo{Validators: vs, Members: l.Encode()}, nil
	}
}

// setBFTMembers makes l the member list: the transport dials new members
// and drops removed ones, and the stored list follows.
func (w *network) setBFTMembers(l members.List) {
	w.mu.Lock()
	old := w.members
	w.bftMaxID = l.MaxID
	w.members = map[uint64]config.Peer{}
	for _, p := range l.Peers {
		w.members[p.ID] = p
	}
	w.mu.Unlock()
	for _, p := range l.Peers {
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
	if err := w.store.PutMeta(peersMeta, members.EncodePeers(l.Peers)); err != nil {
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
