package chain

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
)

// zeroState is a pool's view of an empty chain.
type zeroState struct{}

func (zeroState) Nonce(types.Address) (uint64, error) { return 0, nil }

// testChain is a chain on a fresh store whose genesis is at genesisTime,
// with peers and fetcher (nil for a single node).
func testChain(t *testing.T, genesisTime uint64, peers Peers, fetcher Fetcher) *Chain {
	t.Helper()
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	exec, err := execution.New(execution.Config{ChainID: "test", Hash: crypto.SHA256, Workers: 1}, token.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := CommitGenesis(st, exec, genesisTime, nil, "genesis", []byte("doc")); err != nil {
		t.Fatal(err)
	}
	pool, err := txpool.New(txpool.DefaultConfig(), "test", crypto.SHA256, zeroState{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{Hash: crypto.SHA256, Store: st, Exec: exec, Pool: pool, Hub: api.NewHub(), Peers: peers, Fetcher: fetcher,
		Clock: clock.Real, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() {
		c.Close()
		pool.Close()
		st.Close()
	})
	return c
}

// grow applies empty blocks to a single-node chain up to height.
func grow(t *testing.T, c *Chain, height uint64) {
	t.Helper()
	for {
		h, tm := c.Last()
		if h == height {
			break
		}
		if err := c.Apply(context.Background(), &consensus.Proposal{Height: h + 1, Time: tm + 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

// storeFetcher serves a source chain's committed blocks, a few at a time.
type storeFetcher struct {
	src   *Chain
	calls int
}

func (f *storeFetcher) FetchBlocks(_ context.Context, _, next uint64) (string, [][]byte, error) {
	f.calls++
	var out [][]byte
	for h := next; h <= f.src.cfg.Store.Tip().Height && len(out) < 3; h++ {
		b, err := f.src.cfg.Store.BlockByHeight(h)
		if err != nil {
			return "", nil, err
		}
		out = append(out, b)
	}
	return "src", out, nil
}

// TestSyncTo: a node behind its network fetches runs of committed blocks,
// executes each, and ends on the block hash the snapshot named; a block
// that executes to another hash here, or a snapshot hash the blocks do not
// reach, stops it with an error naming the height.
func TestSyncTo(t *testing.T) {
	src := testChain(t, 1000, nil, nil)
	grow(t, src, 10)
	want, _, _ := src.HashAt(10)

	f := &storeFetcher{src: src}
	dst := testChain(t, 1000, fakePeers{3}, f)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dst.SyncTo(ctx, 10, want, 1); err != nil {
		t.Fatal(err)
	}
	if err := dst.Flush(); err != nil {
		t.Fatal(err)
	}
	if h, hash := dst.Durable(); h != 10 || types.Hash(hash) != want {
		t.Fatalf("synced to height %d hash %x, want 10 and %s", h, hash, want)
	}
	if f.calls < 4 {
		t.Fatalf("10 blocks in runs of 3 took %d requests", f.calls)
	}

	// A snapshot naming another hash for the last block.
	grow(t, src, 12)
	other := testChain(t, 1000, fakePeers{3}, &storeFetcher{src: src})
	if err := other.SyncTo(ctx, 12, types.Hash{9}, 1); err == nil || !strings.Contains(err.Error(), "block 12") {
		t.Fatalf("a snapshot hash the blocks do not reach: %v, want an error naming block 12", err)
	}

	// Blocks of another chain (another genesis): the first executes to
	// another hash here.
	fork := testChain(t, 2000, fakePeers{3}, &storeFetcher{src: src})
	if err := fork.SyncTo(ctx, 12, want, 1); err == nil || !strings.Contains(err.Error(), "block 1: executing it here gives hash") {
		t.Fatalf("blocks of another chain: %v, want an error naming block 1", err)
	}
}

// badFetcher answers with a malformed run.
type badFetcher struct{}

func (badFetcher) FetchBlocks(context.Context, uint64, uint64) (string, [][]byte, error) {
	return "src", nil, ErrBadReply
}

// TestSyncToStopsOnAMalformedReply: a malformed answer ends block sync
// with an error that names the peer.
func TestSyncToStopsOnAMalformedReply(t *testing.T) {
	c := testChain(t, 1000, fakePeers{3}, badFetcher{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.SyncTo(ctx, 5, types.Hash{}, 1)
	if !errors.Is(err, ErrBadReply) || !strings.Contains(err.Error(), "src") {
		t.Fatalf("got %v, want ErrBadReply naming the peer", err)
	}
}
