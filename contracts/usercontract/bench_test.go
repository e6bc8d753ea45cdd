package usercontract_test

import (
	"fmt"
	"testing"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
	"github.com/accord-chain/accord/vm/wasm"
)

// BenchmarkTransfer executes blocks of 1,000 transfers on one core
// (Workers 1): through the native token and through wtoken. ns/op is per
// transfer.
func BenchmarkTransfer(b *testing.B) {
	const block = 1000
	for _, kind := range []string{"native", "wtoken"} {
		b.Run(kind, func(b *testing.B) {
			w := newWorld(b, wasm.Compiler)
			w.exec, _ = execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 1}, token.New(), w.runner)
			payers := make([]*exectest.Account, 100)
			var fund []*types.Tx
			if kind == "wtoken" {
				if r := w.install("wtoken", "wtoken", w.issuer); r.Status != pb.TxStatus_TX_STATUS_OK {
					b.Fatal(r.Message)
				}
			}
			for i := range payers {
				payers[i] = exectest.NewAccount(crypto.Ed25519, uint64(100+i), chainID, crypto.SHA256)
				if kind == "wtoken" {
					fund = append(fund, w.issuer.TxWith(&pb.TxPayload{Nonce: w.issuer.Nonce, Contract: "wtoken", Method: "mint",
						Args: fmt.Appendf(nil, `{"to":"%s","amount":1000000}`, payers[i].Address)}))
				} else {
					fund = append(fund, w.issuer.TxWith(&pb.TxPayload{Nonce: w.issuer.Nonce, Contract: token.Name, Method: tokencall.MethodMint,
						Args: tokencall.Mint(payers[i].Address, 1_000_000)}))
				}
				w.issuer.Nonce++
			}
			ok(b, w.block(fund...))
			sign := func() []*types.Tx {
				txs := make([]*types.Tx, block)
				for i := range txs {
					p, to := payers[i%len(payers)], payers[(i+1)%len(payers)].Address
					if kind == "wtoken" {
						txs[i] = p.Tx("wtoken", "transfer", fmt.Appendf(nil, `{"to":"%s","amount":1}`, to))
					} else {
						txs[i] = p.Tx(token.Name, tokencall.MethodTransfer, tokencall.Transfer(to, 1))
					}
				}
				return txs
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += block {
				b.StopTimer()
				txs := sign()
				b.StartTimer()
				rs := w.block(txs...)
				if rs[0].Status != pb.TxStatus_TX_STATUS_OK {
					b.Fatal(rs[0].Message)
				}
			}
		})
	}
}
