package raft

import (
	"context"
	"errors"
	"fmt"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// AddNode makes id a voter. context travels with the change to every node's
// Config.OnConfChange (for example the node's address). It returns once the
// change is applied here, ErrNotLeader on a follower, ErrIDUsed for an id
// the cluster used before, or ErrBusy if a previous change is still in
// flight (or the leader still catching up) when ctx ends: it waits for them.
func (e *Engine) AddNode(ctx context.Context, id uint64, context []byte) error {
	return e.changeConf(ctx, &raftpb.ConfChange{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: &id, Context: context})
}

// RemoveNode removes id from the voters; it may be the leader itself, which
// then steps down and whose Run returns ErrRemoved. It returns once the
// change is applied here, with the errors of AddNode.
func (e *Engine) RemoveNode(ctx context.Context, id uint64) error {
	return e.changeConf(ctx, &raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: &id})
}

func (e *Engine) changeConf(ctx context.Context, cc *raftpb.ConfChange) error {
	if cc.GetNodeId() == 0 {
		return errors.New("raft: node id must be non-zero")
	}
	var r request
	for {
		r = request{cc: cc, accepted: make(chan error, 1), done: make(chan error, 1)}
		select {
		case e.reqc <- r:
		case <-ctx.Done():
			return ctx.Err()
		case <-e.stopped:
			return ErrStopped
		}
		err := <-r.accepted
		if err == nil {
			break
		}
		if !errors.Is(err, ErrBusy) {
			return err
		}
		// The previous change is being acknowledged, or a new leader is
		// applying its predecessor's entries: both end shortly.
		retry := e.clock.NewTimer(busyRetry)
		select {
		case <-retry.C():
		case <-ctx.Done():
			retry.Stop()
			return fmt.Errorf("%w (%v)", ErrBusy, ctx.Err())
		case <-e.stopped:
			retry.Stop()
			return ErrStopped
		}
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("raft: membership change proposed but not yet applied: %w", ctx.Err())
	case <-e.stopped:
		return ErrStopped
	}
}

// MarkRemoved tells the engine that the cluster removed this node, as a
// peer's committed membership shows, although this node never applied its
// removal (the leader dropped it first, so the entry never reached it). Run
// then returns ErrRemoved. Never blocks.
func (e *Engine) MarkRemoved() {
	select {
	case e.evictc <- struct{}{}:
	default:
	}
}

// maxIDIn returns the highest id cs names.
func maxIDIn(cs *raftpb.ConfState) uint64 {
	var m uint64
	for _, ids := range [][]uint64{cs.GetVoters(), cs.GetVotersOutgoing(), cs.GetLearners(), cs.GetLearnersNext()} {
		for _, id := range ids {
			m = max(m, id)
		}
	}
	return m
}

// snapMaxID returns the highest id used up to a snapshot's index: its data
// says (version 2), and its ConfState's ids are used too.
func snapMaxID(snap *raftpb.Snapshot) uint64 {
	m := maxIDIn(snap.GetMetadata().GetConfState())
	if etcdraft.IsEmptySnap(snap) {
		return m
	}
	if sd, err := decodeSnapData(snap.GetData()); err == nil {
		m = max(m, sd.MaxID)
	}
	return m
}
