package token_test

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// propAccounts is the cast of the property test; account 0 issues.
var propAccounts = func() []*exectest.Account {
	var as []*exectest.Account
	for i := range 4 {
		as = append(as, exectest.NewAccount(crypto.Ed25519, uint64(200+i), chainID, crypto.SHA256))
	}
	return as
}()

// model is the token as the test understands it: what each transaction
// should do, computed without the executor.
type model struct {
	balance map[types.Address]uint64
	nonce   map[types.Address]uint64
	supply  uint64
}

type propTx struct {
	tx      *types.Tx
	sender  types.Address
	want    pb.TxStatus
	minted  uint64 // on success
	burned  uint64
	comment string
}

// TestBlocksKeepInvariants executes random blocks of mints, transfers and
// burns (many of them failing or invalid) and checks after every block:
// the balances sum to the supply; the supply is the genesis supply plus what
// was minted minus what was burned; each executed transaction moved its
// sender's nonce by exactly one and an invalid one moved nothing; no zero
// balance is stored; and every receipt and balance matches a simple model.
func TestBlocksKeepInvariants(t *testing.T) {
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256}, token.New())
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		issuer := propAccounts[0].Address
		m := &model{balance: map[types.Address]uint64{}, nonce: map[types.Address]uint64{}}
		var alloc []token.Alloc
		for _, a := range propAccounts {
			b := rapid.Uint64Range(0, 1000).Draw(rt, "genesis balance")
			alloc = append(alloc, token.Alloc{Address: a.Address, Amount: b})
			m.balance[a.Address] = b
			m.supply += b
		}
		gw, err := token.Genesis(issuer, alloc)
		if err != nil {
			rt.Fatal(err)
		}
		state := exectest.NewState(gw)
		minted, burned, genesisSupply := uint64(0), uint64(0), m.supply

		blocks := rapid.IntRange(1, 4).Draw(rt, "blocks")
		for height := uint64(1); height <= uint64(blocks); height++ {
			now := height * 1000
			var txs []propTx
			for range rapid.IntRange(0, 25).Draw(rt, "txs") {
				txs = append(txs, m.draw(rt, now))
			}
			in := &execution.BlockInput{Height: height, Time: now}
			for _, p := range txs {
				in.Txs = append(in.Txs, p.tx)
			}
			nonceBefore := map[types.Address]uint64{}
			for _, a := range propAccounts {
				nonceBefore[a.Address], _ = execution.Nonce(state, a.Address)
			}
			res, err := ex.Execute(state, in)
			if err != nil {
				rt.Fatal(err)
			}
			again, err := ex.Execute(state, in)
			if err != nil || again.Hash != res.Hash || again.StateHash != res.StateHash {
				rt.Fatalf("executing block %d twice gave different results", height)
			}
			state.Apply(res.Writes)

			executed := map[types.Address]uint64{}
			for i, p := range txs {
				r := res.Receipts[i]
				if r.Status != p.want {
					rt.Fatalf("block %d tx %d (%s): %v %q, model says %v", height, i, p.comment, r.Status, r.Message, p.want)
				}
				if r.Status != pb.TxStatus_TX_STATUS_INVALID {
					executed[p.sender]++
				}
				if r.Status == pb.TxStatus_TX_STATUS_OK {
					minted += p.minted
					burned += p.burned
				}
			}
			for _, a := range propAccounts {
				n, err := execution.Nonce(state, a.Address)
				if err != nil || n != nonceBefore[a.Address]+executed[a.Address] {
					rt.Fatalf("nonce of %s = %d, want %d before plus %d executed", a.Address, n, nonceBefore[a.Address], executed[a.Address])
				}
			}

			var sum uint64
			for _, k := range state.Keys() {
				if !strings.HasPrefix(k, "c/token/b/") {
					continue
				}
				v, _ := state.Get([]byte(k))
				b := binary.BigEndian.Uint64(v)
				if b == 0 {
					rt.Fatalf("zero balance stored at %q", k)
				}
				if b != m.balance[types.Address([]byte(k[len("c/token/b/"):]))] {
					rt.Fatalf("balance at %q = %d, model says %d", k, b, m.balance[types.Address([]byte(k[len("c/token/b/"):]))])
				}
				var carry uint64
				if sum, carry = bits.Add64(sum, b, 0); carry != 0 {
					rt.Fatal("balances sum past 2^64")
				}
			}
			supply, err := token.Supply(state)
			if err != nil {
				rt.Fatal(err)
			}
			if sum != supply {
				rt.Fatalf("balances sum to %d, supply is %d", sum, supply)
			}
			if supply != genesisSupply+minted-burned {
				rt.Fatalf("supply %d, want genesis %d + minted %d - burned %d", supply, genesisSupply, minted, burned)
			}
		}
	})
}

// draw makes a random transaction and applies to m what it should do.
func (m *model) draw(rt *rapid.T, now uint64) propTx {
	acct := propAccounts[rapid.IntRange(0, len(propAccounts)-1).Draw(rt, "sender")]
	from := acct.Address
	to := propAccounts[rapid.IntRange(0, len(propAccounts)-1).Draw(rt, "to")].Address
	amount := rapid.OneOf(
		rapid.Uint64Range(0, 1500),
		rapid.Uint64Range(math.MaxUint64-2000, math.MaxUint64),
	).Draw(rt, "amount")
	method := rapid.SampledFrom([]string{"transfer", "transfer", "transfer", "mint", "burn", "garbage", "badaddr"}).Draw(rt, "method")

	body := &pb.TxPayload{Nonce: m.nonce[from], Contract: token.Name, ExpiresAt: math.MaxUint64}
	switch rapid.IntRange(0, 19).Draw(rt, "validity") {
	case 0:
		body.Nonce++ // future
	case 1:
		if body.Nonce > 0 {
			body.Nonce-- // stale
		} else {
			body.Nonce += 5
		}
	case 2:
		body.ExpiresAt = now - 1
	case 3:
		body.ChainId = "elsewhere"
	}
	p := propTx{sender: from, comment: method}
	switch method {
	case "transfer", "garbage":
		body.Method, body.Args = token.MethodTransfer, tokencall.Transfer(to, amount)
		if method == "garbage" {
			body.Args = append(body.Args, 0xff)
		}
	case "badaddr":
		args, err := proto.Marshal(&pb.MintArgs{To: to[:19], Amount: amount})
		if err != nil {
			rt.Fatal(err)
		}
		body.Method, body.Args = token.MethodMint, args
	case "mint":
		body.Method, body.Args = token.MethodMint, tokencall.Mint(to, amount)
	case "burn":
		body.Method, body.Args = token.MethodBurn, tokencall.Burn(amount)
	}
	p.tx = acct.TxWith(body)

	if body.Nonce != m.nonce[from] || body.ExpiresAt < now || body.ChainId != chainID {
		p.want = pb.TxStatus_TX_STATUS_INVALID
		return p
	}
	m.nonce[from]++
	p.want = pb.TxStatus_TX_STATUS_FAILED
	issuer := from == propAccounts[0].Address
	switch {
	case method == "garbage" || method == "badaddr" || amount == 0:
	case method == "transfer":
		if m.balance[from] < amount {
			break
		}
		if from != to {
			if _, carry := bits.Add64(m.balance[to], amount, 0); carry != 0 {
				break
			}
			m.balance[from] -= amount
			m.balance[to] += amount
		}
		p.want = pb.TxStatus_TX_STATUS_OK
	case method == "mint":
		_, c1 := bits.Add64(m.supply, amount, 0)
		_, c2 := bits.Add64(m.balance[to], amount, 0)
		if !issuer || c1 != 0 || c2 != 0 {
			break
		}
		m.balance[to] += amount
		m.supply += amount
		p.minted = amount
		p.want = pb.TxStatus_TX_STATUS_OK
	case method == "burn":
		if !issuer || m.balance[from] < amount {
			break
		}
		m.balance[from] -= amount
		m.supply -= amount
		p.burned = amount
		p.want = pb.TxStatus_TX_STATUS_OK
	}
	return p
}
