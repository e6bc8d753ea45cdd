package bft

// NextLeaders returns the validators due to lead the rounds after this
// node's current one and before this node's own next turn, at most k, in
// order: those that can propose what this node admits before this node
// can. It ignores reputation (a validator skipped for failing is still
// named), so it is a guess, good for deciding where to send transactions;
// the current round's leader has usually proposed already when this node
// is in that round. Safe for concurrent use.
func (d *Driver) NextLeaders(k int) []string {
	d.mu.Lock()
	r := d.status.Round
	d.mu.Unlock()
	vs := d.cfg.Core.Validators
	var out []string
	for i := 1; len(out) < k && i < len(vs); i++ {
		id := pickLeader(r+uint64(i), vs, nil)
		if id == d.cfg.Core.ID {
			break
		}
		out = append(out, id)
	}
	return out
}
