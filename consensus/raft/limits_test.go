package raft

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestLimitsApplyToLaterBlocks: Config.Limits replaces the configured
// block limits whenever the leader proposes, and a zero keeps the
// configured one (MaxBlockTxs 20 in these tests).
func TestLimitsApplyToLaterBlocks(t *testing.T) {
	var maxTxs atomic.Int64
	maxTxs.Store(3)
	c := newCluster(t, 3, func(cfg *Config) {
		cfg.Limits = func() (int, int, time.Duration) { return int(maxTxs.Load()), 0, 0 }
	})
	lead := c.leader()
	txs := testTxs(t, 160)
	c.submit(txs[:60])
	c.waitCommitted(txs[:60])
	before := len(c.nodes[lead].app.snapshot())
	for _, b := range c.nodes[lead].app.snapshot() {
		if len(b.Txs) > 3 {
			t.Fatalf("block %d has %d transactions under a limit of 3", b.Height, len(b.Txs))
		}
	}
	maxTxs.Store(0)
	c.submit(txs)
	c.waitCommitted(txs)
	most := 0
	for _, b := range c.nodes[lead].app.snapshot()[before:] {
		if len(b.Txs) > 20 {
			t.Fatalf("block %d has %d transactions, above the configured 20", b.Height, len(b.Txs))
		}
		most = max(most, len(b.Txs))
	}
	if most <= 3 {
		t.Fatalf("100 transactions at once went into blocks of at most %d after the limit returned to the configured 20", most)
	}
}
