package txpool

import (
	"container/heap"

	"github.com/accord-chain/accord/types"
)

// expiryHeap orders pooled entries by expiry time, soonest first, so that
// the pool finds the expired ones without scanning every account. An entry
// is in it from insert until it is dropped or found expired; heapIdx is its
// position, -1 when it is not in the heap.
type expiryHeap []*entry

func (h expiryHeap) Len() int { return len(h) }

func (h expiryHeap) Less(i, j int) bool {
	return h[i].tx.Body.ExpiresAt < h[j].tx.Body.ExpiresAt
}

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.heapIdx = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.heapIdx = -1
	return e
}

// expire drops the waiting and ready entries that expired before now (unix
// ms; a transaction is valid in a block of time t while t <= ExpiresAt, see
// types.Tx.Expired): every block would fail them, and one waiting behind a
// nonce gap would otherwise hold its slot until the gap filled. Reaped
// entries are in a block already and stay until Update. The senders' ready
// chains are re-derived. p.mu held.
func (p *Pool) expire(now uint64) {
	if len(p.expiry) == 0 || !p.expiry[0].tx.Expired(now) {
		return
	}
	var inFlight []*entry
	touched := map[types.Address]*account{}
	for len(p.expiry) > 0 && p.expiry[0].tx.Expired(now) {
		e := heap.Pop(&p.expiry).(*entry)
		if e.state == reaped {
			inFlight = append(inFlight, e)
			continue
		}
		if acct := p.accounts[e.tx.Sender]; acct != nil {
			touched[e.tx.Sender] = acct
		}
		p.drop(e)
		p.expired.Add(1)
	}
	for _, e := range inFlight {
		heap.Push(&p.expiry, e)
	}
	for a, acct := range touched {
		p.resyncAccount(a, acct)
	}
}
