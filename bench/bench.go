package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"time"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// runner holds what the phases of one run share.
type runner struct {
	cfg   Config
	c     *sdk.Client
	chain chain
	out   io.Writer // progress; may be nil
}

// Run benchmarks the node at cfg.Node: it derives the payers, funds them,
// pre-signs the workload, submits it for cfg.Duration and counts what
// commits. Progress goes to progress (nil: none). Zero fields of cfg take
// their defaults.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, c: sdk.New(cfg.Node, sdk.WithoutCompression()), out: progress}
	info, err := r.c.Info(ctx)
	if err != nil {
		return nil, err
	}
	if a := types.AddressOf(cfg.Issuer.Scheme(), cfg.Issuer.Public().Bytes()); a != info.Issuer {
		return nil, fmt.Errorf("%w: the funding key's address %s is not the chain's issuer %s; pass the issuer's key with --from", ErrConfig, a, info.Issuer)
	}
	// Expiry covers setup, the window and the drain, with two hours to spare.
	r.chain = chain{id: info.ChainID, hash: info.Hash,
		expires: uint64(time.Now().Add(cfg.Duration + cfg.Drain + 2*time.Hour).UnixMilli())}

	rep := &Report{
		Node: cfg.Node, Workload: cfg.Workload, Crypto: cfg.Crypto.String(), Accounts: cfg.Accounts,
		Seed: cfg.Seed, DurationS: cfg.Duration.Seconds(), Rate: cfg.Rate, Batch: cfg.Batch,
		Submitters: cfg.Submitters, MaxPending: max(cfg.MaxPending, -1),
		RejectedByReason: map[string]int64{},
	}
	if cfg.Workload == Merchants {
		rep.Merchants, rep.Zipf = cfg.Merchants, cfg.Zipf
	}

	t := time.Now()
	prog := newProgress(progress, "keys", cfg.Accounts)
	payers, err := deriveKeys(ctx, cfg.Crypto, cfg.Seed, rolePayer, cfg.Accounts, prog)
	prog.finish()
	if err != nil {
		return nil, err
	}
	dest := payers.addrs
	if cfg.Workload == Merchants {
		dest = merchantAddrs(cfg.Seed, cfg.Merchants)
	}
	rep.KeysS = time.Since(t).Seconds()

	t = time.Now()
	var nonces []uint64
	if cfg.Workload == Contract {
		nonces, err = r.fundContract(ctx, payers)
	} else {
		nonces, err = r.fund(ctx, payers)
	}
	if err != nil {
		return nil, err
	}
	rep.FundS = time.Since(t).Seconds()

	t = time.Now()
	n := cfg.TxCount()
	pl := makePlan(cfg.Workload, n, nonces, cfg.Merchants, cfg.Zipf, cfg.Seed)
	prog = newProgress(progress, "pre-sign", n)
	ld, err := signPlan(ctx, pl, payers.keys, dest, r.chain, prog, cfg.Workload == Contract)
	prog.finish()
	if err != nil {
		return nil, err
	}
	rep.Presigned = n
	rep.PresignS = time.Since(t).Seconds()

	if err := r.measure(ctx, ld, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// meter counts the measured transactions in committed blocks. Only the
// watcher's goroutine writes it, until the watcher is done.
type meter struct {
	ld        *load
	committed atomic.Int64
	failed    int64
	latencies []int64 // ns
	blocks    []seenBlock
}

// seenBlock is a block carrying measured transactions: when it arrived and
// how many.
type seenBlock struct {
	at time.Time
	n  int64
}

func (m *meter) handle(arrived time.Time, msg *apipb.SubscribeResponse) {
	var n int64
	for _, res := range msg.Results {
		id, err := types.ParseHash(res.TxId)
		if err != nil {
			continue
		}
		i, ok := m.ld.index[id]
		if !ok {
			continue
		}
		sent := m.ld.sent[i].Load()
		if sent == 0 {
			continue
		}
		m.latencies = append(m.latencies, arrived.UnixNano()-sent)
		if res.GetReceipt().GetStatus() != pb.TxStatus_TX_STATUS_OK {
			m.failed++
		}
		n++
	}
	if n > 0 {
		m.blocks = append(m.blocks, seenBlock{arrived, n})
		m.committed.Add(n)
	}
}

// measure submits the pre-signed load for the window, drains, and fills
// rep's measured fields.
func (r *runner) measure(ctx context.Context, ld *load, rep *Report) error {
	st, err := r.c.Status(ctx)
	if err != nil {
		return err
	}
	m := &meter{ld: ld, latencies: make([]int64, 0, len(ld.raws))}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	w := startWatcher(wctx, r.c, st.Height+1, m.handle)

	var submitted atomic.Int64
	var hold func() bool
	if limit := int64(r.cfg.MaxPending); limit > 0 {
		hold = func() bool { return submitted.Load()-m.committed.Load() >= limit }
	}
	rate := r.cfg.Rate / float64(r.cfg.Submitters)
	batch := r.cfg.Batch
	if rate > 0 {
		// Paced streams send about 50 batches a second, so that the offered
		// load is smooth rather than one burst per batch.
		batch = min(batch, max(1, int(rate/50)))
	}
	rep.Batch = batch
	start := time.Now()
	deadline := start.Add(r.cfg.Duration)
	var streams []*stream
	for _, part := range split(ld.sender, r.cfg.Submitters) {
		streams = append(streams, &stream{
			c: r.c, raws: ld.raws, sender: ld.sender, txs: part, batch: batch,
			rate: rate, deadline: deadline,
			sent: ld.sent, hold: hold, block: &w.block, submitted: &submitted,
		})
	}
	stopLine := liveLine(r.out, func() string {
		return fmt.Sprintf("%-9s %5.1fs of %s: %d submitted, %d committed", "measure",
			time.Since(start).Seconds(), r.cfg.Duration, submitted.Load(), m.committed.Load())
	})
	defer stopLine()
	if err := runStreams(ctx, streams); err != nil {
		return err
	}
	end := deadline
	exhausted := r.cfg.Rate == 0
	var lastSend time.Time
	for _, s := range streams {
		exhausted = exhausted && s.exhausted
		if s.lastSend.After(lastSend) {
			lastSend = s.lastSend
		}
		rep.Retried += s.retries
		rep.Skipped += s.skipped
		for k, v := range s.rejected {
			rep.RejectedByReason[k] += v
			rep.Rejected += v
		}
	}
	if exhausted && lastSend.Before(deadline) {
		end = lastSend
	}

	// Drain: count commits until everything admitted has committed.
	drainStart := time.Now()
	timeout := time.NewTimer(r.cfg.Drain)
	defer timeout.Stop()
drain:
	for {
		wake := w.block.wait()
		if m.committed.Load() >= submitted.Load() {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.done:
			break drain
		case <-timeout.C:
			break drain
		case <-wake:
		}
	}
	rep.DrainS = time.Since(drainStart).Seconds()
	stopLine()
	stopWatch()
	<-w.done
	if w.err != nil {
		return w.err
	}

	rep.Submitted = submitted.Load()
	rep.Committed = m.committed.Load()
	rep.Failed = m.failed
	rep.Pending = max(0, rep.Submitted-rep.Committed)
	rep.Exhausted = exhausted
	rep.Blocks = len(m.blocks)
	if d := end.Sub(start).Seconds(); d > 0 {
		rep.SubmittedTPS = float64(rep.Submitted) / d
	}
	if exhausted && len(m.blocks) > 0 {
		// Everything was sent early: the work is done when the last of it
		// commits, so the window runs to that block, not to the last send
		// (which may come before any block at all).
		end = m.blocks[len(m.blocks)-1].at
	}
	rep.WindowS, rep.WindowCommitted, rep.CommittedTPS = steady(m.blocks, start, end)
	slices.Sort(m.latencies)
	rep.P50Ms = ms(percentile(m.latencies, 50))
	rep.P90Ms = ms(percentile(m.latencies, 90))
	rep.P99Ms = ms(percentile(m.latencies, 99))
	rep.MaxMs = ms(percentile(m.latencies, 100))
	return nil
}

// steady computes the steady window, the transactions counted in it and
// committed TPS as Report documents: blocks seen after the first one and
// by end, over the time from the first one to end.
func steady(blocks []seenBlock, start, end time.Time) (windowS float64, n int64, tps float64) {
	var in []seenBlock
	for _, b := range blocks {
		if !b.at.After(end) {
			in = append(in, b)
		}
	}
	from := start
	if len(in) >= 2 {
		from = in[0].at
		in = in[1:]
	}
	for _, b := range in {
		n += b.n
	}
	windowS = end.Sub(from).Seconds()
	if windowS > 0 {
		tps = float64(n) / windowS
	}
	return windowS, n, tps
}
