package txpool

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

const benchBatch = 1000

// benchTxs signs benchBatch transactions: 100 senders with 10 nonces each,
// interleaved as many clients would send them.
func benchTxs(b *testing.B, s crypto.Scheme) []*types.Tx {
	b.Helper()
	const senders = 100
	keys := make([]crypto.PrivateKey, senders)
	for i := range keys {
		keys[i] = keyFor(b, s, fmt.Sprint("bench", i))
	}
	txs := make([]*types.Tx, 0, benchBatch)
	for n := range benchBatch / senders {
		for _, k := range keys {
			txs = append(txs, signTx(b, k, uint64(n)))
		}
	}
	return txs
}

// BenchmarkSubmit measures Submit of a batch of 1000 pre-signed, never seen
// transactions into an empty pool (decode, checks, verification on all
// cores, nonce rules). Each iteration uses a fresh pool, made off the clock,
// so nothing is found in the verification cache.
func BenchmarkSubmit(b *testing.B) {
	for _, s := range schemes {
		b.Run(s.String(), func(b *testing.B) {
			batch := raws(benchTxs(b, s)...)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				p, err := New(Config{}, testChain, crypto.SHA256, newState(), clock)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res := p.Submit(batch)
				b.StopTimer()
				for i, r := range res {
					if r.Err != nil {
						b.Fatalf("tx %d: %v", i, r.Err)
					}
				}
				p.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}

// BenchmarkVerifier measures the verification stage alone, with the
// transaction cache off so that every signature is checked: on one worker
// and on one per core, with signer keys decoded for every signature
// (keys=off) or kept in the key cache (keys=on, warmed up first, as for
// senders that keep sending). Ed25519 runs several batch sizes. Besides
// verifies/s it reports verifies/cpu-s, per second of this process's CPU
// time, which other programs on a shared machine disturb far less.
func BenchmarkVerifier(b *testing.B) {
	for _, s := range schemes {
		txs := benchTxs(b, s)
		batches := []int{DefaultBatchSize}
		if s == crypto.Ed25519 {
			batches = []int{16, 32, 64, 128}
		}
		for _, batch := range batches {
			for _, keys := range []string{"off", "on"} {
				for _, w := range []struct {
					name string
					n    int
				}{{"1", 1}, {"all", runtime.GOMAXPROCS(0)}} {
					name := fmt.Sprintf("%s/batch=%d/keys=%s/workers=%s", s, batch, keys, w.name)
					b.Run(name, func(b *testing.B) {
						var kc *crypto.KeyCache
						if keys == "on" {
							kc = crypto.NewKeyCache(DefaultKeyCacheSize)
						}
						v := NewVerifier(w.n, batch, 0, WithKeyCache(kc))
						defer v.Close()
						v.Verify(txs) // warms the key cache
						b.ReportAllocs()
						cpu := cpuTime()
						for b.Loop() {
							for i, err := range v.Verify(txs) {
								if err != nil {
									b.Fatalf("tx %d: %v", i, err)
								}
							}
						}
						n := float64(b.N * len(txs))
						b.ReportMetric(n/b.Elapsed().Seconds(), "verifies/s")
						if cpu = cpuTime() - cpu; cpu > 0 {
							b.ReportMetric(n/cpu.Seconds(), "verifies/cpu-s")
						}
					})
				}
			}
		}
	}
}
