package api

import (
	"sync"

	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Committed is a block as announced to subscribers after it is durable.
type Committed struct {
	Header   *pb.Header
	Hash     types.Hash
	TxIDs    []types.Hash
	Receipts []*pb.Receipt
}

// Hub fans committed blocks out to subscribers. Publishing never blocks: a
// subscriber that falls more than its buffer behind is dropped, and its
// channel closed, so a slow client cannot stall the chain.
type Hub struct {
	mu   sync.Mutex
	subs map[*Sub]struct{}
}

// Sub is one subscription.
type Sub struct {
	C       chan *Committed
	dropped bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: make(map[*Sub]struct{})} }

// Subscribe registers a subscriber with a buffer of n blocks.
func (h *Hub) Subscribe(n int) *Sub {
	s := &Sub{C: make(chan *Committed, n)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Unsubscribe removes s; it is safe to call more than once.
func (h *Hub) Unsubscribe(s *Sub) {
	h.mu.Lock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.C)
	}
	h.mu.Unlock()
}

// Dropped reports whether s was dropped for falling behind. Call it after
// s.C is closed.
func (h *Hub) Dropped(s *Sub) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return s.dropped
}

// Publish announces a committed block.
func (h *Hub) Publish(c *Committed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.C <- c:
		default:
			s.dropped = true
			delete(h.subs, s)
			close(s.C)
		}
	}
}
