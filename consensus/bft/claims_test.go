package bft

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/accord-chain/accord/types"
)

// Claim takes ready transactions out of reach of Reap, and remembers
// unknown ids so that a copy added later is claimed (as txpool does).
func (p *memPool) Claim(ids []types.Hash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if i := slices.IndexFunc(p.ready, func(tx *types.Tx) bool { return tx.ID == id }); i >= 0 {
			p.out = append(p.out, p.ready[i])
			p.ready = slices.Delete(p.ready, i, i+1)
		} else if !slices.ContainsFunc(p.out, func(tx *types.Tx) bool { return tx.ID == id }) {
			p.claimed[id] = true
		}
	}
}

// Unclaim makes claimed transactions reapable again.
func (p *memPool) Unclaim(ids []types.Hash) {
	p.mu.Lock()
	for _, id := range ids {
		delete(p.claimed, id)
		if i := slices.IndexFunc(p.out, func(tx *types.Tx) bool { return tx.ID == id }); i >= 0 {
			p.ready = append(p.ready, p.out[i])
			p.out = slices.Delete(p.out, i, i+1)
		}
	}
	p.mu.Unlock()
	select {
	case p.ch <- struct{}{}:
	default:
	}
}

func (p *memPool) holdsClaimed(id types.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.claimed[id] || slices.ContainsFunc(p.out, func(tx *types.Tx) bool { return tx.ID == id })
}

// checkOnce fails unless each of want committed exactly once on each node.
func (c *testCluster) checkOnce(want []*types.Tx, nodes ...int) {
	c.t.Helper()
	for _, i := range nodes {
		ids := c.apps[i].txIDs()
		for _, tx := range want {
			if n := countOf(ids, tx.ID.String()); n != 1 {
				c.t.Errorf("node %d committed transaction %d times, want once", i, n)
			}
		}
		if len(ids) != len(want) {
			c.t.Errorf("node %d committed %d transactions, want %d", i, len(ids), len(want))
		}
	}
}

func countOf(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// Validators pass on what clients send them, so every pool holds every
// transaction and every leader may propose it: each must commit once.
func TestDriverTxInEveryPoolCommitsOnce(t *testing.T) {
	c := newTestCluster(t, 4)
	var txs []*types.Tx
	for i := range 60 {
		tx := testTx(t, i)
		txs = append(txs, tx)
		for k := range 4 {
			// The copies arrive in different orders, as from peers.
			c.pools[(i+k)%4].add(tx)
		}
	}
	for i := range 4 {
		waitFor(t, fmt.Sprintf("node %d to commit every transaction", i), func() bool { return hasAll(c.apps[i].txIDs(), txs) })
	}
	c.settle()
	c.checkSame(0, 1, 2, 3)
	c.checkOnce(txs, 0, 1, 2, 3)
}

// settle waits until no pool has anything to propose and every block
// proposed before is committed: a duplicate would have committed by then.
func (c *testCluster) settle(nodes ...int) {
	c.t.Helper()
	if len(nodes) == 0 {
		nodes = []int{0, 1, 2, 3}
	}
	waitFor(c.t, "the pools to empty", func() bool {
		for _, i := range nodes {
			if n, _ := c.pools[i].ReadyLen(); n > 0 {
				return false
			}
		}
		return true
	})
	// A block reaped before is at most a few heights above the committed
	// one; empty blocks keep coming.
	h := c.apps[nodes[0]].height() + 8
	for _, i := range nodes {
		waitFor(c.t, fmt.Sprintf("node %d to commit past the pending blocks", i), func() bool { return c.apps[i].height() >= h })
	}
}

// proposalFilter drops its node's proposals that carry transactions on the
// way to the nodes named in drop, and counts those it lets through.
type proposalFilter struct {
	memTransport
	drop map[string]bool
	sent *atomic.Int32
}

func (f proposalFilter) Send(to string, msg []byte) {
	if m, err := DecodeMessage(msg); err == nil && m.GetProposal() != nil {
		if p, err := decodePayload(m.GetProposal().GetBlock().GetPayload()); err == nil && len(p.Txs) > 0 {
			if f.drop[to] {
				return
			}
			defer f.sent.Add(1)
		}
	}
	f.memTransport.Send(to, msg)
}

// A leader proposes a transaction it was forwarded and dies before its
// block is certified; only node 0, which forwarded it, got the block. Node
// 0's copy must still commit, once.
func TestDriverFailedLeadersTxCommitsOnce(t *testing.T) {
	c := newTestCluster(t, 4)
	c.stop(1)
	var sent atomic.Int32
	c.tr = func(i int, base memTransport) Transport {
		if i != 1 {
			return base
		}
		return proposalFilter{memTransport: base, drop: map[string]bool{"v2": true, "v3": true}, sent: &sent}
	}
	c.start(1)
	tx := testTx(t, 1)
	c.pools[1].add(tx)
	waitFor(t, "node 1 to propose the transaction to node 0", func() bool { return sent.Load() > 0 })
	c.setDown(1, true)
	c.pools[0].add(tx)
	for _, i := range []int{0, 2, 3} {
		waitFor(t, fmt.Sprintf("node %d to commit the transaction", i), func() bool { return hasAll(c.apps[i].txIDs(), []*types.Tx{tx}) })
	}
	c.settle(0, 2, 3)
	c.checkSame(0, 2, 3)
	c.checkOnce([]*types.Tx{tx}, 0, 2, 3)
	c.apps[0].mu.Lock()
	defer c.apps[0].mu.Unlock()
	for _, b := range c.apps[0].blocks {
		if len(b.Txs) > 0 && string(b.Proposer) == "v1" {
			t.Errorf("node 1's block committed without its quorum")
		}
	}
}

func TestNextLeadersStopAtThisNode(t *testing.T) {
	var vs ValidatorSet
	for i := range 4 {
		vs = append(vs, Validator{ID: fmt.Sprintf("v%d", i)})
	}
	d := &Driver{cfg: DriverConfig{Core: Config{ID: "v2", Validators: vs}}}
	for _, tc := range []struct {
		round uint64
		want  []string
	}{
		{1, nil},                  // v2 leads round 2
		{2, []string{"v3", "v0"}}, // rounds 3 and 4, before v2's round 6
		{3, []string{"v0", "v1"}},
		{4, []string{"v1"}},
	} {
		d.status.Round = tc.round
		if got := d.NextLeaders(2); !slices.Equal(got, tc.want) {
			t.Errorf("round %d: next leaders %v, want %v", tc.round, got, tc.want)
		}
	}
}
