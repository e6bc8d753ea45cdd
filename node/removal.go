package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus/raft"
	"github.com/accord-chain/accord/p2p"
)

// How a removed node learns of its removal when the leader dropped it
// before the removal entry reached it: Raft then never tells it, and it
// campaigns forever without a quorum. While it sees no leader it asks its
// peers whether the network removed it; a peer answers from its committed
// membership, and the node stops with raft.ErrRemoved. Raft ids are never
// reused, so an id at or below the network's highest that is not a voter
// can only be a removed one, and no peer, however far behind, answers
// "removed" wrongly.

// chRemoved is the request channel of the question (p2p.v1.RemovedQuery,
// answered with a RemovedAnswer).
const chRemoved p2p.Channel = 7

// removalCheckEvery is how often a node without a leader asks its peers
// whether it was removed; removalGrace is how long it first waits, since a
// starting node and a new election both lack a leader for a while.
const (
	removalCheckEvery = time.Second
	removalGrace      = 3 * time.Second
)

// wasRemoved reports whether st, a node's committed view, shows id as a
// node the network removed: used (at or below MaxID) and not a voter.
func wasRemoved(st raft.Status, id uint64) bool {
	return id <= st.MaxID && !slices.Contains(st.Voters, id)
}

// serveRemoved answers whether the asking Raft id was removed.
func (w *network) serveRemoved(_ context.Context, _ string, _ p2p.Channel, payload []byte) ([]byte, error) {
	id, err := decodeRemovedQuery(payload)
	if err != nil {
		return nil, err
	}
	if w.eng == nil {
		return encodeRemovedAnswer(false), nil // a removed BFT validator stops at the epoch change itself
	}
	return encodeRemovedAnswer(wasRemoved(w.eng.Status(), id)), nil
}

// watchRemoval asks the peers, while this node has seen no leader for
// removalGrace, whether the network removed it, and stops the engine
// (raft.ErrRemoved) when one says so. It returns when ctx ends.
func (w *network) watchRemoval(ctx context.Context) {
	t := w.clock.NewTicker(removalCheckEvery)
	defer t.Stop()
	var since time.Time // when this node last had a leader
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		st := w.eng.Status()
		if st.Leader != 0 || st.Removed || since.IsZero() {
			since = w.clock.Now()
			continue
		}
		if clock.Since(w.clock, since) < removalGrace {
			continue
		}
		if by, ok := w.askRemoved(ctx, st.ID); ok {
			w.log.Warn("the network removed this node; stopping", "told_by", by, "raft_id", st.ID)
			w.eng.MarkRemoved()
			return
		}
	}
}

// askRemoved asks each connected peer in turn; it returns the first that
// answers "removed".
func (w *network) askRemoved(ctx context.Context, id uint64) (string, bool) {
	q := encodeRemovedQuery(id)
	for _, p := range w.tr.Peers() {
		if !p.Connected {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := w.tr.Request(rctx, p.ID, chRemoved, q)
		cancel()
		if err != nil {
			continue // an old peer without the channel, or unreachable
		}
		if removed, err := decodeRemovedAnswer(resp); err == nil && removed {
			return p.ID, true
		}
	}
	return "", false
}

// Members implements api.Network.
func (w *network) Members() ([]*pb.Member, uint64) {
	if w.bftd != nil {
		return w.bftMembers()
	}
	w.mu.Lock()
	out := make([]*pb.Member, 0, len(w.members))
	for _, p := range w.members {
		out = append(out, &pb.Member{Id: p.ID, NodeId: p.NodeID, P2PAddress: p.P2P, ApiAddress: p.API})
	}
	w.mu.Unlock()
	slices.SortFunc(out, func(a, b *pb.Member) int { return cmp.Compare(a.Id, b.Id) })
	return out, w.eng.Status().MaxID
}

// RemovedFile, in a node home, records that the network removed the node:
// its Raft id never comes back, so the home must not be started again.
const RemovedFile = "REMOVED"

// MarkRemoved writes RemovedFile into home, with why.
func MarkRemoved(home string, why error) error {
	msg := fmt.Sprintf("%s\nThis node was removed from the cluster and its Raft id is never reused. To bring the machine back, admit it as a new node (accord node add); see docs/operations.md.\n", why)
	return os.WriteFile(filepath.Join(home, RemovedFile), []byte(msg), 0o600)
}

// ErrRemovedHome is what starting a home marked with RemovedFile gives.
var ErrRemovedHome = errors.New("this node was removed from the cluster: its Raft id is never reused, so it cannot start again; admit the machine as a new node (accord node add, see docs/operations.md)")

// CheckNotRemoved returns ErrRemovedHome for a home marked removed.
func CheckNotRemoved(home string) error {
	if _, err := os.Stat(filepath.Join(home, RemovedFile)); err == nil {
		return fmt.Errorf("%s: %w", home, ErrRemovedHome)
	}
	return nil
}
