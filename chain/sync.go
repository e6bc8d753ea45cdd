package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/types"
)

// Block sync: a node that is behind its network's log (it restarted, or
// the leader sent it a snapshot) fetches the committed blocks it lacks from
// a peer and applies them through the same path as decided blocks.

// Errors a Fetcher returns.
var (
	// ErrNoPeer: no peer is connected to fetch from; the chain retries.
	ErrNoPeer = errors.New("no connected peer to fetch blocks from")
	// ErrBadReply: the peer's answer is malformed; block sync stops.
	ErrBadReply = errors.New("malformed block-sync reply")
)

// Fetcher fetches committed blocks from peers. node implements it over the
// p2p transport.
type Fetcher interface {
	// FetchBlocks asks a peer for the encoded committed blocks from height
	// next on: the node with Raft id from if it is known and not this
	// node, else any connected peer. It returns the peer's node id and the
	// blocks (none if the peer has none yet). Errors: ErrNoPeer, an error
	// wrapping ErrBadReply for a malformed answer, or any other error for
	// a request that failed and may be retried.
	FetchBlocks(ctx context.Context, from, next uint64) (peer string, blocks [][]byte, err error)
}

// SyncTo implements raft.Applier: it fetches, verifies, executes and
// commits blocks from peers until this node's chain reaches height. Each
// block is executed here; the result must give the block hash the peer
// sent, or the node stops. A fetcher requests the next run of blocks while
// the previous one is applied, and the signatures of a whole run are
// verified in one batch over every core.
func (c *Chain) SyncTo(ctx context.Context, height uint64, want [32]byte, from uint64) error {
	if c.cfg.Fetcher == nil {
		return errors.New("block sync needs peers: this node has none")
	}
	return c.syncFrom(ctx, height, want, from, c.cfg.Fetcher)
}

// SyncWith is SyncTo with blocks from f: a BFT node fetches through a
// Fetcher that checks each run against hashes enough validators report
// alike, so that no byzantine peer can feed it other blocks.
func (c *Chain) SyncWith(ctx context.Context, height uint64, want [32]byte, f Fetcher) error {
	return c.syncFrom(ctx, height, want, 0, f)
}

func (c *Chain) syncFrom(ctx context.Context, height uint64, want [32]byte, from uint64, f Fetcher) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runs := make(chan syncRun, 2)
	start, _ := c.Last()
	go c.fetchBlocks(ctx, f, start+1, height, from, runs)
	for {
		if last, _ := c.Last(); last >= height {
			break
		}
		var run syncRun
		select {
		case <-ctx.Done():
			return ctx.Err()
		case run = <-runs:
		}
		if run.err != nil {
			return fmt.Errorf("block sync from %s: %w", run.src, run.err)
		}
		if err := c.applyRun(ctx, run); err != nil {
			return fmt.Errorf("block sync from %s: %w", run.src, err)
		}
	}
	if h, _ := c.Last(); h == height {
		if got := c.lastHash(); got != want {
			return fmt.Errorf("block sync: block %d hashes to %s here, the snapshot says %s", height, got, types.Hash(want))
		}
	}
	return nil
}

// syncRun is one fetched run of consecutive blocks, decoded.
type syncRun struct {
	src    string
	blocks []*types.Block
	err    error // fatal: the run is malformed
}

// fetchBlocks requests runs of blocks from next until height and hands
// them over in order. A failed request is retried; a malformed answer ends
// the fetch.
func (c *Chain) fetchBlocks(ctx context.Context, f Fetcher, next, height, from uint64, out chan<- syncRun) {
	for next <= height && ctx.Err() == nil {
		src, raws, err := f.FetchBlocks(ctx, from, next)
		run := syncRun{src: src}
		switch {
		case errors.Is(err, ErrNoPeer):
			if !clock.Sleep(c.cfg.Clock, 500*time.Millisecond, ctx.Done()) {
				return
			}
			continue
		case errors.Is(err, ErrBadReply):
			raws = nil
		case err != nil:
			if ctx.Err() == nil {
				c.cfg.Log.Warn("block sync request failed; retrying", "peer", src, "from_height", next, "err", err)
				clock.Sleep(c.cfg.Clock, 500*time.Millisecond, ctx.Done())
			}
			continue
		}
		for _, raw := range raws {
			if err != nil {
				break
			}
			var b *types.Block
			if b, err = types.DecodeBlock(raw, c.cfg.Hash); err == nil && b.Header.Height != next+uint64(len(run.blocks)) {
				err = fmt.Errorf("got block %d, want %d", b.Header.Height, next+uint64(len(run.blocks)))
			}
			run.blocks = append(run.blocks, b)
		}
		if err != nil {
			run.err = err
			select {
			case out <- run:
			case <-ctx.Done():
			}
			return
		}
		if len(run.blocks) == 0 {
			clock.Sleep(c.cfg.Clock, 200*time.Millisecond, ctx.Done()) // the peer is behind too
			continue
		}
		next += uint64(len(run.blocks))
		select {
		case out <- run:
		case <-ctx.Done():
			return
		}
	}
}

// applyRun verifies every signature of a run in one batch, then executes
// and commits its blocks in order, each of which must reproduce its hash.
// One fsync covers the run: the blocks before the last are durable with
// it, and a crash before it loses only blocks that peers still have.
func (c *Chain) applyRun(ctx context.Context, run syncRun) error {
	// On a permissioned chain signers bind to their keys against the state
	// before each block, so there apply verifies block by block.
	open := c.cfg.Signers == nil
	if open {
		var txs []*types.Tx
		for _, b := range run.blocks {
			txs = append(txs, b.Txs...)
		}
		for i, err := range c.cfg.Pool.Verifier().Verify(txs) {
			if err != nil {
				return fmt.Errorf("transaction %s: %w", txs[i].ID, err)
			}
		}
	}
	for i, b := range run.blocks {
		last, _ := c.Last()
		if b.Header.Height != last+1 {
			return fmt.Errorf("got block %d, want %d", b.Header.Height, last+1)
		}
		p := &consensus.Proposal{Height: b.Header.Height, Time: b.Header.Time, Proposer: b.Header.Proposer, Txs: b.Txs}
		if err := c.apply(ctx, p, applyOpts{unsynced: i < len(run.blocks)-1, verified: open, synced: true}); err != nil {
			return err
		}
		if got := c.lastHash(); got != b.Hash {
			return fmt.Errorf("block %d: executing it here gives hash %s, the peer's block is %s", p.Height, got, b.Hash)
		}
	}
	return nil
}
