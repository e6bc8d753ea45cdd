package bft

import "slices"

// ---- leaders and reputation ----

// leaderFor returns the leader of round for a proposal that extends
// parent. Leaders rotate every round over the validator set; validators
// that failed to lead a round recently, as recorded in the committed
// chain below parent, are skipped (at most f of them, so a quorum of
// candidates always remains). Every node derives the same answer from the
// same parent.
func (c *Core) leaderFor(round uint64, parent *node) string {
	if c.cfg.LeaderSchedule != nil {
		return c.cfg.LeaderSchedule(round)
	}
	vs := c.cfg.Validators
	return pickLeader(round, vs, parent.anchorExcl)
}

// exclusions returns the validators skipped for proposals anchored at a
// block with this failure window: the most recent failed leaders, at
// most f of them, sorted.
func (c *Core) exclusions(fails []fail) []string {
	limit := c.cfg.Validators.F()
	var excl []string
	for i := len(fails) - 1; i >= 0 && len(excl) < limit; i-- {
		if !slices.Contains(excl, fails[i].id) {
			excl = append(excl, fails[i].id)
		}
	}
	slices.Sort(excl)
	return excl
}

func pickLeader(round uint64, vs ValidatorSet, excl []string) string {
	n := uint64(len(vs))
	for i := uint64(0); i < n; i++ {
		v := vs[(round+i)%n]
		if !slices.Contains(excl, v.ID) {
			return v.ID
		}
	}
	return vs[round%n].ID
}

// reputation computes n's failure window and exclusion sets from its
// parent's. The rounds between the parent's and n's had no block on this
// chain: their leaders (as a proposal extending the parent would have
// had them) failed. n.excl is the set a proposal uses when n is its
// commit anchor: the highest ancestor that the proposal's own chain
// proves committed (a block whose child is one round later).
func (c *Core) reputation(n *node) {
	p := n.parent
	w := c.cfg.RepWindow
	from := p.b.Round + 1
	if n.b.Round > w && from < n.b.Round-w {
		from = n.b.Round - w
	}
	fails := make([]fail, 0, len(p.fails)+int(n.b.Round-from))
	for _, f := range p.fails {
		if f.round+w >= n.b.Round {
			fails = append(fails, f)
		}
	}
	if vs := c.cfg.Validators; len(vs) > 0 {
		for r := from; r < n.b.Round; r++ {
			fails = append(fails, fail{round: r, id: pickLeader(r, vs, p.anchorExcl)})
		}
	}
	n.fails = fails
	n.excl = c.exclusions(fails)
	if n.b.Round == p.b.Round+1 {
		n.anchorExcl = p.excl
	} else {
		n.anchorExcl = p.anchorExcl
	}
}
