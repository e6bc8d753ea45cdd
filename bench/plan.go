package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// plan is the measured workload before signing: transaction i is payer
// payer[i] paying amount[i] to dest[payee[i]] with nonce nonce[i], where
// dest is the payers' addresses (Uniform) or the merchants' (Merchants).
// Each payer's nonces appear in increasing order, one after another.
type plan struct {
	payer  []int32
	payee  []int32
	amount []uint8
	nonce  []uint64
}

// Stream identifiers of the seeded generator, so that the workload and any
// future use of the seed draw from different streams.
const planStream = 0x6163636f72642d62 // "accord-b"

// newMerchantPicker draws merchant indices in [0, merchants): index k (rank
// k+1) with probability proportional to (k+1)^-s.
func newMerchantPicker(rng *rand.Rand, s float64, merchants int) *rand.Zipf {
	return rand.NewZipf(rng, s, 1, uint64(merchants-1))
}

// makePlan draws n transactions from seed. start[p] is payer p's next
// nonce. No payer gets more than MaxPerPayer transactions; n must not
// exceed len(start)*MaxPerPayer.
func makePlan(workload string, n int, start []uint64, merchants int, zipf float64, seed uint64) *plan {
	accounts := len(start)
	pl := &plan{
		payer:  make([]int32, n),
		payee:  make([]int32, n),
		amount: make([]uint8, n),
		nonce:  make([]uint64, n),
	}
	rng := rand.New(rand.NewPCG(seed, planStream))
	var pick *rand.Zipf
	if workload == Merchants || workload == Payments {
		pick = newMerchantPicker(rng, zipf, merchants)
	}
	// Payers that may still pay, so that a full payer is never drawn.
	open := make([]int32, accounts)
	for i := range open {
		open[i] = int32(i)
	}
	count := make([]uint16, accounts)
	next := append([]uint64(nil), start...)
	for i := range n {
		k := rng.IntN(len(open))
		p := open[k]
		if count[p]++; count[p] == MaxPerPayer {
			open[k] = open[len(open)-1]
			open = open[:len(open)-1]
		}
		var to int32
		if pick != nil {
			to = int32(pick.Uint64())
		} else {
			to = int32(rng.IntN(accounts - 1))
			if to >= p {
				to++
			}
		}
		pl.payer[i], pl.payee[i] = p, to
		pl.amount[i] = uint8(1 + rng.IntN(maxAmount))
		pl.nonce[i] = next[p]
		next[p]++
	}
	return pl
}

// load is the pre-signed workload. sent[i] is when transaction i was last
// handed to SubmitTxs (unix ns), 0 if never.
type load struct {
	raws   [][]byte
	ids    []types.Hash
	sender []int32
	index  map[types.Hash]int32
	sent   []atomic.Int64
}

// chain is what signing needs to know about the chain.
type chain struct {
	id      string
	hash    crypto.Hash
	expires uint64 // unix ms
}

// sign signs one token call.
func (c chain) sign(key crypto.PrivateKey, nonce uint64, method string, args []byte) ([]byte, types.Hash, error) {
	return c.signCall(key, nonce, tokencall.Name, method, args)
}

// signCall signs one call. It is the bench's only way to build a
// transaction.
func (c chain) signCall(key crypto.PrivateKey, nonce uint64, contract, method string, args []byte) ([]byte, types.Hash, error) {
	var gas uint64
	if contract == ContractName {
		gas = contractTxGas
	}
	tx, err := types.SignTx(&pb.TxPayload{
		GasLimit:  gas,
		ChainId:   c.id,
		Nonce:     nonce,
		ExpiresAt: c.expires,
		Contract:  contract,
		Method:    method,
		Args:      args,
	}, key, c.hash)
	if err != nil {
		return nil, types.Hash{}, err
	}
	return tx.Raw, tx.ID, nil
}

// payment is how a workload pays: the contract, method and arguments of
// amount to payee (an index into the workload's destinations).
type payment func(payee int32, amount uint64) (contract, method string, args []byte)

// transfers pays the destinations with token transfers.
func transfers(dest []types.Address) payment {
	return func(payee int32, amount uint64) (string, string, []byte) {
		return tokencall.Name, tokencall.MethodTransfer, tokencall.Transfer(dest[payee], amount)
	}
}

// payments pays registered merchants through the pay contract, without a
// request, naming each merchant's owner so that the node can schedule the
// payments in parallel.
func payments(ids []string, owners []types.Address) payment {
	return func(payee int32, amount uint64) (string, string, []byte) {
		return paycall.Name, paycall.MethodPay, paycall.Pay(types.Hash{}, ids[payee], amount, owners[payee])
	}
}

// contractTxGas is the gas limit of a wtoken transfer, which uses about
// 500,000 (300,000 of it the per-call base): the pool fills a block up to
// its gas limit by the limits the calls name, so the chain's default
// (50,000,000) would hold 400 a block.
const contractTxGas = 1_000_000

// contractTransfers pays the destinations through the wtoken contract
// installed as ContractName.
func contractTransfers(dest []types.Address) payment {
	return func(payee int32, amount uint64) (string, string, []byte) {
		return ContractName, "transfer", fmt.Appendf(nil, `{"to":"%s","amount":%d}`, dest[payee], amount)
	}
}

// signPlan signs every transaction of pl over all cores.
func signPlan(ctx context.Context, pl *plan, keys []crypto.PrivateKey, pay payment, ch chain, prog *progress) (*load, error) {
	n := len(pl.payer)
	ld := &load{
		raws:   make([][]byte, n),
		ids:    make([]types.Hash, n),
		sender: pl.payer,
		sent:   make([]atomic.Int64, n),
	}
	err := parallel(ctx, n, prog, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			contract, method, args := pay(pl.payee[i], uint64(pl.amount[i]))
			raw, id, err := ch.signCall(keys[pl.payer[i]], pl.nonce[i], contract, method, args)
			if err != nil {
				return err
			}
			ld.raws[i], ld.ids[i] = raw, id
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ld.index = make(map[types.Hash]int32, n)
	for i, id := range ld.ids {
		ld.index[id] = int32(i)
	}
	return ld, nil
}

// split deals transaction indices to k streams by sender, keeping their
// order, so that each sender's nonces reach the node in order from one
// goroutine.
func split(sender []int32, k int) [][]int32 {
	out := make([][]int32, k)
	for i, s := range sender {
		out[int(s)%k] = append(out[int(s)%k], int32(i))
	}
	return out
}
