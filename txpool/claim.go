package txpool

import "github.com/accord-chain/accord/types"

// Claims: on a BFT network every validator's pool may hold a transaction
// (they pass on what clients give them) and any leader may propose it, so a
// node must not propose what a block on its way already carries. The
// engine claims the transactions of every block it holds that is not yet
// committed, whoever proposed it; a claimed transaction is treated as
// reaped (not reaped again; dropped by Update when it commits) until the
// engine unclaims it because its blocks will not commit.
//
// An id the pool does not hold when claimed is remembered, so that a copy
// arriving later (from a peer, or a client retrying) is pooled as claimed
// instead of becoming ready. Update and Unclaim forget it.

// maxRemembered bounds the remembered ids of claimed transactions the pool
// does not hold: only a faulty leader's block whose transactions never
// reach Update leaves some behind.
func (p *Pool) maxRemembered() int { return p.cfg.MaxTxs }

// Claim marks the transactions with the given ids as in a block on its way:
// Reap skips them, and the sender's later transactions may follow them in
// the next block. Claiming a reaped transaction changes nothing.
func (p *Pool) Claim(ids []types.Hash) {
	p.mu.Lock()
	touched := map[types.Address]*account{}
	for _, id := range ids {
		e := p.known[id]
		if e == nil || e.state == admitting {
			if len(p.claimed) < p.maxRemembered() {
				p.claimed[id] = struct{}{}
			}
			continue
		}
		if e.state == reaped || e.state == dropped {
			continue
		}
		p.claimEntry(e)
		if acct := p.accounts[e.tx.Sender]; acct != nil {
			touched[e.tx.Sender] = acct
		}
	}
	promoted := false
	for a, acct := range touched {
		promoted = p.resyncAccount(a, acct) || promoted
	}
	p.unlockChanged(promoted)
}

// claimEntry makes a ready or waiting entry reaped; the caller resyncs its
// account. p.mu held.
func (p *Pool) claimEntry(e *entry) {
	if e.state == ready {
		p.unready(e, reaped)
		return
	}
	e.state = reaped
}

// Unclaim makes the claimed (or reaped) transactions with the given ids
// reapable again, in nonce order per sender, and forgets the remembered
// ones: the blocks that carried them will not commit. The engine must
// unclaim only transactions that no other block on its way carries.
func (p *Pool) Unclaim(ids []types.Hash) {
	p.mu.Lock()
	var back map[*entry]bool
	touched := map[types.Address]*account{}
	for _, id := range ids {
		delete(p.claimed, id)
		e := p.known[id]
		if e == nil || e.state != reaped {
			continue
		}
		if back == nil {
			back = map[*entry]bool{}
		}
		back[e] = true
		if acct := p.accounts[e.tx.Sender]; acct != nil {
			touched[e.tx.Sender] = acct
		}
	}
	promoted := false
	for a, acct := range touched {
		// As in ResetReaped: the account's ready entries leave the queue
		// first, so that resync queues the whole chain in nonce order.
		for _, e := range acct.txs {
			switch {
			case e.state == ready:
				p.unready(e, waiting)
			case e.state == reaped && back[e]:
				e.state = waiting
			}
		}
		promoted = p.resyncAccount(a, acct) || promoted
	}
	p.unlockChanged(promoted)
}

// takeClaim reports whether id was claimed before the pool held it, and
// forgets it. p.mu held.
func (p *Pool) takeClaim(id types.Hash) bool {
	if _, ok := p.claimed[id]; !ok {
		return false
	}
	delete(p.claimed, id)
	return true
}
