package crypto_test

// This file is the only importer of github.com/tjfoc/gmsm, the SM2 engine
// ChainMaker ships by default. It is here for comparison only: a benchmark
// that measures it beside ours, and a test that the two agree on
// signatures. Test files are never linked into the node.

import (
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"testing"

	tjsm2 "github.com/tjfoc/gmsm/sm2"

	"github.com/accord-chain/accord/crypto"
)

// tjfocKey returns k as a tjfoc/gmsm key.
func tjfocKey(t testing.TB, k crypto.PrivateKey) *tjsm2.PrivateKey {
	t.Helper()
	c := tjsm2.P256Sm2()
	d := k.Bytes()
	x, y := c.ScalarBaseMult(d)
	return &tjsm2.PrivateKey{PublicKey: tjsm2.PublicKey{Curve: c, X: x, Y: y}, D: new(big.Int).SetBytes(d)}
}

type derSig struct{ R, S *big.Int }

// toDER converts our fixed r||s to the DER form tjfoc/gmsm takes.
func toDER(t testing.TB, sig []byte) []byte {
	t.Helper()
	der, err := asn1.Marshal(derSig{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestTjfocAgrees checks that tjfoc/gmsm and we accept each other's SM2
// signatures (same curve, SM3, default user id) and reject tampered ones,
// so the benchmark compares equal work.
func TestTjfocAgrees(t *testing.T) {
	for i := range 8 {
		k := mustKey(t, crypto.SM2, uint64(300+i))
		tk := tjfocKey(t, k)
		msg := []byte{byte(i), 'm'}

		ours := mustSign(t, k, msg)
		if !tk.PublicKey.Verify(msg, toDER(t, ours)) {
			t.Fatalf("key %d: tjfoc rejects our signature", i)
		}
		der, err := tk.Sign(rand.Reader, msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var rs derSig
		if _, err := asn1.Unmarshal(der, &rs); err != nil {
			t.Fatal(err)
		}
		theirs := make([]byte, 64)
		rs.R.FillBytes(theirs[:32])
		rs.S.FillBytes(theirs[32:])
		pub := k.Public().Bytes()
		if err := crypto.Verify(crypto.SM2, pub, msg, theirs); err != nil {
			t.Fatalf("key %d: we reject tjfoc's signature: %v", i, err)
		}

		ours[40] ^= 1
		theirs[40] ^= 1
		if tk.PublicKey.Verify(msg, toDER(t, ours)) || crypto.Verify(crypto.SM2, pub, msg, theirs) == nil {
			t.Fatalf("key %d: a tampered signature verified", i)
		}
	}
}

// BenchmarkVerifyTjfoc verifies SM2 as ChainMaker does by default: tjfoc's
// PublicKey.Verify, which computes ZA and parses DER on every call.
func BenchmarkVerifyTjfoc(b *testing.B) {
	b.Run("sm2", func(b *testing.B) {
		k := mustKey(b, crypto.SM2, 1)
		pub := &tjfocKey(b, k).PublicKey
		der := toDER(b, mustSign(b, k, benchMsg))
		benchCores(b, 1, func() func() bool {
			return func() bool { return pub.Verify(benchMsg, der) }
		})
	})
}
