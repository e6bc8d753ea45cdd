package bft

import (
	"bytes"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
	"google.golang.org/protobuf/proto"
)

// ---- certificates ----

// processQC checks q and takes what it tells: the block is certified,
// the round may advance, a block may commit. Each distinct QC is verified
// once. A round-0 QC is the genesis QC: it has no signatures and tells
// nothing.
func (c *Core) processQC(from string, q *pb.QC) error {
	if q == nil || q.Data == nil {
		return bad("missing quorum certificate")
	}
	if q.Data.Round == 0 {
		if q.Data.Height != 0 || len(q.Sigs) != 0 {
			return bad("a round-0 certificate of height %d", q.Data.Height)
		}
		return nil
	}
	if q.Data.Round < c.root.b.Round {
		return nil // below what this node committed: nothing to learn (and not trusted)
	}
	id := c.certID(q)
	if q.Data.Round == c.root.b.Round && q.Data.Height == c.root.b.Height && bytes.Equal(q.Data.Block, c.root.hash) {
		// A QC of this node's committed root claims nothing it does not
		// know. An epoch's root was certified by the previous epoch's
		// validators, whose signatures this core cannot check, and
		// honest nodes may hold different QCs of it.
		c.verified[id] = q.Data.Round
		return nil
	}
	if _, ok := c.verified[id]; !ok {
		if err := c.verifyQC(q); err != nil {
			return err
		}
		c.verified[id] = q.Data.Round
	}
	if q.Data.Round == c.root.b.Round {
		return nil
	}
	key := string(q.Data.Block)
	n := c.blocks[key]
	if n == nil {
		if c.qcs[key] == nil {
			c.qcs[key] = q
		}
		c.fetch(from, q.Data.Block)
	} else if n.qc == nil {
		c.certify(n, q)
	}
	if q.Data.Round > c.hqc.Data.Round {
		c.hqc = q
		c.stateDirty = true
	}
	if q.Data.Round+1 > c.round {
		c.enterRound(q.Data.Round + 1)
	}
	return nil
}

// trusted reports whether q was verified here (or is the genesis QC,
// which claims nothing).
func (c *Core) trusted(q *pb.QC) bool {
	if q.Data.Round == 0 {
		return true
	}
	_, ok := c.verified[c.certID(q)]
	return ok
}

// certID identifies a certificate by the hash of its encoding.
func (c *Core) certID(m proto.Message) string {
	h := c.cfg.Hash.Sum(types.EncodeCanonical(m))
	return string(h[:])
}

func (c *Core) verifyQC(q *pb.QC) error {
	d := q.Data
	if d.Round == 0 {
		if d.Height == 0 && c.root.b.Height == 0 && bytes.Equal(d.Block, c.root.hash) {
			return nil
		}
		return bad("a round-0 certificate for a block that is not this chain's genesis")
	}
	vs := c.cfg.Validators
	idx, err := bitmapIndexes(q.Signers, len(vs))
	if err != nil {
		return err
	}
	if len(idx) < c.quorum(vs) || len(idx) != len(q.Sigs) {
		return bad("certificate with %d signers, %d needed", len(idx), c.quorum(vs))
	}
	msg := c.voteSignBytes(d)
	for i, vi := range idx {
		if !c.cfg.Verifier.Verify(vs[vi].PubKey, msg, q.Sigs[i]) {
			return bad("certificate signature of %s does not verify", vs[vi].ID)
		}
	}
	return nil
}

func bitmapIndexes(bm []byte, n int) ([]int, error) {
	var idx []int
	for i := 0; i < len(bm)*8; i++ {
		if bm[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if i >= n {
			return nil, bad("signer bitmap names validator %d of %d", i, n)
		}
		idx = append(idx, i)
	}
	return idx, nil
}

func setBit(bm []byte, i int) { bm[i/8] |= 1 << (i % 8) }

// certify records n's QC: n may now be executed, and n's parent commits
// if n directly follows it (the two-chain rule).
func (c *Core) certify(n *node, q *pb.QC) {
	n.qc = q
	delete(c.qcs, string(n.hash))
	c.queueExec(n)
	if c.cfg.bugs.oneChainCommit {
		c.commit(n, nil)
		return
	}
	if p := n.parent; p != nil && n.b.Round == p.b.Round+1 {
		c.commit(p, n)
	}
}

// processTC checks t (each distinct TC once) and may advance the round.
// A TC older than this node's highest cannot justify a vote here (votes
// are only for the current round, after the highest TC) and is ignored.
func (c *Core) processTC(from string, t *pb.TC) error {
	if t == nil || (c.htc != nil && t.Round < c.htc.Round) {
		return nil
	}
	id := c.certID(t)
	if _, ok := c.verified[id]; ok {
		return nil
	}
	if err := c.processQC(from, t.HighQc); err != nil {
		return err
	}
	if !c.trusted(t.HighQc) {
		return nil // its QC is below this node's root: too old to matter
	}
	vs := c.cfg.Validators
	idx, err := bitmapIndexes(t.Signers, len(vs))
	if err != nil {
		return err
	}
	if len(idx) < c.quorum(vs) || len(idx) != len(t.Sigs) || len(idx) != len(t.HqcRounds) {
		return bad("timeout certificate with %d signers, %d needed", len(idx), c.quorum(vs))
	}
	var maxRound uint64
	for i, vi := range idx {
		maxRound = max(maxRound, t.HqcRounds[i])
		if t.HqcRounds[i] >= t.Round {
			return bad("timeout for round %d claims a QC of round %d", t.Round, t.HqcRounds[i])
		}
		if !c.cfg.Verifier.Verify(vs[vi].PubKey, c.timeoutSignBytes(t.Round, t.HqcRounds[i]), t.Sigs[i]) {
			return bad("timeout signature of %s does not verify", vs[vi].ID)
		}
	}
	if maxRound != t.HighQc.Data.Round {
		return bad("timeout certificate's QC is of round %d, its signers claim %d", t.HighQc.Data.Round, maxRound)
	}
	c.verified[id] = t.Round
	if c.htc != nil && t.Round <= c.htc.Round {
		return nil
	}
	c.htc = t
	c.stateDirty = true
	if t.Round+1 > c.round {
		c.enterRound(t.Round + 1)
	}
	return nil
}

func (c *Core) enterRound(r uint64) {
	c.round = r
	c.ticks = 0
	for old := range c.votes {
		if old+1 < r {
			delete(c.votes, old)
		}
	}
	for old := range c.timeouts {
		if old < r {
			delete(c.timeouts, old)
		}
	}
	for k := range c.pending {
		if k.round < r {
			delete(c.pending, k)
		}
	}
}
