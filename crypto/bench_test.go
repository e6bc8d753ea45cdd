package crypto_test

import (
	stdecdsa "crypto/ecdsa"
	stded25519 "crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
)

// Verification benchmarks report verifies/s on one goroutine (cores=1) and
// on GOMAXPROCS goroutines (cores=all), for comparison with the standard
// library (BenchmarkVerifyStdlib) and, for SM2, with tjfoc/gmsm
// (BenchmarkVerifyTjfoc). They also report verifies/cpu-s, the work done
// per second of this process's CPU time: on a shared machine, where other
// programs take turns on the cores, it varies far less than the wall-clock
// rate. Compare runs with benchstat:
//
//	go test ./crypto -run '^$' -bench 'Verify' -count 5 | tee new.txt

// benchMsg is about the size of a transfer transaction's payload.
var benchMsg = make([]byte, 200)

// benchSenders is how many keys sign the batches: consortium senders
// repeat, so a batch holds several signatures by the same key.
const benchSenders = 100

type signed struct {
	k        crypto.PrivateKey
	pub, sig []byte
}

func benchSigned(b *testing.B, s crypto.Scheme, n int) []signed {
	out := make([]signed, n)
	for i := range out {
		k := mustKey(b, s, uint64(1000+i%benchSenders))
		out[i] = signed{k, k.Public().Bytes(), mustSign(b, k, benchMsg)}
	}
	return out
}

// benchCores runs the verifier that newVerify makes, which checks per
// signatures a call, on one goroutine and on one per core. newVerify is
// called once per goroutine, so verifiers may keep scratch space.
func benchCores(b *testing.B, per int, newVerify func() func() bool) {
	b.Run("cores=1", func(b *testing.B) {
		verify := newVerify()
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			if !verify() {
				b.Fatal("rejected")
			}
		}
		reportRates(b, b.N*per, cpuTime()-cpu)
	})
	b.Run("cores=all", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			verify := newVerify()
			for pb.Next() {
				if !verify() {
					b.Error("rejected")
					return
				}
			}
		})
		reportRates(b, b.N*per, cpuTime()-cpu)
	})
}

// reportRates reports n verifications per second of wall-clock and of CPU
// time.
func reportRates(b *testing.B, n int, cpu time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "verifies/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "verifies/cpu-s")
	}
}

// BenchmarkVerify verifies one signature at a time: from key bytes, as
// Verify does, and with the key decoded once (PublicKey.Verify, which is
// what a KeyCache hit gives).
func BenchmarkVerify(b *testing.B) {
	for _, s := range schemes {
		v := benchSigned(b, s, 1)[0]
		b.Run(s.String()+"/bytes", func(b *testing.B) {
			benchCores(b, 1, func() func() bool {
				return func() bool { return crypto.Verify(s, v.pub, benchMsg, v.sig) == nil }
			})
		})
		b.Run(s.String()+"/key", func(b *testing.B) {
			p, err := crypto.PublicKeyFromBytes(s, v.pub)
			if err != nil {
				b.Fatal(err)
			}
			benchCores(b, 1, func() func() bool {
				return func() bool { return p.Verify(benchMsg, v.sig) }
			})
		})
	}
}

// BenchmarkVerifyBatch verifies Ed25519 batches of several sizes, signed by
// benchSenders keys: with key bytes, and with keys from a KeyCache whose
// precomputed tables the batch equation uses (up to 93 signatures).
func BenchmarkVerifyBatch(b *testing.B) {
	for _, n := range []int{16, 32, 64, 128} {
		sigs := benchSigned(b, crypto.Ed25519, n)
		keys := crypto.NewKeyCache(benchSenders)
		items := make([]crypto.Item, n)
		keyed := make([]crypto.Item, n)
		for i, v := range sigs {
			items[i] = crypto.Item{Scheme: crypto.Ed25519, PublicKey: v.pub, Message: benchMsg, Signature: v.sig}
			keyed[i] = items[i]
			var err error
			if keyed[i].Key, err = keys.Get(crypto.Ed25519, v.pub); err != nil {
				b.Fatal(err)
			}
		}
		for _, c := range []struct {
			name  string
			items []crypto.Item
		}{{"bytes", items}, {"keys", keyed}} {
			b.Run(fmt.Sprintf("ed25519/n=%d/%s", n, c.name), func(b *testing.B) {
				benchCores(b, n, func() func() bool {
					ok := make([]bool, n)
					return func() bool {
						crypto.VerifyBatch(c.items, ok)
						for _, good := range ok {
							if !good {
								return false
							}
						}
						return true
					}
				})
			})
		}
	}
}

// BenchmarkVerifyStdlib is the baseline: the standard library's own
// sequential verification with its native key and signature formats.
func BenchmarkVerifyStdlib(b *testing.B) {
	b.Run("ed25519", func(b *testing.B) {
		pub, priv, _ := stded25519.GenerateKey(rand.Reader)
		sig := stded25519.Sign(priv, benchMsg)
		benchCores(b, 1, func() func() bool {
			return func() bool { return stded25519.Verify(pub, benchMsg, sig) }
		})
	})
	b.Run("p256", func(b *testing.B) {
		k, _ := stdecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		h := sha256.Sum256(benchMsg)
		sig, _ := stdecdsa.SignASN1(rand.Reader, k, h[:])
		benchCores(b, 1, func() func() bool {
			return func() bool {
				// Hashing is part of the work, as in crypto.Verify.
				h := sha256.Sum256(benchMsg)
				return stdecdsa.VerifyASN1(&k.PublicKey, h[:], sig)
			}
		})
	})
}

// BenchmarkKeyCacheGet measures a hit, the cost a cached key adds to each
// verification.
func BenchmarkKeyCacheGet(b *testing.B) {
	for _, s := range schemes {
		b.Run(s.String(), func(b *testing.B) {
			c := crypto.NewKeyCache(1024)
			sigs := benchSigned(b, s, benchSenders)
			for _, v := range sigs {
				if _, err := c.Get(s, v.pub); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.Get(s, sigs[i%len(sigs)].pub); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkPublicKeyFromBytes measures decoding, the cost of a KeyCache
// miss.
func BenchmarkPublicKeyFromBytes(b *testing.B) {
	for _, s := range schemes {
		b.Run(s.String(), func(b *testing.B) {
			pub := mustKey(b, s, 1).Public().Bytes()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := crypto.PublicKeyFromBytes(s, pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	for _, s := range schemes {
		b.Run(s.String(), func(b *testing.B) {
			k := mustKey(b, s, 1)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := k.Sign(benchMsg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHashSum(b *testing.B) {
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SM3} {
		b.Run(h.String(), func(b *testing.B) {
			left, right := make([]byte, 32), make([]byte, 32)
			b.ReportAllocs()
			for b.Loop() {
				h.Sum([]byte{1}, left, right)
			}
		})
	}
}

// BenchmarkVerifyBatchMisses verifies batches of 128 Ed25519 signatures by
// 4,096 signers in turn through a KeyCache of 32 keys, so that every key
// misses, as with a million senders: keys from Get (expanded on each miss)
// and from Reused (left to the batch to decompress).
func BenchmarkVerifyBatchMisses(b *testing.B) {
	const n, signers = 128, 4096
	msgs := make([]signed, signers)
	for i := range msgs {
		k := mustKey(b, crypto.Ed25519, uint64(5000+i))
		msgs[i] = signed{k, k.Public().Bytes(), mustSign(b, k, benchMsg)}
	}
	for _, c := range []struct {
		name string
		key  func(*crypto.KeyCache, []byte) crypto.PublicKey
	}{
		{"get", func(c *crypto.KeyCache, pub []byte) crypto.PublicKey {
			k, _ := c.Get(crypto.Ed25519, pub)
			return k
		}},
		{"reused", func(c *crypto.KeyCache, pub []byte) crypto.PublicKey { return c.Reused(crypto.Ed25519, pub) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchCores(b, n, func() func() bool {
				keys := crypto.NewKeyCache(32)
				items := make([]crypto.Item, n)
				ok := make([]bool, n)
				next := 0
				return func() bool {
					for i := range items {
						v := &msgs[next%signers]
						next++
						items[i] = crypto.Item{Scheme: crypto.Ed25519, PublicKey: v.pub, Message: benchMsg, Signature: v.sig}
						items[i].Key = c.key(keys, v.pub)
					}
					crypto.VerifyBatch(items, ok)
					for _, good := range ok {
						if !good {
							return false
						}
					}
					return true
				}
			})
		})
	}
}
