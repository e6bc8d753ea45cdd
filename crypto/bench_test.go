package crypto_test

import (
	stdecdsa "crypto/ecdsa"
	stded25519 "crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/accord-chain/accord/crypto"
)

// benchMsg is about the size of a transfer transaction's payload.
var benchMsg = make([]byte, 200)

type signed struct {
	k        crypto.PrivateKey
	pub, sig []byte
}

func benchSigned(b *testing.B, s crypto.Scheme, n int) []signed {
	out := make([]signed, n)
	for i := range out {
		k := mustKey(b, s, uint64(1000+i))
		out[i] = signed{k, k.Public().Bytes(), mustSign(b, k, benchMsg)}
	}
	return out
}

func BenchmarkVerify(b *testing.B) {
	for _, s := range schemes {
		b.Run(s.String(), func(b *testing.B) {
			v := benchSigned(b, s, 1)[0]
			b.ReportAllocs()
			for b.Loop() {
				if err := crypto.Verify(s, v.pub, benchMsg, v.sig); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyKey verifies with a parsed PublicKey, which skips point
// decompression (and, for SM2, ZA).
func BenchmarkVerifyKey(b *testing.B) {
	for _, s := range schemes {
		b.Run(s.String(), func(b *testing.B) {
			v := benchSigned(b, s, 1)[0]
			p, err := crypto.PublicKeyFromBytes(s, v.pub)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if !p.Verify(benchMsg, v.sig) {
					b.Fatal("rejected")
				}
			}
		})
	}
}

func BenchmarkVerifyBatch(b *testing.B) {
	b.Run("ed25519", func(b *testing.B) {
		const n = 64
		items := make([]crypto.Item, n)
		for i, v := range benchSigned(b, crypto.Ed25519, n) {
			items[i] = crypto.Item{Scheme: crypto.Ed25519, PublicKey: v.pub, Message: benchMsg, Signature: v.sig}
		}
		ok := make([]bool, n)
		b.ReportAllocs()
		for b.Loop() {
			crypto.VerifyBatch(items, ok)
		}
		for i := range ok {
			if !ok[i] {
				b.Fatal("rejected")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
	})
}

func BenchmarkVerifyParallel(b *testing.B) {
	for _, s := range schemes {
		b.Run(s.String(), func(b *testing.B) {
			v := benchSigned(b, s, 1)[0]
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := crypto.Verify(s, v.pub, benchMsg, v.sig); err != nil {
						b.Error(err)
						return
					}
				}
			})
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

// BenchmarkVerifyStdlib is the baseline: the standard library's own
// verification with its native key and signature formats.
func BenchmarkVerifyStdlib(b *testing.B) {
	b.Run("ed25519", func(b *testing.B) {
		pub, priv, _ := stded25519.GenerateKey(rand.Reader)
		sig := stded25519.Sign(priv, benchMsg)
		b.ReportAllocs()
		for b.Loop() {
			if !stded25519.Verify(pub, benchMsg, sig) {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("p256", func(b *testing.B) {
		k, _ := stdecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		h := sha256.Sum256(benchMsg)
		sig, _ := stdecdsa.SignASN1(rand.Reader, k, h[:])
		b.ReportAllocs()
		for b.Loop() {
			// Hashing is part of the work, as in crypto.Verify.
			h := sha256.Sum256(benchMsg)
			if !stdecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
				b.Fatal("rejected")
			}
		}
	})
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
