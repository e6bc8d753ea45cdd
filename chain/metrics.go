package chain

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accord-chain/accord/consensus"
)

// metrics are the Prometheus metrics of committed blocks. Rates such as
// committed TPS are the rate() of the counters.
type metrics struct {
	blockTxs     prometheus.Histogram
	blockGap     prometheus.Histogram
	applySeconds prometheus.Histogram
	committed    prometheus.Counter
	latency      prometheus.Histogram
	height       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, height uint64) *metrics {
	hist := func(name, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	}
	m := &metrics{
		blockTxs:     hist("accord_block_txs", "Transactions per committed block.", prometheus.ExponentialBuckets(1, 4, 9)),
		blockGap:     hist("accord_block_interval_seconds", "Time between consecutive block timestamps.", prometheus.ExponentialBuckets(0.005, 2, 12)),
		applySeconds: hist("accord_block_apply_seconds", "Time to execute and commit one block.", prometheus.ExponentialBuckets(0.001, 2, 14)),
		latency:      hist("accord_tx_commit_latency_seconds", "Time from admission to commit, per transaction.", prometheus.ExponentialBuckets(0.005, 2, 12)),
		committed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "accord_committed_txs_total", Help: "Transactions in committed blocks; committed TPS is its rate()."}),
		height:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "accord_height", Help: "Height of the last committed block."}),
	}
	reg.MustRegister(m.blockTxs, m.blockGap, m.applySeconds, m.latency, m.committed, m.height)
	m.height.Set(float64(height))
	return m
}

// observe records a committed block: the time of the block before it, and
// when its Apply began.
func (m *metrics) observe(p *consensus.Proposal, prevTime uint64, start, now time.Time) {
	m.applySeconds.Observe(now.Sub(start).Seconds())
	m.blockTxs.Observe(float64(len(p.Txs)))
	if prevTime > 0 && p.Time > prevTime {
		m.blockGap.Observe(float64(p.Time-prevTime) / 1000)
	}
	m.committed.Add(float64(len(p.Txs)))
	m.height.Set(float64(p.Height))
	nowNs := now.UnixNano()
	for _, tx := range p.Txs {
		if tx.Received > 0 {
			m.latency.Observe(float64(nowNs-tx.Received) / 1e9)
		}
	}
}
