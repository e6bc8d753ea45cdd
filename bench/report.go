package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Report is the outcome of a run. Its JSON form is what `accord bench -o
// json` prints.
//
// Counts are of measured transactions only (funding is not measured).
// Committed means included in a committed block, whatever its receipt
// says; Failed counts those with a receipt other than OK.
//
// CommittedTPS is measured over the steady window. The window ends at
// the end of submission (Duration after the first batch) or, when an
// unpaced run ran out of pre-signed transactions, at the arrival of the
// last block carrying measured transactions. It begins when the first
// such block was seen, that block's transactions being the ramp-up.
// CommittedTPS is the measured transactions in the blocks seen after it
// and up to the window's end, divided by the window's length. With fewer
// than two such blocks it falls back to all transactions committed by the
// window's end divided by the time since the first batch.
//
// Latency is from the start of the SubmitTxs call that admitted a
// transaction to the arrival of its block on the bench's subscription, over
// every committed measured transaction, including those that committed
// while draining after the window. Percentiles are nearest-rank.
type Report struct {
	Node       string  `json:"node"`
	Workload   string  `json:"workload"`
	Crypto     string  `json:"crypto"`
	Accounts   int     `json:"accounts"`
	Merchants  int     `json:"merchants"` // 0 for the uniform workload
	Zipf       float64 `json:"zipf"`      // 0 for the uniform workload
	Seed       uint64  `json:"seed"`
	DurationS  float64 `json:"duration_s"`
	Rate       float64 `json:"rate"`  // offered tx/s; 0: as fast as the node accepts
	Batch      int     `json:"batch"` // per SubmitTxs call; smaller than --batch when paced
	Submitters int     `json:"submitters"`
	MaxPending int     `json:"max_pending"` // -1: no limit

	CommittedTPS    float64 `json:"committed_tps"`
	WindowS         float64 `json:"window_s"`         // length of the steady window
	WindowCommitted int64   `json:"window_committed"` // transactions counted in it
	SubmittedTPS    float64 `json:"submitted_tps"`    // admitted ÷ submission time
	P50Ms           float64 `json:"p50_ms"`
	P90Ms           float64 `json:"p90_ms"`
	P99Ms           float64 `json:"p99_ms"`
	MaxMs           float64 `json:"max_ms"`

	Presigned        int              `json:"presigned"`
	Submitted        int64            `json:"submitted"` // admitted by the node
	Committed        int64            `json:"committed"`
	Failed           int64            `json:"failed"`
	Rejected         int64            `json:"rejected"`
	RejectedByReason map[string]int64 `json:"rejected_by_reason"`
	Retried          int64            `json:"retried"` // refusals for a full pool or nonce gap, sent again
	Skipped          int64            `json:"skipped"` // not sent: an earlier nonce of the payer was rejected
	Pending          int64            `json:"pending"` // submitted, not committed when draining ended
	Exhausted        bool             `json:"exhausted"`
	Blocks           int              `json:"blocks"` // blocks that carried measured transactions

	KeysS    float64 `json:"keys_s"`
	FundS    float64 `json:"fund_s"`
	PresignS float64 `json:"presign_s"`
	DrainS   float64 `json:"drain_s"`
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted values, or 0 when there are none.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	// The smallest value with at least p% of the values at or below it; the
	// epsilon keeps whole ranks such as 99% of 100 from rounding up.
	rank := int(math.Ceil(p*float64(len(sorted))/100 - 1e-9))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }

// WriteText writes the report as a short table.
func (r *Report) WriteText(w io.Writer) {
	rate := "max"
	if r.Rate > 0 {
		rate = fmt.Sprintf("%g tx/s", r.Rate)
	}
	load := fmt.Sprintf("%s, %d %s payers", r.Workload, r.Accounts, r.Crypto)
	if r.Workload != Uniform {
		load += fmt.Sprintf(", %d merchants, zipf %g", r.Merchants, r.Zipf)
	}
	fmt.Fprintf(w, "workload       %s\n", load)
	fmt.Fprintf(w, "offered        %s for %gs (batch %d, %d submitters)\n", rate, r.DurationS, r.Batch, r.Submitters)
	fmt.Fprintf(w, "committed TPS  %.0f  (%d txs in a %.2fs steady window)\n", r.CommittedTPS, r.WindowCommitted, r.WindowS)
	fmt.Fprintf(w, "latency ms     p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs)
	fmt.Fprintf(w, "transactions   %d pre-signed, %d submitted, %d committed, %d failed, %d pending\n",
		r.Presigned, r.Submitted, r.Committed, r.Failed, r.Pending)
	if r.Rejected > 0 || r.Skipped > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.RejectedByReason)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.RejectedByReason[k]))
		}
		fmt.Fprintf(w, "rejected       %d (%s), %d skipped after a rejection\n", r.Rejected, strings.Join(parts, ", "), r.Skipped)
	}
	fmt.Fprintf(w, "setup          keys %.1fs, funding %.1fs, pre-signing %.1fs; drain %.1fs\n", r.KeysS, r.FundS, r.PresignS, r.DrainS)
	if r.Exhausted {
		fmt.Fprintf(w, "note           the %d pre-signed transactions ran out before --duration; raise --max-txs\n", r.Presigned)
	}
	if r.Failed > 0 {
		fmt.Fprintf(w, "note           %d committed transactions failed; committed TPS includes them\n", r.Failed)
	}
}
