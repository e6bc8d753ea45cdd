package bft

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/accord-chain/accord/consensus/bft/pb"
)

// ---- the block tree ----

// insert puts a checked block in the tree and hands it out to persist.
func (c *Core) insert(b *pb.Block, parent *node, hash []byte) *node {
	n := c.link(b, parent)
	n.hash = hash
	c.persistBlock(n)
	if q := c.qcs[string(hash)]; q != nil {
		c.certify(n, q)
	}
	if len(c.orphans) > 0 {
		c.retryOrphans()
	}
	return n
}

// link makes b a child of parent and computes its reputation data.
func (c *Core) link(b *pb.Block, parent *node) *node {
	n := &node{b: b, hash: c.blockHash(b), parent: parent}
	c.blocks[string(n.hash)] = n
	if c.cfg.LeaderSchedule == nil {
		c.reputation(n)
	}
	return n
}

func (c *Core) persistBlock(n *node) {
	if k := string(n.hash); !c.rdBlocks[k] && n != c.root {
		c.rdBlocks[k] = true
		c.rd.Blocks = append(c.rd.Blocks, n.b)
	}
}

// queueExec hands out n's certified children (and theirs) for execution
// once n's result is known.
func (c *Core) queueExec(n *node) {
	if n.qc != nil && !n.execd && n.parent != nil && n.parent.result != nil {
		n.execd = true
		c.rd.Execute = append(c.rd.Execute, n.b)
	}
}

// Executed reports the execution result of a block handed out in
// Ready.Execute.
// endsEpoch says that executing the block changed the validator set:
// when it commits, the epoch ends with it.
func (c *Core) Executed(hash, result []byte, endsEpoch bool) error {
	if c.readyTaken {
		return ErrAdvance
	}
	n := c.blocks[string(hash)]
	if n == nil {
		return ErrUnknownBlock
	}
	if len(result) != HashSize {
		return fmt.Errorf("%w: a result of %d bytes, want %d", ErrConfig, len(result), HashSize)
	}
	n.result = bytes.Clone(result)
	n.ends = endsEpoch
	for _, ch := range c.children(n) {
		c.queueExec(ch)
	}
	c.flushCommits()
	return c.after()
}

// endsAbove reports whether n or an uncommitted ancestor ends the epoch.
func endsAbove(n *node) bool {
	for x := n; x != nil && !x.committed; x = x.parent {
		if x.ends {
			return true
		}
	}
	return false
}

// children returns n's children in hash order.
func (c *Core) children(n *node) []*node {
	var out []*node
	for _, ch := range c.blocks {
		if ch.parent == n {
			out = append(out, ch)
		}
	}
	slices.SortFunc(out, func(a, b *node) int { return bytes.Compare(a.hash, b.hash) })
	return out
}

// commit records that n is final. child is n's certified child that
// proves it (nil under the one-chain bug).
func (c *Core) commit(n, child *node) {
	if n.b.Height <= c.root.b.Height || (c.target != nil && n.b.Height <= c.target.b.Height) {
		return
	}
	x := n
	for x != nil && x.b.Height > c.root.b.Height {
		x = x.parent
	}
	if x != c.root {
		return // does not extend the committed chain: cannot happen while f or fewer are faulty
	}
	c.target = n
	c.targetChild = child
	c.flushCommits()
}

// flushCommits hands out the blocks from the root up to the commit target
// that this node has executed (it must know whether a block ends the
// epoch before it commits the next), and ends the epoch at a block that
// changes the validator set.
func (c *Core) flushCommits() {
	if c.target == nil || c.ended {
		return
	}
	var chain []*node
	for x := c.target; x != c.root; x = x.parent {
		chain = append(chain, x)
	}
	slices.Reverse(chain)
	moved := false
	for i, x := range chain {
		if x.result == nil && !c.cfg.bugs.oneChainCommit {
			break
		}
		next := c.targetChild
		if i+1 < len(chain) {
			next = chain[i+1]
		}
		cm := Commit{Block: x.b, Hash: x.hash, Result: x.result,
			Reputation: Reputation{Anchor: slices.Clone(x.anchorExcl)}}
		for _, f := range x.fails {
			cm.Reputation.Failed = append(cm.Reputation.Failed, Failure{Round: f.round, ID: f.id})
		}
		if next != nil {
			cm.QC = next.b.Justify
			if next.qc != nil {
				cm.Proof = next.qc
				cm.Result = next.qc.Data.ParentResult
			}
		}
		c.rd.Committed = append(c.rd.Committed, cm)
		x.committed = true
		c.root = x
		moved = true
		if x.ends {
			c.ended = true
			c.rd.EpochEnded = true
			// The target's certified child proves the target, and so
			// this block, committed: a node that lags the epoch gets it.
			if t := c.targetChild; t != nil && t.qc != nil {
				c.endProof = t
			}
			break
		}
	}
	if c.root == c.target {
		c.target, c.targetChild = nil, nil
	}
	if moved {
		c.prune()
	}
}

// prune drops blocks that neither descend from the root nor are among
// its last keepCommitted ancestors, and state of rounds gone by.
func (c *Core) prune() {
	keep := map[*node]bool{}
	x := c.root
	for i := 0; x != nil && i < keepCommitted; i++ {
		keep[x] = true
		if i == keepCommitted-1 {
			x.parent = nil
		}
		x = x.parent
	}
	for k, n := range c.blocks {
		if keep[n] {
			continue
		}
		a := n
		for a != nil && a.b.Height > c.root.b.Height {
			a = a.parent
		}
		if a != c.root {
			delete(c.blocks, k)
		}
	}
	rr := c.root.b.Round
	for k := range c.seenVotes {
		if k.round+maxRoundAhead < rr {
			delete(c.seenVotes, k)
		}
	}
	for k := range c.seenProps {
		if k.round+maxRoundAhead < rr {
			delete(c.seenProps, k)
		}
	}
	for k, q := range c.qcs {
		if q.Data.Round <= rr {
			delete(c.qcs, k)
		}
	}
	for k, r := range c.verified {
		if r < rr {
			delete(c.verified, k)
		}
	}
	for k := range c.evidenced {
		if k.round+maxRoundAhead < rr {
			delete(c.evidenced, k)
		}
	}
}
