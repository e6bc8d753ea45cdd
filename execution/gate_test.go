package execution_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// listGate refuses the senders in banned (INVALID) and lets only minter
// call token.mint (FAILED otherwise). It sees the state of the previous
// block and counts its calls.
type listGate struct {
	banned map[types.Address]bool
	minter types.Address
	blocks int
}

type listBlock struct{ g *listGate }

func (g *listGate) Block(execution.StateReader, uint64, uint64) (execution.BlockGate, error) {
	g.blocks++
	return listBlock{g}, nil
}

func (b listBlock) Signer(tx *types.Tx) (any, error, error) {
	if b.g.banned[tx.Sender] {
		return nil, errors.New("sender banned"), nil
	}
	return "member " + tx.Sender.String()[:4], nil, nil
}

func (b listBlock) Call(signer any, tx *types.Tx) error {
	if tx.Body.Method == token.MethodMint && tx.Sender != b.g.minter {
		return errors.New("policy: only the minter mints")
	}
	return nil
}

// A Gate's verdicts apply in both execution paths, identically: a refused
// signer is INVALID and moves no nonce, a refused call is FAILED after its
// nonce moves, and contracts see the signer the Gate named.
func TestGateVerdicts(t *testing.T) {
	w := newWorld(t, 6)
	banned := w.accts[2].Address
	var txs []*types.Tx
	for i := range 80 {
		from := i % 6
		switch {
		case i%10 == 3:
			txs = append(txs, w.accts[from].Tx(token.Name, token.MethodMint, tokencall.Mint(w.accts[1].Address, 5)))
		default:
			txs = append(txs, w.transfer(from, (from+1)%6, 1))
		}
	}
	var results []*execution.Result
	for _, workers := range []int{1, 4} {
		g := &listGate{banned: map[types.Address]bool{banned: true}, minter: w.accts[0].Address}
		ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: workers, Gate: g}, token.New())
		if err != nil {
			t.Fatal(err)
		}
		ex.SetMinParallel(1)
		res, err := ex.Execute(w.state, w.input(txs...))
		if err != nil {
			t.Fatal(err)
		}
		if g.blocks != 1 {
			t.Fatalf("Gate.Block called %d times for one block", g.blocks)
		}
		results = append(results, res)
	}
	if !bytes.Equal(resultBytes(results[0]), resultBytes(results[1])) {
		t.Fatalf("parallel and sequential differ with a gate:\n%s", firstDifference(results[0], results[1]))
	}
	res := results[1]
	if res.Stats.Workers == 1 {
		t.Logf("ran sequentially: %s", res.Stats.Fallback)
	}
	for i, tx := range txs {
		switch {
		case tx.Sender == banned:
			wantStatus(t, res, i, pb.TxStatus_TX_STATUS_INVALID, "sender banned")
		case tx.Body.Method == token.MethodMint && tx.Sender != w.accts[0].Address:
			wantStatus(t, res, i, pb.TxStatus_TX_STATUS_FAILED, "policy: only the minter mints")
		}
	}
	w.state.Apply(res.Writes)
	if n := w.nonce(2); n != 0 {
		t.Errorf("banned sender's nonce moved to %d", n)
	}
	if n := w.nonce(3); n == 0 {
		t.Error("a refused call did not move its sender's nonce")
	}
}

// signerSeen records what a contract sees as Context.Signer.
type signerSeen struct{ got []any }

func (*signerSeen) Name() string { return "seen" }
func (s *signerSeen) Call(ctx *execution.Context, _ string, _ []byte) error {
	s.got = append(s.got, ctx.Signer())
	return nil
}

func TestContractSeesGateSigner(t *testing.T) {
	w := newWorld(t, 2)
	seen := &signerSeen{}
	g := &listGate{}
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 1, Gate: g}, seen)
	if err != nil {
		t.Fatal(err)
	}
	tx := w.accts[1].Tx("seen", "x", nil)
	if _, err := ex.Execute(w.state, w.input(tx)); err != nil {
		t.Fatal(err)
	}
	if len(seen.got) != 1 || seen.got[0] != "member "+w.accts[1].Address.String()[:4] {
		t.Fatalf("contract saw %v", seen.got)
	}
	r, err := ex.Simulate(w.state, &execution.CallInput{Sender: w.accts[1].Address, Signer: "sim", Contract: "seen", Method: "x"})
	if err != nil || r.Err != nil || seen.got[1] != "sim" {
		t.Fatalf("Simulate signer: %v %v %v", err, r, seen.got)
	}
}

// A block whose input carries its gate (the chain made it first, to bind
// the block's signers) is judged by that gate: Config.Gate is not asked
// again, so the signer registry is built once per block.
func TestInputGateIsUsed(t *testing.T) {
	w := newWorld(t, 3)
	banned := w.accts[1].Address
	cfgGate := &listGate{}
	given := &listGate{banned: map[types.Address]bool{banned: true}, minter: w.accts[0].Address}
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 1, Gate: cfgGate}, token.New())
	if err != nil {
		t.Fatal(err)
	}
	in := w.input(w.transfer(0, 2, 1), w.transfer(1, 2, 1))
	bg, _ := given.Block(w.state, in.Height, in.Time)
	in.Gate = bg
	res, err := ex.Execute(w.state, in)
	if err != nil {
		t.Fatal(err)
	}
	if cfgGate.blocks != 0 || given.blocks != 1 {
		t.Fatalf("Config.Gate.Block called %d times, the input's gate made %d times; want 0 and 1", cfgGate.blocks, given.blocks)
	}
	wantStatus(t, res, 1, pb.TxStatus_TX_STATUS_INVALID, "sender banned")
}
