package raft

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/crypto"
)

// TestEngineRunsOnItsClock: the engine's Raft ticks, its block interval
// and its block times all come from the clock it is given. On a fake clock
// that only the test moves, a lone voter elects itself as the test ticks
// it, waits with a lone transaction for the block interval, and cuts the
// block the moment the clock passes it, stamped with the fake time.
func TestEngineRunsOnItsClock(t *testing.T) {
	fake := clock.NewFake(time.UnixMilli(1_000_000_000_000))
	const tick, interval = 100 * time.Millisecond, 10 * time.Second
	pool, app := newFakePool(), &fakeApp{}
	cfg := Config{ID: 1, Peers: []uint64{1}, Dir: t.TempDir(), Hash: crypto.SHA256,
		TickInterval: tick, ElectionTicks: 10, HeartbeatTicks: 1, BlockInterval: interval, MaxBlockTxs: 20,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e, err := New(cfg, pool, app, netTransport{}, []byte{1}, fake)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	waitFor := func(what string, cond func() bool, step func()) {
		t.Helper()
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			step()
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("the lone voter to lead", func() bool { return e.Status().Leader == 1 }, func() { fake.Advance(tick) })

	pool.add(testTxs(t, 1))
	// The engine arms its block timer (the ticker is the other waiter)
	// once it leads, has applied its term's first entry, and sees the
	// transaction; the ticks keep Raft's loop turning meanwhile.
	waitFor("the block timer", func() bool { return fake.Waiters() == 2 }, func() { fake.Advance(tick) })
	if h, _ := app.Last(); h != 0 {
		t.Fatalf("a block was cut at height %d before the block interval passed on the engine's clock", h)
	}
	fake.Advance(interval)
	waitFor("the block", func() bool { h, _ := app.Last(); return h == 1 }, func() {})
	if got, want := app.snapshot()[0].Time, uint64(fake.Now().UnixMilli()); got != want {
		t.Fatalf("block time %d, want the fake clock's %d", got, want)
	}
}
