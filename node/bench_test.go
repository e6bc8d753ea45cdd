package node

import (
	"context"
	"testing"
	"time"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// BenchmarkNodeCommit measures the node alone, without the API: b.N
// pre-signed transfers go through Pool.Submit in batches, and the clock
// stops when the last one is committed. It reports committed tx/s.
func BenchmarkNodeCommit(b *testing.B) {
	for _, s := range []crypto.Scheme{crypto.Ed25519, crypto.SM2} {
		b.Run(s.String(), func(b *testing.B) { benchNodeCommit(b, s) })
	}
}

func benchNodeCommit(b *testing.B, scheme crypto.Scheme) {
	res, err := Init(InitOptions{Home: b.TempDir(), BasePort: 17000})
	if err != nil {
		b.Fatal(err)
	}
	n, err := Open(res.Nodes[0].Home, quiet)
	if err != nil {
		b.Fatal(err)
	}
	ks, _ := keystore.Open(res.KeysDir)
	admin, _ := ks.Get(AdminKey)
	const accounts = 1000
	keys := make([]crypto.PrivateKey, accounts)
	addrs := make([]types.Address, accounts)
	exp := uint64(time.Now().Add(time.Hour).UnixMilli())
	var fund [][]byte
	for i := range keys {
		keys[i], _ = crypto.GenerateKey(scheme, nil)
		addrs[i] = types.AddressOf(scheme, keys[i].Public().Bytes())
		tx, _ := types.SignTx(&pb.TxPayload{ChainId: "accord-dev", Nonce: uint64(i), ExpiresAt: exp, Contract: token.Name,
			Method: token.MethodMint, Args: tokencall.Mint(addrs[i], 1<<40)}, admin.Private, crypto.SHA256)
		fund = append(fund, tx.Raw)
	}
	txs := make([][]byte, b.N)
	for i := range txs {
		from := i % accounts
		tx, _ := types.SignTx(&pb.TxPayload{ChainId: "accord-dev", Nonce: uint64(i / accounts), ExpiresAt: exp, Contract: token.Name,
			Method: token.MethodTransfer, Args: tokencall.Transfer(addrs[(i*7+1)%accounts], 1)}, keys[from], crypto.SHA256)
		txs[i] = tx.Raw
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.engine.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		n.Close()
	}()
	submitAll := func(raws [][]byte) error {
		for off := 0; off < len(raws); {
			end := min(off+500, len(raws))
			for _, r := range n.pool.Submit(raws[off:end]) {
				if r.Err != nil {
					return r.Err
				}
			}
			off = end
		}
		return nil
	}
	waitHeight := func(id types.Hash) {
		for {
			if _, _, err := n.store.TxLocation(id); err == nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := submitAll(fund); err != nil {
		b.Fatal(err)
	}
	lastFund, _ := types.TxID(fund[len(fund)-1], crypto.SHA256)
	waitHeight(lastFund)
	b.ResetTimer()
	start := time.Now()
	half := make(chan error, 1)
	go func() { half <- submitAll(txs[:len(txs)/2]) }()
	if err := submitAll(txs[len(txs)/2:]); err != nil {
		b.Fatal(err)
	}
	if err := <-half; err != nil {
		b.Fatal(err)
	}
	last, _ := types.TxID(txs[len(txs)-1], crypto.SHA256)
	waitHeight(last)
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "tx/s")
}
