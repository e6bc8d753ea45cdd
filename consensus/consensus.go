// Package consensus defines how an engine orders transactions into blocks.
//
// An engine decides which transactions go into the block at each height and
// when; it hands each decided block to an Applier, which executes and stores
// it. Engines must not import execution, contracts or vm: they see
// transactions as signed, opaque payloads. Solo lives in solo/; Raft and BFT
// engines plug in behind the same Engine interface.
package consensus

import (
	"context"
	"time"

	"github.com/accord-chain/accord/types"
)

// Proposal is a decided block before execution: the ordered transactions and
// the values the header takes from consensus.
type Proposal struct {
	Height   uint64
	Time     uint64 // unix ms; strictly greater than the previous block's
	Proposer []byte // node id
	Txs      []*types.Tx
}

// Mempool is what an engine needs from the transaction pool.
type Mempool interface {
	// Reap removes and returns ready transactions in an order that respects
	// each sender's nonces, at most maxTxs of them and maxBytes in total.
	Reap(maxTxs, maxBytes int) []*types.Tx
	// ReadyLen is the number of transactions Reap could return now, and
	// their total size in bytes.
	ReadyLen() (txs int, bytes int)
	// Ready is signalled (without blocking) when transactions become ready.
	Ready() <-chan struct{}
}

// Applier executes and durably commits decided blocks. Apply is called for
// heights in order, one at a time; when it returns nil the block is
// executed and will be committed in order (the applier may still be writing
// it while the engine decides the next one). An error is fatal to the
// engine: it stops and returns the error.
type Applier interface {
	Apply(ctx context.Context, p *Proposal) error
	// Last reports the height and time of the last applied block: the one
	// the next proposal builds on.
	Last() (height, time uint64)
}

// Engine runs consensus until its context is cancelled or it fails.
type Engine interface {
	// Run blocks until ctx is done (returning nil) or a fatal error occurs.
	Run(ctx context.Context) error
	// Name is the engine's name as shown in node status, e.g. "solo".
	Name() string
}

// Limits are the limits a leader cuts blocks with: at most MaxTxs
// transactions and MaxBytes of them, and a block at least every Interval
// while transactions wait.
type Limits struct {
	MaxTxs   int
	MaxBytes int
	Interval time.Duration
}

// Live returns the limits to cut the next block with: those live gives
// where they are valid (at least one transaction; 1 KiB to bytesCap; 1 ms
// to 10 s), l's otherwise. live, the chain's current parameters, may be nil.
func (l Limits) Live(live func() (maxTxs, maxBytes int, interval time.Duration), bytesCap int) Limits {
	if live == nil {
		return l
	}
	n, b, i := live()
	if n >= 1 {
		l.MaxTxs = n
	}
	if b >= 1024 && b <= bytesCap {
		l.MaxBytes = b
	}
	if i >= time.Millisecond && i <= 10*time.Second {
		l.Interval = i
	}
	return l
}
