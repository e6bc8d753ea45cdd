package node

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the node's Prometheus metrics, served on /metrics: the
// runtime's, the pool's and (registered by the chain) the committed
// blocks'. Rates such as verifies per second are the rate() of the
// counters.
type Metrics struct {
	reg *prometheus.Registry
}

// NewMetrics registers the node's metrics in a registry of its own.
func NewMetrics(n *Node) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "accord_pool_txs", Help: "Transactions held by the pool."},
			func() float64 { return float64(n.pool.Len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "accord_sig_verified_total", Help: "Signatures verified; verifies per second is its rate()."},
			func() float64 { return float64(n.pool.Stats().Verified) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "accord_sig_cache_hits_total", Help: "Verifications skipped because the transaction was verified before."},
			func() float64 { return float64(n.pool.Stats().CacheHits) }),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }
