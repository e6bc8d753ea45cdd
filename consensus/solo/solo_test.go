package solo

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/types"
)

// fakePool hands out n numbered transactions.
type fakePool struct {
	mu    sync.Mutex
	txs   []*types.Tx
	ready chan struct{}
}

func newFakePool() *fakePool { return &fakePool{ready: make(chan struct{}, 1)} }

func (p *fakePool) add(n int) {
	p.mu.Lock()
	for i := 0; i < n; i++ {
		p.txs = append(p.txs, &types.Tx{Raw: make([]byte, 100)})
	}
	p.mu.Unlock()
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

func (p *fakePool) Reap(maxTxs, maxBytes int) []*types.Tx {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, size := 0, 0
	for n < len(p.txs) && n < maxTxs && size+len(p.txs[n].Raw) <= maxBytes {
		size += len(p.txs[n].Raw)
		n++
	}
	out := p.txs[:n:n]
	p.txs = p.txs[n:]
	return out
}

func (p *fakePool) ReadyLen() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.txs), 100 * len(p.txs)
}

func (p *fakePool) Ready() <-chan struct{} { return p.ready }

// fakeApp records applied proposals.
type fakeApp struct {
	mu     sync.Mutex
	blocks []*consensus.Proposal
	height uint64
	time   uint64
	seen   chan struct{}
}

func (a *fakeApp) Apply(_ context.Context, p *consensus.Proposal) error {
	a.mu.Lock()
	a.blocks = append(a.blocks, p)
	a.height, a.time = p.Height, p.Time
	a.mu.Unlock()
	a.seen <- struct{}{}
	return nil
}

func (a *fakeApp) Last() (uint64, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.height, a.time
}

// nowClock is a real clock whose Now is now.
type nowClock struct {
	clock.Clock
	now func() time.Time
}

func (c nowClock) Now() time.Time { return c.now() }

func run(t *testing.T, cfg Config, now func() time.Time) (*fakePool, *fakeApp, func()) {
	t.Helper()
	pool, app := newFakePool(), &fakeApp{seen: make(chan struct{}, 1000)}
	e, err := New(cfg, pool, app, []byte("node"), nowClock{clock.Real, now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return pool, app, func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

func waitBlocks(t *testing.T, app *fakeApp, n int) []*consensus.Proposal {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		app.mu.Lock()
		got := len(app.blocks)
		blocks := append([]*consensus.Proposal(nil), app.blocks...)
		app.mu.Unlock()
		if got >= n {
			return blocks
		}
		select {
		case <-app.seen:
		case <-deadline:
			t.Fatalf("got %d blocks, want %d within 30s", got, n)
		}
	}
}

func TestCutsFullBlockWithoutWaitingForInterval(t *testing.T) {
	// An interval far longer than the test: only a full block can be cut.
	pool, app, stop := run(t, Config{Interval: 10 * time.Second, MaxTxs: 50}, time.Now)
	defer stop()
	pool.add(120) // one signal for two full blocks and a partial one
	blocks := waitBlocks(t, app, 2)
	if len(blocks[0].Txs) != 50 || len(blocks[1].Txs) != 50 {
		t.Fatalf("full blocks have %d and %d txs, want 50 each", len(blocks[0].Txs), len(blocks[1].Txs))
	}
	if n, _ := pool.ReadyLen(); n != 20 {
		t.Fatalf("%d txs left in the pool, want the 20 that do not fill a block", n)
	}
	if blocks[0].Height != 1 || blocks[1].Height != 2 {
		t.Fatalf("heights %d, %d; want 1, 2", blocks[0].Height, blocks[1].Height)
	}
}

func TestIntervalCutsPartialBlockAndSkipsEmpty(t *testing.T) {
	pool, app, stop := run(t, Config{Interval: 5 * time.Millisecond, MaxTxs: 1000}, time.Now)
	pool.add(3)
	blocks := waitBlocks(t, app, 1)
	stop()
	if len(blocks[0].Txs) != 3 {
		t.Fatalf("block has %d txs, want 3", len(blocks[0].Txs))
	}
	app.mu.Lock()
	defer app.mu.Unlock()
	for _, b := range app.blocks {
		if len(b.Txs) == 0 {
			t.Fatalf("empty block %d cut with EmptyBlocks off", b.Height)
		}
	}
}

func TestEmptyBlocksWhenConfigured(t *testing.T) {
	_, app, stop := run(t, Config{Interval: time.Millisecond, EmptyBlocks: true}, time.Now)
	blocks := waitBlocks(t, app, 3)
	stop()
	if len(blocks[0].Txs) != 0 {
		t.Fatal("expected empty blocks")
	}
}

func TestBlockTimeNeverGoesBackwards(t *testing.T) {
	frozen := time.UnixMilli(1000)
	_, app, stop := run(t, Config{Interval: time.Millisecond, EmptyBlocks: true}, func() time.Time { return frozen })
	blocks := waitBlocks(t, app, 3)
	stop()
	for i := 1; i < len(blocks); i++ {
		if blocks[i].Time <= blocks[i-1].Time {
			t.Fatalf("block %d time %d not after %d", blocks[i].Height, blocks[i].Time, blocks[i-1].Time)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{Interval: 0, MaxTxs: 1, MaxBytes: 2048},
		{Interval: time.Minute, MaxTxs: 1, MaxBytes: 2048},
		{Interval: time.Second, MaxTxs: 0, MaxBytes: 2048},
		{Interval: time.Second, MaxTxs: 1, MaxBytes: 10},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v: Validate accepted it", c)
		}
	}
	d := DefaultConfig()
	if err := d.Validate(); err != nil || d.Interval > 200*time.Millisecond {
		t.Fatalf("defaults: %v, interval %s (issue asks at most 200ms)", err, d.Interval)
	}
}

// TestLimitsApplyFromTheNextBlock: Config.Limits replaces the configured
// limits at each block, and a zero keeps the configured one.
func TestLimitsApplyFromTheNextBlock(t *testing.T) {
	var maxTxs atomic.Int64
	maxTxs.Store(2)
	limits := func() (int, int, time.Duration) { return int(maxTxs.Load()), 0, 0 }
	// An interval far longer than the test: only full blocks are cut.
	pool, app, stop := run(t, Config{Interval: 10 * time.Second, MaxTxs: 50, Limits: limits}, time.Now)
	defer stop()
	pool.add(5)
	blocks := waitBlocks(t, app, 2)
	if len(blocks[0].Txs) != 2 || len(blocks[1].Txs) != 2 {
		t.Fatalf("blocks of %d and %d txs under a limit of 2", len(blocks[0].Txs), len(blocks[1].Txs))
	}
	maxTxs.Store(0) // back to the configured 50
	pool.add(60)
	blocks = waitBlocks(t, app, 3)
	if len(blocks[2].Txs) != 50 {
		t.Fatalf("block of %d txs once the limit is back to the configured 50", len(blocks[2].Txs))
	}
	if n, _ := pool.ReadyLen(); n != 11 {
		t.Fatalf("%d txs left in the pool, want 11", n)
	}
}

// TestLimitsInterval: the interval Limits gives replaces the configured
// one (10 s here, so three blocks would take the test's whole deadline).
func TestLimitsInterval(t *testing.T) {
	limits := func() (int, int, time.Duration) { return 0, 0, time.Millisecond }
	_, app, stop := run(t, Config{Interval: 10 * time.Second, EmptyBlocks: true, Limits: limits}, time.Now)
	waitBlocks(t, app, 3)
	stop()
}
