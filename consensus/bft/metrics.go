package bft

import "github.com/prometheus/client_golang/prometheus"

// driverMetrics are the driver's Prometheus metrics.
type driverMetrics struct {
	round     prometheus.Gauge
	rounds    prometheus.Counter
	timeouts  prometheus.Counter
	commits   prometheus.Counter
	qcLatency prometheus.Histogram
}

func newDriverMetrics(reg prometheus.Registerer) *driverMetrics {
	m := &driverMetrics{
		round: prometheus.NewGauge(prometheus.GaugeOpts{Name: "accord_bft_round",
			Help: "The BFT round this node is in."}),
		rounds: prometheus.NewCounter(prometheus.CounterOpts{Name: "accord_bft_rounds_total",
			Help: "BFT rounds this node has entered."}),
		timeouts: prometheus.NewCounter(prometheus.CounterOpts{Name: "accord_bft_timeouts_total",
			Help: "BFT rounds this node timed out (timeouts it signed and sent, resends included)."}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{Name: "accord_bft_commits_total",
			Help: "Blocks committed by BFT consensus on this node."}),
		qcLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "accord_bft_qc_formation_seconds",
			Help:    "Time from entering a round to holding a quorum certificate of it or later.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
	}
	reg.MustRegister(m.round, m.rounds, m.timeouts, m.commits, m.qcLatency)
	return m
}
