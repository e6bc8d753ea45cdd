package execution_test

import (
	"math/rand/v2"
	"testing"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types/pb"
)

// BenchmarkExecuteTransfers executes a block of 1000 Ed25519-signed token
// transfers among 10,000 funded accounts over an in-memory state. Signature
// checks are not part of execution. ns/tx is the figure the node's
// throughput budget is written in.
func BenchmarkExecuteTransfers(b *testing.B) {
	const accounts, txs = 10_000, 1000
	ex, err := execution.New(cfg, token.New())
	if err != nil {
		b.Fatal(err)
	}
	accts := make([]*exectest.Account, accounts)
	alloc := make([]token.Alloc, accounts)
	for i := range accts {
		accts[i] = exectest.NewAccount(crypto.Ed25519, uint64(i), chainID, crypto.SHA256)
		alloc[i] = token.Alloc{Address: accts[i].Address, Amount: 1_000_000}
	}
	gw, err := token.Genesis(accts[0].Address, alloc)
	if err != nil {
		b.Fatal(err)
	}
	state := exectest.NewState(gw)
	rng := rand.New(rand.NewPCG(1, 2))
	in := &execution.BlockInput{Height: 1, Time: 1000, Proposer: []byte("bench")}
	for range txs {
		from, to := accts[rng.IntN(accounts)], accts[rng.IntN(accounts)]
		in.Txs = append(in.Txs, from.Tx(token.Name, token.MethodTransfer, token.TransferArgs(to.Address, uint64(rng.IntN(1000)+1))))
	}

	b.ReportAllocs()
	var res *execution.Result
	for b.Loop() {
		res, err = ex.Execute(state, in)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for i, r := range res.Receipts {
		if r.Status != pb.TxStatus_TX_STATUS_OK {
			b.Fatalf("tx %d: %v %q", i, r.Status, r.Message)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*txs), "ns/tx")
}
