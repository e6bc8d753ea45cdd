package chain

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/types"
)

// The agreement step. After executing a block a node tells its peers the
// block's hash (which covers its write set), and it commits the block (the
// moment it becomes visible through the API) only once a majority of the
// voters, itself included, computed the same hash. If a majority computed
// another one, this node's state has forked from theirs: it stops, naming
// the height, without ever serving the block. Hashes a node missed (it
// restarted, or a message was dropped) it asks its peers for.

// headsKept is how many of its own recent block hashes a node keeps to
// compare with what peers report.
const headsKept = 1024

// Peers is the chain's view of the other nodes for the agreement step. node
// implements it over the p2p transport.
type Peers interface {
	// Others are the node ids of the other members, in any order.
	Others() []string
	// Voters is how many nodes vote, this one included.
	Voters() int
	// Announce sends this node's hash of the block at height to every
	// other member, without blocking; a lost one is asked for again.
	Announce(height uint64, hash types.Hash)
	// AskHash asks peer for its hash of the block at height; ok is false
	// if the peer has none yet or cannot be reached.
	AskHash(ctx context.Context, peer string, height uint64) (hash types.Hash, ok bool)
}

// agreement holds what this node and its peers computed for recent blocks.
type agreement struct {
	peers Peers
	clock clock.Clock

	mu      sync.Mutex
	heads   map[string]head                  // newest head each peer reported, by node id
	reports map[uint64]map[string]types.Hash // recent heights: each peer's hash
	mine    map[uint64]types.Hash            // this node's recent block hashes by height
	// changed is closed (and replaced) whenever a hash is reported.
	changed chan struct{}
	diverge chan error // receives when this node's results differ from the network's
}

type head struct {
	height uint64
	hash   types.Hash
}

func newAgreement(p Peers, c clock.Clock) *agreement {
	return &agreement{
		peers:   p,
		clock:   c,
		heads:   map[string]head{},
		reports: map[uint64]map[string]types.Hash{},
		mine:    map[uint64]types.Hash{},
		changed: make(chan struct{}),
		diverge: make(chan error, 1),
	}
}

// executed records this node's hash of a block it has just executed and
// tells the peers.
func (a *agreement) executed(height uint64, hash types.Hash) {
	a.mu.Lock()
	a.mine[height] = hash
	delete(a.mine, height-headsKept)
	a.mu.Unlock()
	a.peers.Announce(height, hash)
	a.signal()
}

// Report records a peer's hash of the block at height.
func (c *Chain) Report(from string, height uint64, hash types.Hash) {
	if c.agree != nil {
		c.agree.report(from, height, hash)
	}
}

func (a *agreement) report(from string, height uint64, hash types.Hash) {
	a.mu.Lock()
	if h := a.heads[from]; height > h.height {
		a.heads[from] = head{height: height, hash: hash}
	}
	r := a.reports[height]
	if r == nil {
		r = map[string]types.Hash{}
		a.reports[height] = r
		delete(a.reports, height-headsKept)
	}
	r[from] = hash
	a.mu.Unlock()
	a.signal()
}

// signal wakes every confirm waiting for reports.
func (a *agreement) signal() {
	a.mu.Lock()
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// tally counts the reports of height: whether a majority of the voters
// (this node included) agrees with this node's hash, or one disagrees.
func (a *agreement) tally(height uint64) (mine types.Hash, agreed bool, fork error, missing []string, wake <-chan struct{}) {
	quorum := a.peers.Voters()/2 + 1
	others := a.peers.Others()
	a.mu.Lock()
	defer a.mu.Unlock()
	wake = a.changed
	mine, ok := a.mine[height]
	if !ok {
		return mine, false, nil, nil, wake
	}
	same := 1
	differ := map[types.Hash]int{}
	reports := a.reports[height]
	for _, name := range others {
		h, ok := reports[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case h == mine:
			same++
		default:
			differ[h]++
		}
	}
	for hash, k := range differ {
		if k >= quorum {
			return mine, false, fmt.Errorf("block %d: this node computed block hash %s but %d other nodes computed %s: its state differs from the network's; it stops rather than serve a fork", height, mine, k, hash), nil, wake
		}
	}
	return mine, same >= quorum, nil, missing, wake
}

// confirm waits until a majority agrees with this node's hash of the block
// at height, asking peers for hashes it has not heard. It returns the
// divergence error if a majority computed another hash, or ctx's error.
func (a *agreement) confirm(ctx context.Context, height uint64) error {
	ask := a.clock.NewTimer(200 * time.Millisecond)
	defer ask.Stop()
	for {
		_, agreed, fork, missing, wake := a.tally(height)
		if fork != nil {
			select {
			case a.diverge <- fork:
			default:
			}
			return fork
		}
		if agreed {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-ask.C():
			for _, name := range missing {
				go a.ask(ctx, name, height)
			}
			ask.Reset(250 * time.Millisecond)
		}
	}
}

func (a *agreement) ask(ctx context.Context, peer string, height uint64) {
	if h, ok := a.peers.AskHash(ctx, peer, height); ok {
		a.report(peer, height, h)
	}
}

// Diverged receives the error that stops a node whose results differ from
// the network's; nil (never ready) on a single node.
func (c *Chain) Diverged() <-chan error {
	if c.agree == nil {
		return nil
	}
	return c.agree.diverge
}

// HashAt is this node's hash of the block at height, from what it executed
// or what it committed; ok is false if it has neither yet.
func (c *Chain) HashAt(height uint64) (hash types.Hash, ok bool, err error) {
	if c.agree != nil {
		c.agree.mu.Lock()
		h, ok := c.agree.mine[height]
		c.agree.mu.Unlock()
		if ok {
			return h, true, nil
		}
	}
	if height > c.cfg.Store.Tip().Height {
		return hash, false, nil
	}
	raw, err := c.cfg.Store.BlockByHeight(height)
	if err != nil {
		return hash, false, err
	}
	b, err := types.DecodeBlock(raw, c.cfg.Hash)
	if err != nil {
		return hash, false, err
	}
	return b.Hash, true, nil
}

// PeerHeight is the newest height peer reported a hash for.
func (c *Chain) PeerHeight(peer string) uint64 {
	if c.agree == nil {
		return 0
	}
	c.agree.mu.Lock()
	defer c.agree.mu.Unlock()
	return c.agree.heads[peer].height
}

// Forget drops what a peer that left the network reported.
func (c *Chain) Forget(peer string) {
	if c.agree == nil {
		return
	}
	c.agree.mu.Lock()
	delete(c.agree.heads, peer)
	c.agree.mu.Unlock()
}
