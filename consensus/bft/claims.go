package bft

import (
	"strconv"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// Claims keep a transaction out of two blocks of one chain. Clients may
// send to any validator and validators pass on what they admit, so several
// pools hold the same transaction and any leader may propose it. Before a
// proposal the driver claims in the pool the transactions of the blocks
// the proposal extends (the highest certified block and its uncommitted
// ancestors) and releases those of blocks it held that are no longer among
// them; at a commit it claims the committed blocks' transactions, which
// the chain's Update then drops from the pool. A claimed transaction is
// not reaped.
//
// Only ancestors count: a transaction in a block of another branch may go
// into this one, since at most one of the two commits. Claiming blocks
// that are merely stored would be worse than needless: a sender's next
// nonce would go into a block on one branch while the previous one waits
// in a block on a branch that never commits, and fail.
//
// None of this touches consensus: it only decides what this node proposes.

// claimed is a held block's transactions, by id, and its height.
type claimed struct {
	height uint64
	ids    []types.Hash
}

// claims is what the driver holds claimed in its pool. Owned by the Run
// goroutine.
type claims struct {
	// held: the blocks the last proposal extended, by hash, and that
	// proposal (by its round, see holdProposal), each until the next
	// proposal or a commit at or above its height.
	held  map[string]claimed
	count map[types.Hash]int32 // how many held blocks carry each id
}

// blockTxIDs returns the ids of the transactions of b, whose hash is
// hash; none when its payload or one of its transactions does not decode
// (it then commits empty, see apply). A block executed already has them
// decoded.
func (d *Driver) blockTxIDs(hash []byte, b *pb.Block) []types.Hash {
	if x := d.execs[string(hash)]; x != nil && x.p != nil {
		ids := make([]types.Hash, len(x.p.Txs))
		for i, tx := range x.p.Txs {
			ids[i] = tx.ID
		}
		return ids
	}
	p, err := decodePayload(b.Payload)
	if err != nil || len(p.Txs) == 0 {
		return nil
	}
	ids := make([]types.Hash, len(p.Txs))
	for i, raw := range p.Txs {
		id, err := types.TxID(raw, d.cfg.Core.Hash)
		if err != nil {
			return nil
		}
		ids[i] = id
	}
	return ids
}

// certifiedPath returns the blocks a proposal now extends: the highest
// certified block and its ancestors above the committed root.
func (c *Core) certifiedPath() []*node {
	var out []*node
	for n := c.blocks[string(c.hqc.Data.Block)]; n != nil && n != c.root && n.b.Height > c.root.b.Height; n = n.parent {
		out = append(out, n)
	}
	return out
}

// hold adds a block's transactions to the held ones, appending to fresh
// the ids that were not held.
func (d *Driver) hold(key string, height uint64, ids []types.Hash, fresh []types.Hash) []types.Hash {
	d.claims.held[key] = claimed{height: height, ids: ids}
	for _, id := range ids {
		if d.claims.count[id] == 0 {
			fresh = append(fresh, id)
		}
		d.claims.count[id]++
	}
	return fresh
}

// release drops a held block, appending to back the ids no held block
// carries any more (ids of committed transactions are no longer counted
// and stay claimed).
func (d *Driver) release(key string, back []types.Hash) []types.Hash {
	for _, id := range d.claims.held[key].ids {
		n, ok := d.claims.count[id]
		switch {
		case !ok:
		case n <= 1:
			delete(d.claims.count, id)
			back = append(back, id)
		default:
			d.claims.count[id] = n - 1
		}
	}
	delete(d.claims.held, key)
	return back
}

// syncClaims makes the held blocks those the next proposal extends, and
// returns the height that proposal will have.
func (d *Driver) syncClaims() uint64 {
	path := d.core.certifiedPath()
	next := d.core.root.b.Height + 1
	if len(path) > 0 {
		next = path[0].b.Height + 1
	}
	on := make(map[string]bool, len(path))
	var fresh, back []types.Hash
	for _, n := range path {
		k := string(n.hash)
		on[k] = true
		if _, ok := d.claims.held[k]; !ok {
			if ids := d.blockTxIDs(n.hash, n.b); len(ids) > 0 {
				fresh = d.hold(k, n.b.Height, ids, fresh)
			}
		}
	}
	for k := range d.claims.held {
		if !on[k] {
			back = d.release(k, back)
		}
	}
	// Claims are made first: a transaction that moves from a released
	// block to a held one stays claimed throughout.
	if len(fresh) > 0 {
		d.pool.Claim(fresh)
	}
	if len(back) > 0 {
		d.pool.Unclaim(back)
	}
	return next
}

// holdProposal holds this node's new proposal of round, at height, until
// the next sync or a commit at its height: its transactions are reaped,
// and go back to the pool then unless the proposal is among the blocks the
// next proposal extends, or committed.
func (d *Driver) holdProposal(round, height uint64, txs []*types.Tx) {
	ids := make([]types.Hash, len(txs))
	for i, tx := range txs {
		ids[i] = tx.ID
	}
	d.hold(ownKey(round), height, ids, nil) // reaped already: nothing to claim
}

func ownKey(round uint64) string { return "own/" + strconv.FormatUint(round, 10) }

// resetClaims forgets every claim, in the pool too, when the driver
// starts on a new root: what the old blocks carried either committed
// (the chain has applied it) or never will.
func (d *Driver) resetClaims() {
	clear(d.claims.held)
	clear(d.claims.count)
	d.pool.ResetReaped()
}

// settleClaims claims the transactions of committed blocks until the
// chain's Update drops them from the pool, whether or not they were held,
// and stops counting them, so that releasing another block that carries
// one of them does not make it reapable. Held blocks at or below the
// committed height that did not commit never will: they are released.
// Called before the blocks go to the chain, so that Update comes after.
func (d *Driver) settleClaims(cs []Commit, height uint64) {
	var fresh []types.Hash
	for _, c := range cs {
		k := string(c.Hash)
		ids := d.claims.held[k].ids
		if _, ok := d.claims.held[k]; !ok {
			ids = d.blockTxIDs(c.Hash, c.Block)
		}
		for _, id := range ids {
			if _, ok := d.claims.count[id]; ok {
				delete(d.claims.count, id)
			} else {
				fresh = append(fresh, id)
			}
		}
		delete(d.claims.held, k)
	}
	var back []types.Hash
	for k, cl := range d.claims.held {
		if cl.height <= height {
			back = d.release(k, back)
		}
	}
	if len(fresh) > 0 {
		d.pool.Claim(fresh)
	}
	if len(back) > 0 {
		d.pool.Unclaim(back)
	}
}
