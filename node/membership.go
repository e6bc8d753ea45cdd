package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus/raft"
	"github.com/accord-chain/accord/internal/members"
	"github.com/accord-chain/accord/p2p"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// Membership of a Raft network: the member list, kept in step with the
// Raft configuration, and the changes the API asks for.

// peersMeta is the store meta entry holding the network's current members
// (p2p.v1.Members), rewritten on every membership change.
const peersMeta = "raft_peers"

// confChanged keeps the transport's peers and the stored member list in
// step with the Raft configuration.
func (w *network) confChanged(cc raft.ConfChange) {
	w.mu.Lock()
	switch cc.Type {
	case raft.ConfAddNode:
		if len(cc.Context) == 0 {
			// A founding member (the network's first configuration
			// carries no addresses: they are in the config file). One
			// missing from the member list was removed later in the log.
			w.mu.Unlock()
			return
		}
		p, err := members.DecodePeer(cc.Context)
		if err == nil && p.ID != cc.ID {
			err = fmt.Errorf("the change adds node %d but its address names node %d", cc.ID, p.ID)
		}
		if err != nil {
			w.mu.Unlock()
			w.log.Error("membership change without a usable address", "id", cc.ID, "err", err)
			return
		}
		w.members[p.ID] = p
		if p.ID != w.self {
			if err := w.tr.AddPeer(p.NodeID, p.P2P); err != nil {
				w.log.Warn("adding peer", "node", p.NodeID, "err", err)
			}
		}
	case raft.ConfRemoveNode:
		p, ok := w.members[cc.ID]
		delete(w.members, cc.ID)
		if ok && p.ID != w.self {
			w.tr.RemovePeer(p.NodeID)
			w.chain.Forget(p.NodeID)
		}
	}
	list := make([]config.Peer, 0, len(w.members))
	for _, p := range w.members {
		list = append(list, p)
	}
	w.mu.Unlock()
	slices.SortFunc(list, func(a, b config.Peer) int { return cmp.Compare(a.ID, b.ID) })
	if err := w.store.PutMeta(peersMeta, members.EncodePeers(list)); err != nil {
		w.log.Error("storing the member list", "err", err)
	}
	w.log.Info("membership changed", "type", cc.Type, "id", cc.ID, "members", len(list))
}

// ChangeNodes implements api.Network.
func (w *network) ChangeNodes(ctx context.Context, req *pb.ChangeNodesRequest, c *pb.NodeChange) ([]string, error) {
	if w.bftd != nil {
		return w.bftChangeNodes(ctx, req, c)
	}
	leader, self, err := w.leaderName()
	if err != nil {
		return nil, err
	}
	if !self {
		resp, err := w.tr.Request(ctx, leader, chNodes, encodeNodeChange(req))
		if refused := (*p2p.RemoteError)(nil); errors.As(err, &refused) {
			// The leader answered: a refusal is final, whatever the
			// member list here says.
			return nil, fmt.Errorf("leader %s: %s", leader, refused.Msg)
		}
		if err != nil {
			// Removing the leader itself drops this node's connection to
			// it as the change applies here: the answer is lost, not the
			// change. Look for the change locally before reporting.
			if w.applied(ctx, c) {
				return w.memberNames(), nil
			}
			return nil, fmt.Errorf("forwarding to leader %s: %w", leader, err)
		}
		var out p2ppb.NodeChangeReply
		if err := p2ppb.Decode(resp, &out); err != nil {
			return nil, fmt.Errorf("leader %s: %w", leader, err)
		}
		return out.Members, nil
	}
	if err := w.govern(c, w.nodeID); err != nil {
		return nil, err
	}
	switch c.Op {
	case "add":
		if _, ok := w.nodeID(c.Id); ok {
			return nil, fmt.Errorf("node %d is already a member", c.Id)
		}
		p := config.Peer{ID: c.Id, NodeID: c.NodeId, P2P: c.P2PAddress, API: c.ApiAddress}
		b := members.EncodePeer(p)
		if err := w.eng.AddNode(ctx, c.Id, b); err != nil {
			return nil, err
		}
		// Applied; recording it again here (it is idempotent) makes the
		// answer include it whichever goroutine ran the callback first.
		w.confChanged(raft.ConfChange{Type: raft.ConfAddNode, ID: c.Id, Context: b})
	case "remove":
		if _, ok := w.nodeID(c.Id); !ok {
			return nil, fmt.Errorf("node %d is not a member", c.Id)
		}
		if err := w.eng.RemoveNode(ctx, c.Id); err != nil {
			return nil, err
		}
		w.confChanged(raft.ConfChange{Type: raft.ConfRemoveNode, ID: c.Id})
	}
	return w.memberNames(), nil
}

// applied reports whether c shows in this node's member list within a
// few seconds.
func (w *network) applied(ctx context.Context, c *pb.NodeChange) bool {
	for range 50 {
		name, member := w.nodeID(c.Id)
		if c.Op == "add" && member && name == c.NodeId || c.Op == "remove" && !member {
			return true
		}
		if !clock.Sleep(w.clock, 100*time.Millisecond, ctx.Done()) {
			return false
		}
	}
	return false
}

func (w *network) memberNames() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.members))
	for _, p := range w.members {
		out = append(out, p.NodeID)
	}
	slices.Sort(out)
	return out
}

// serveNodes carries out a membership change another node forwarded.
func (w *network) serveNodes(ctx context.Context, from string, _ p2p.Channel, payload []byte) ([]byte, error) {
	req, err := decodeNodeChange(payload)
	if err != nil {
		return nil, err
	}
	c, err := api.VerifyNodeChange(req, w.chainID, w.issuer, w.clock.Now())
	if err != nil {
		return nil, err
	}
	if _, self, err := w.leaderName(); err != nil || !self {
		return nil, errors.New("not the leader (any more); retry")
	}
	members, err := w.ChangeNodes(ctx, req, c)
	if err != nil {
		return nil, err
	}
	return p2ppb.Marshal(&p2ppb.NodeChangeReply{Version: p2ppb.Version, Members: members}), nil
}
