package bench

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// TestMerchantPopularityFollowsZipf draws a merchants workload and checks
// that the merchant of rank 1 gets the largest share, that shares fall
// with rank, and that rank 1's share is the one Zipf's law predicts.
func TestMerchantPopularityFollowsZipf(t *testing.T) {
	const (
		merchants = 100
		n         = 200_000
		s         = 1.2
	)
	pl := makePlan(Merchants, n, make([]uint64, 1000), merchants, s, 7)
	count := make([]int, merchants)
	for _, m := range pl.payee {
		count[m]++
	}
	if top := slices.Max(count); count[0] != top {
		t.Fatalf("rank 1 got %d payments, but a merchant got %d: rank 1 must be the hottest", count[0], top)
	}
	for k := 0; k < 5; k++ {
		if count[k] <= count[k+1] {
			t.Errorf("rank %d got %d payments, rank %d got %d: shares must fall with rank", k+1, count[k], k+2, count[k+1])
		}
	}
	var deciles [10]int
	for k, c := range count {
		deciles[k/10] += c
	}
	for d := 0; d+1 < len(deciles); d++ {
		if deciles[d] <= deciles[d+1] {
			t.Errorf("ranks %d-%d got %d payments, ranks %d-%d got %d: shares must fall with rank",
				10*d+1, 10*d+10, deciles[d], 10*d+11, 10*d+20, deciles[d+1])
		}
	}
	var norm float64
	for k := 1; k <= merchants; k++ {
		norm += math.Pow(float64(k), -s)
	}
	want := n / norm
	if got := float64(count[0]); math.Abs(got-want) > 0.03*want {
		t.Errorf("rank 1 got %.0f payments, Zipf(s=%g) over %d merchants predicts %.0f", got, s, merchants, want)
	}
}

// TestPlanNoncesAreSequentialPerPayer checks the property submission relies
// on: in pre-signed order, each payer's nonces run from its next nonce up
// by one, and splitting into streams keeps that order within one stream.
func TestPlanNoncesAreSequentialPerPayer(t *testing.T) {
	const accounts = 20
	start := make([]uint64, accounts)
	for p := range start {
		start[p] = uint64(p*7) % 13 // payers used before start above 0
	}
	for _, workload := range []string{Uniform, Merchants} {
		// Every payer reaches MaxPerPayer, so full payers must drop out.
		n := accounts * MaxPerPayer
		pl := makePlan(workload, n, start, 50, 1.2, 3)
		next := slices.Clone(start)
		for i, p := range pl.payer {
			if pl.nonce[i] != next[p] {
				t.Fatalf("%s: tx %d of payer %d has nonce %d, want %d", workload, i, p, pl.nonce[i], next[p])
			}
			next[p]++
			if workload == Uniform && pl.payee[i] == p {
				t.Fatalf("%s: tx %d: payer %d pays itself", workload, i, p)
			}
			if a := pl.amount[i]; a < 1 || a > maxAmount {
				t.Fatalf("%s: tx %d: amount %d outside [1, %d]", workload, i, a, maxAmount)
			}
		}
		for p := range next {
			if got := next[p] - start[p]; got != MaxPerPayer {
				t.Errorf("%s: payer %d has %d transactions, want %d", workload, p, got, MaxPerPayer)
			}
		}

		streams := split(pl.payer, 3)
		owner := map[int32]int{}
		total := 0
		for s, txs := range streams {
			total += len(txs)
			for k, i := range txs {
				p := pl.payer[i]
				if o, ok := owner[p]; ok && o != s {
					t.Fatalf("%s: payer %d is in streams %d and %d", workload, p, o, s)
				}
				owner[p] = s
				if k > 0 && txs[k-1] >= i {
					t.Fatalf("%s: stream %d is out of pre-signed order at %d", workload, s, k)
				}
			}
		}
		if total != n {
			t.Fatalf("%s: streams hold %d transactions, want %d", workload, total, n)
		}
	}
}

func TestPlanIsReproducible(t *testing.T) {
	start := make([]uint64, 50)
	a := makePlan(Merchants, 5000, start, 10, 1.5, 11)
	b := makePlan(Merchants, 5000, start, 10, 1.5, 11)
	c := makePlan(Merchants, 5000, start, 10, 1.5, 12)
	if !slices.Equal(a.payer, b.payer) || !slices.Equal(a.payee, b.payee) || !slices.Equal(a.amount, b.amount) {
		t.Fatal("the same seed drew two different workloads")
	}
	if slices.Equal(a.payer, c.payer) {
		t.Fatal("seeds 11 and 12 drew the same payers")
	}
	k1, _ := deriveKey(crypto.SM2, 11, rolePayer, 4)
	k2, _ := deriveKey(crypto.SM2, 11, rolePayer, 4)
	k3, _ := deriveKey(crypto.SM2, 11, roleDistributor, 4)
	if !slices.Equal(k1.Bytes(), k2.Bytes()) || slices.Equal(k1.Bytes(), k3.Bytes()) {
		t.Fatal("key derivation must depend on seed, role and index only")
	}
}

// TestSignedTransactionsCarryThePlan decodes what signPlan made: each
// transaction is signed by its payer, with the planned nonce, and indexed
// by its id.
func TestSignedTransactionsCarryThePlan(t *testing.T) {
	for _, s := range []crypto.Scheme{crypto.Ed25519, crypto.SM2, crypto.P256} {
		h := crypto.SHA256
		if s == crypto.SM2 {
			h = crypto.SM3
		}
		payers, err := deriveKeys(context.Background(), s, 5, rolePayer, 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		pl := makePlan(Uniform, 40, []uint64{0, 5, 9, 100}, 0, 0, 5)
		ld, err := signPlan(context.Background(), pl, payers.keys, payers.addrs, chain{id: "c", hash: h, expires: 1 << 50}, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		for i, raw := range ld.raws {
			tx, err := types.DecodeTx(raw, h)
			if err != nil {
				t.Fatalf("%s: tx %d: %v", s, i, err)
			}
			if err := tx.Verify(); err != nil {
				t.Fatalf("%s: tx %d: %v", s, i, err)
			}
			p := pl.payer[i]
			if tx.Sender != payers.addrs[p] || tx.Nonce() != pl.nonce[i] || tx.ID != ld.ids[i] || ld.index[tx.ID] != int32(i) {
				t.Fatalf("%s: tx %d: sender %s nonce %d, want payer %d (%s) nonce %d", s, i, tx.Sender, tx.Nonce(), p, payers.addrs[p], pl.nonce[i])
			}
		}
		if len(ld.index) != len(ld.raws) {
			t.Fatalf("%s: %d ids for %d transactions", s, len(ld.index), len(ld.raws))
		}
	}
}
