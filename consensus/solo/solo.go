// Package solo is the single-node consensus engine, the embedded default.
//
// It cuts a block every interval, or sooner when the ready transactions
// reach the block's transaction or byte limit; the limits may change while
// it runs (Config.Limits). It orders and nothing more:
// execution and storage happen in the consensus.Applier it is given.
package solo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
)

// Config holds the block-cutting limits.
type Config struct {
	// Interval is the longest a ready transaction waits for a block.
	// Default 100ms; at most 10s.
	Interval time.Duration
	// MaxTxs caps the transactions in one block. Default 10,000.
	MaxTxs int
	// MaxBytes caps the encoded transactions in one block. Default 16 MiB.
	MaxBytes int
	// EmptyBlocks makes the engine cut a block every interval even with no
	// transactions. Default false.
	EmptyBlocks bool
	// Limits, if set, is asked for the limits before each block and each
	// wait: a value it returns within the range Validate allows replaces
	// Interval, MaxTxs or MaxBytes; zero or out of range keeps the
	// configured one. It must be cheap and safe to call from the engine's
	// goroutine. Nil: the configured limits, always.
	Limits func() (maxTxs, maxBytes int, interval time.Duration)
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{Interval: 100 * time.Millisecond, MaxTxs: 10_000, MaxBytes: 16 << 20}
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.MaxTxs == 0 {
		c.MaxTxs = d.MaxTxs
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = d.MaxBytes
	}
}

// Validate reports a configuration the engine cannot run with.
func (c Config) Validate() error {
	switch {
	case c.Interval < time.Millisecond || c.Interval > 10*time.Second:
		return fmt.Errorf("solo: interval %s out of range [1ms, 10s]", c.Interval)
	case c.MaxTxs < 1:
		return errors.New("solo: max block transactions must be at least 1")
	case c.MaxBytes < 1024:
		return errors.New("solo: max block bytes must be at least 1024")
	}
	return nil
}

// Engine is the solo engine.
type Engine struct {
	cfg      Config
	pool     consensus.Mempool
	app      consensus.Applier
	proposer []byte
	clock    clock.Clock
}

// New returns a solo engine. clk is the clock for block times and the
// block interval (clock.Real in production, when nil); block times never
// go backwards whatever it says.
func New(cfg Config, pool consensus.Mempool, app consensus.Applier, proposer []byte, clk clock.Clock) (*Engine, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clk == nil {
		clk = clock.Real
	}
	return &Engine{cfg: cfg, pool: pool, app: app, proposer: proposer, clock: clk}, nil
}

// Name implements consensus.Engine.
func (e *Engine) Name() string { return "solo" }

// limits returns the block limits now: Config.Limits' where it gives
// valid ones, else the configured.
func (e *Engine) limits() (maxTxs, maxBytes int, interval time.Duration) {
	l := consensus.Limits{MaxTxs: e.cfg.MaxTxs, MaxBytes: e.cfg.MaxBytes, Interval: e.cfg.Interval}.Live(e.cfg.Limits, math.MaxInt)
	return l.MaxTxs, l.MaxBytes, l.Interval
}

// Run implements consensus.Engine.
func (e *Engine) Run(ctx context.Context) error {
	_, _, interval := e.limits()
	timer := e.clock.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C():
			if err := e.cut(ctx); err != nil {
				return err
			}
			_, _, interval := e.limits()
			timer.Reset(interval)
		case <-e.pool.Ready():
		}
		// Full blocks go out at once, however long the interval.
		for e.full() && ctx.Err() == nil {
			if err := e.cut(ctx); err != nil {
				return err
			}
		}
	}
}

func (e *Engine) full() bool {
	maxTxs, maxBytes, _ := e.limits()
	n, b := e.pool.ReadyLen()
	return n >= maxTxs || b >= maxBytes
}

// cut proposes and applies one block if there is anything to put in it.
func (e *Engine) cut(ctx context.Context) error {
	maxTxs, maxBytes, _ := e.limits()
	txs := e.pool.Reap(maxTxs, maxBytes)
	if len(txs) == 0 && !e.cfg.EmptyBlocks {
		return nil
	}
	height, last := e.app.Last()
	t := uint64(e.clock.Now().UnixMilli())
	if t <= last {
		t = last + 1
	}
	p := &consensus.Proposal{Height: height + 1, Time: t, Proposer: e.proposer, Txs: txs}
	if err := e.app.Apply(ctx, p); err != nil {
		return fmt.Errorf("solo: block %d: %w", p.Height, err)
	}
	return nil
}
