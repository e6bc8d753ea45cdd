package raft

import (
	"context"
	"fmt"

	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/types"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// applyLoop applies queued snapshots and committed entries in log order.
func (e *Engine) applyLoop(ctx context.Context) error {
	applied := e.applied.Load()
	for {
		items := e.q.take()
		if len(items) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-e.q.signal:
			}
			continue
		}
		for _, it := range items {
			ack, err := e.apply(ctx, &applied, it)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			select {
			case e.ackc <- ack:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

func (e *Engine) apply(ctx context.Context, applied *uint64, it applyItem) (applyAck, error) {
	ack := applyAck{resps: it.resps}
	if it.snap != nil {
		if err := e.catchUp(ctx, it); err != nil {
			return ack, err
		}
		md := it.snap.GetMetadata()
		if md.GetIndex() > *applied {
			*applied = md.GetIndex()
			e.applied.Store(*applied)
			ack.index, ack.term = md.GetIndex(), md.GetTerm()
		}
	}
	for _, ent := range it.ents {
		idx := ent.GetIndex()
		if idx <= *applied {
			continue
		}
		switch ent.GetType() {
		case raftpb.EntryNormal:
			if len(ent.GetData()) > 0 { // empty: a new leader's first entry
				if err := e.applyBlock(ctx, ent, &ack); err != nil {
					return ack, err
				}
			}
		case raftpb.EntryConfChange:
			if err := e.applyConfChange(ctx, ent, &ack); err != nil {
				return ack, err
			}
		default:
			return ack, fmt.Errorf("%w: entry %d has type %s, which this engine never proposes", ErrBadEntry, idx, ent.GetType())
		}
		*applied = idx
		e.applied.Store(idx)
		ack.index, ack.term = idx, ent.GetTerm()
	}
	ack.height, _ = e.app.Last()
	return ack, nil
}

// catchUp brings the chain to a snapshot's block by block sync when it is
// behind: after a restart, against the durable height; after receiving a
// snapshot from the leader, against the applied height.
func (e *Engine) catchUp(ctx context.Context, it applyItem) error {
	sd, err := decodeSnapData(it.snap.GetData())
	if err != nil {
		return fmt.Errorf("raft: snapshot at index %d: %w", it.snap.GetMetadata().GetIndex(), err)
	}
	var have uint64
	if it.startup {
		have, _ = e.app.Durable()
	} else {
		have, _ = e.app.Last()
	}
	if sd.Height <= have {
		return nil
	}
	from := e.lead.Load()
	e.log.Info("chain is behind the raft snapshot; syncing blocks", "height", have, "target", sd.Height, "from", from)
	if err := e.app.SyncTo(ctx, sd.Height, sd.Hash, from); err != nil {
		return fmt.Errorf("raft: sync blocks up to height %d from node %d: %w", sd.Height, from, err)
	}
	if h, _ := e.app.Last(); h < sd.Height {
		return fmt.Errorf("raft: block sync returned at height %d, below the snapshot's %d", h, sd.Height)
	}
	return nil
}

// applyBlock applies a committed block entry by the height rule: heights at
// or below the chain's are skipped (a replay after restart, or a stale
// proposal), the next height is applied, and a gap is fatal.
func (e *Engine) applyBlock(ctx context.Context, ent *raftpb.Entry, ack *applyAck) error {
	data := ent.GetData()
	b, err := decodeBlock(data)
	if err != nil {
		return fmt.Errorf("raft: entry %d: %w", ent.GetIndex(), err)
	}
	ack.blocks = append(ack.blocks, blockAt{index: ent.GetIndex(), height: b.Height})
	own := e.takeOwn(data)
	last, lastTime := e.app.Last()
	if b.Height <= last {
		return nil
	}
	if b.Height != last+1 {
		return fmt.Errorf("%w: entry %d holds block %d but the chain is at %d", ErrHeightGap, ent.GetIndex(), b.Height, last)
	}
	txs := own
	if len(txs) != len(b.Txs) {
		txs = make([]*types.Tx, len(b.Txs))
		for i, raw := range b.Txs {
			if txs[i], err = types.DecodeTx(raw, e.cfg.Hash); err != nil {
				return fmt.Errorf("%w: block %d, transaction %d: %v (is this node's version older than the leader's?)", ErrBadEntry, b.Height, i, err)
			}
		}
	}
	p := &consensus.Proposal{Height: b.Height, Time: max(b.Time, lastTime+1), Proposer: b.Proposer, Txs: txs}
	if err := e.app.Apply(ctx, p); err != nil {
		return fmt.Errorf("raft: apply block %d: %w", b.Height, err)
	}
	return nil
}

// takeOwn returns the decoded transactions of a block this node proposed, so
// the leader does not decode them again.
func (e *Engine) takeOwn(data []byte) []*types.Tx {
	e.ownMu.Lock()
	defer e.ownMu.Unlock()
	txs, ok := e.own[&data[0]]
	if ok {
		delete(e.own, &data[0])
	}
	return txs
}

func (e *Engine) applyConfChange(ctx context.Context, ent *raftpb.Entry, ack *applyAck) error {
	cc := new(raftpb.ConfChange)
	if err := proto.Unmarshal(ent.GetData(), cc); err != nil {
		return fmt.Errorf("%w: entry %d: membership change: %v", ErrBadEntry, ent.GetIndex(), err)
	}
	var typ ConfChangeType
	switch cc.GetType() {
	case raftpb.ConfChangeAddNode:
		typ = ConfAddNode
	case raftpb.ConfChangeRemoveNode:
		typ = ConfRemoveNode
	default:
		return fmt.Errorf("%w: entry %d: membership change %s, which this engine never proposes", ErrBadEntry, ent.GetIndex(), cc.GetType())
	}
	reply := make(chan *raftpb.ConfState, 1)
	select {
	case e.confc <- confReq{cc: cc, index: ent.GetIndex(), reply: reply}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	e.log.Info("membership change applied", "change", typ.String(), "node", cc.GetNodeId(), "index", ent.GetIndex())
	if e.cfg.OnConfChange != nil {
		e.cfg.OnConfChange(ConfChange{Type: typ, ID: cc.GetNodeId(), Context: cc.GetContext()})
	}
	ack.confIDs = append(ack.confIDs, cc.GetId())
	if typ == ConfRemoveNode && cc.GetNodeId() == e.cfg.ID {
		ack.removed = true
	}
	return nil
}
