package node

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/accord-chain/accord/consensus"
)

// Metrics are the node's Prometheus metrics, served on /metrics. Rates such
// as committed TPS and verifies per second are the rate() of the counters.
type Metrics struct {
	reg          *prometheus.Registry
	blockTxs     prometheus.Histogram
	blockGap     prometheus.Histogram
	applySeconds prometheus.Histogram
	committed    prometheus.Counter
	latency      prometheus.Histogram
	height       prometheus.Gauge
}

// NewMetrics registers the node's metrics in a registry of its own.
func NewMetrics(n *Node) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := promauto{m.reg}
	m.blockTxs = f.histogram("accord_block_txs", "Transactions per committed block.", prometheus.ExponentialBuckets(1, 4, 9))
	m.blockGap = f.histogram("accord_block_interval_seconds", "Time between consecutive block timestamps.", prometheus.ExponentialBuckets(0.005, 2, 12))
	m.applySeconds = f.histogram("accord_block_apply_seconds", "Time to execute and commit one block.", prometheus.ExponentialBuckets(0.001, 2, 14))
	m.latency = f.histogram("accord_tx_commit_latency_seconds", "Time from admission to commit, per transaction.", prometheus.ExponentialBuckets(0.005, 2, 12))
	m.committed = prometheus.NewCounter(prometheus.CounterOpts{Name: "accord_committed_txs_total", Help: "Transactions in committed blocks; committed TPS is its rate()."})
	m.height = prometheus.NewGauge(prometheus.GaugeOpts{Name: "accord_height", Help: "Height of the last committed block."})
	m.reg.MustRegister(m.committed, m.height,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "accord_pool_txs", Help: "Transactions held by the pool."},
			func() float64 { return float64(n.pool.Len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "accord_sig_verified_total", Help: "Signatures verified; verifies per second is its rate()."},
			func() float64 { return float64(n.pool.Stats().Verified) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "accord_sig_cache_hits_total", Help: "Verifications skipped because the transaction was verified before."},
			func() float64 { return float64(n.pool.Stats().CacheHits) }),
	)
	m.height.Set(float64(n.store.Tip().Height))
	return m
}

type promauto struct{ reg *prometheus.Registry }

func (p promauto) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	p.reg.MustRegister(h)
	return h
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

func (m *Metrics) observeBlock(p *consensus.Proposal, prevTime uint64, start time.Time) {
	now := time.Now()
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
