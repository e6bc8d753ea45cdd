package execution_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

const benchAccounts, benchTxs, benchMerchants = 10_000, 10_000, 100

// benchChain is the benchmarks' state, 10,000 funded accounts, and their
// blocks, made once.
var benchChain = sync.OnceValues(func() (*exectest.State, map[string][]*types.Tx) {
	accts := make([]*exectest.Account, benchAccounts)
	alloc := make([]token.Alloc, benchAccounts)
	for i := range accts {
		accts[i] = exectest.NewAccount(crypto.Ed25519, uint64(i), chainID, crypto.SHA256)
		alloc[i] = token.Alloc{Address: accts[i].Address, Amount: 1_000_000}
	}
	gw, err := token.Genesis(accts[0].Address, alloc)
	if err != nil {
		panic(err)
	}
	for k := range benchMerchants {
		w, err := pay.GenesisMerchant(fmt.Sprint("m", k), "", accts[k].Address)
		if err != nil {
			panic(err)
		}
		gw = append(gw, w)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	blocks := map[string][]*types.Tx{}
	for _, name := range []string{"uniform", "hotmerchant", "payments"} {
		for _, a := range accts {
			a.Nonce = 0 // each block follows genesis
		}
		var txs []*types.Tx
		for range benchTxs {
			from, to := accts[rng.IntN(benchAccounts)], accts[rng.IntN(benchAccounts)]
			if name == "hotmerchant" && rng.IntN(5) < 4 {
				to = accts[1]
			}
			if name == "payments" {
				k := 0
				if rng.IntN(5) == 0 {
					k = rng.IntN(benchMerchants)
				}
				txs = append(txs, from.Tx(paycall.Name, paycall.MethodPay, paycall.Pay(types.Hash{}, fmt.Sprint("m", k), uint64(rng.IntN(1000)+1), accts[k].Address)))
				continue
			}
			txs = append(txs, from.Tx(token.Name, token.MethodTransfer, tokencall.Transfer(to.Address, uint64(rng.IntN(1000)+1))))
		}
		blocks[name] = txs
	}
	return exectest.NewState(gw), blocks
})

// BenchmarkExecute executes a block of 10,000 Ed25519-signed token transfers
// among 10,000 funded accounts over an in-memory state, sequentially
// (workers=1) and in parallel. In "uniform" senders and recipients are
// drawn uniformly; in "hotmerchant" 80% of the transfers pay one account;
// "payments" are pay contract payments without requests, 80% of them to
// one of 100 merchants.
// Signature checks are not part of execution. ns/tx is the figure the
// node's throughput budget is written in; on a shared machine, compare
// cpu-ns/tx (the process's CPU time, garbage collection included), which
// the other load disturbs far less, or medians of -count 5 or more.
func BenchmarkExecute(b *testing.B) {
	for _, workers := range []int{1, 2} {
		for _, block := range []string{"uniform", "hotmerchant", "payments"} {
			b.Run(fmt.Sprintf("workers=%d/%s", workers, block), func(b *testing.B) {
				state, blocks := benchChain()
				ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: workers}, token.New(), pay.New())
				if err != nil {
					b.Fatal(err)
				}
				in := &execution.BlockInput{Height: 1, Time: 1000, Proposer: []byte("bench"), Txs: blocks[block]}
				b.ReportAllocs()
				var res *execution.Result
				cpu := processCPU()
				for b.Loop() {
					if res, err = ex.Execute(state, in); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				cpu = processCPU() - cpu
				if res.Stats.Workers != workers {
					b.Fatalf("ran with %d workers (%+v), want %d", res.Stats.Workers, res.Stats, workers)
				}
				for i, r := range res.Receipts {
					if r.Status != pb.TxStatus_TX_STATUS_OK {
						b.Fatalf("tx %d: %v %q", i, r.Status, r.Message)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in.Txs)), "ns/tx")
				b.ReportMetric(float64(cpu)/float64(b.N*len(in.Txs)), "cpu-ns/tx")
			})
		}
	}
}

// BenchmarkAdmissionCheck dry-runs one call per op against the benchmark
// state, as the pool's admission check does for every transaction it
// admits: "simulate" keeps a transfer's reads, writes and events
// (Simulate), "check" keeps only its verdict (Check), and "check-payment"
// checks a pay contract payment without a request.
func BenchmarkAdmissionCheck(b *testing.B) {
	st, blocks := benchChain()
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256}, token.New(), pay.New())
	if err != nil {
		b.Fatal(err)
	}
	in := func(txs []*types.Tx, i int) *execution.CallInput {
		tx := txs[i%len(txs)]
		return &execution.CallInput{Sender: tx.Sender, Height: 1, Time: 1, Contract: tx.Body.Contract, Method: tx.Body.Method, Args: tx.Body.Args}
	}
	b.Run("simulate", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			r, err := ex.Simulate(st, in(blocks["uniform"], i))
			if err != nil || r.Err != nil {
				b.Fatal(err, r.Err)
			}
		}
	})
	for _, c := range []struct{ name, block string }{{"check", "uniform"}, {"check-payment", "payments"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				failure, err := ex.Check(st, in(blocks[c.block], i))
				if err != nil || failure != nil {
					b.Fatal(err, failure)
				}
			}
		})
	}
}
