package execution_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// users is a stand-in for the user-contract runner: contracts u0 to u3
// whose methods read and write counters, list their state, pay native
// tokens from their own account, call each other and use gas, each after a
// random delay, so that speculative runs finish in any order.
type users struct{ delays bool }

const (
	usersGasDefault = 500
	usersBlockGas   = 40_000
)

func (users) Name() string { return "users" }
func (users) Call(*execution.Context, string, []byte) error {
	return fmt.Errorf("%w: users has no methods of its own", execution.ErrUnknownMethod)
}
func (users) Admit(execution.StateReader, string) error { return nil }

func get64(ctx *execution.Context, k string) (uint64, error) {
	v, err := ctx.Get([]byte(k))
	if err != nil || len(v) == 0 {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}

func (u users) CallUser(ctx *execution.Context, name, method string, args []byte) error {
	if !strings.HasPrefix(name, "u") || len(name) != 2 || name[1] < '0' || name[1] > '3' {
		return fmt.Errorf("%w %q", execution.ErrUnknownContract, name)
	}
	if u.delays {
		time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond)
	}
	limit := ctx.GasLimit()
	if ctx.Depth() == 0 {
		if limit == 0 {
			limit = usersGasDefault
		}
		if !ctx.BlockGasFits(limit, usersBlockGas) {
			return fmt.Errorf("%w: test", execution.ErrBlockGasFull)
		}
	}
	used := uint64(100 + len(args))
	if used > limit {
		ctx.SetGasUsed(limit)
		return errors.New("out of gas")
	}
	ctx.SetGasUsed(used)
	key := string(args)
	switch method {
	case "inc":
		v, err := get64(ctx, key)
		if err != nil {
			return err
		}
		ctx.Set([]byte(key), binary.BigEndian.AppendUint64(nil, v+1))
		ctx.SetResult([]byte(strconv.FormatUint(v+1, 10)))
	case "fail":
		ctx.Set([]byte(key), []byte("never"))
		return errors.New("failed on purpose")
	case "scan":
		ws, more, err := ctx.Range([]byte("k"), nil, 5)
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, w := range ws {
			fmt.Fprintf(&b, "%s=%x;", w.Key, w.Value)
		}
		ctx.Set([]byte("seen"), []byte(b.String()+strconv.FormatBool(more)))
		ctx.SetResult([]byte(b.String()))
	case "pay":
		to, err := types.ParseAddress(key)
		if err != nil {
			return err
		}
		_, _, failure, abort := ctx.CallContract(token.Name, token.MethodTransfer, tokencall.Transfer(to, 1), execution.ContractAddress(crypto.SHA256, name), 0)
		if abort != nil {
			return abort
		}
		return failure
	case "call": // u<n>.call("k") increments k in the next contract
		next := fmt.Sprintf("u%d", (name[1]-'0'+1)%4)
		ret, g, failure, abort := ctx.CallContract(next, "inc", args, execution.ContractAddress(crypto.SHA256, name), limit-used)
		if abort != nil {
			return abort
		}
		ctx.SetGasUsed(used + g)
		if failure != nil {
			return failure
		}
		ctx.SetResult(append([]byte("via "), ret...))
	default:
		return fmt.Errorf("%w %q", execution.ErrUnknownMethod, method)
	}
	ctx.Emit(method, &pb.Attribute{Key: "key", Value: key})
	return nil
}

// TestSpeculativeMatchesSequential is the metamorphic test of speculative
// execution: blocks of user-contract calls (no conflicts, one hot key,
// every transaction on one key, range reads, nested calls, native token
// payments from contracts, failures, out of gas, the block gas limit)
// mixed with native transfers run with 1 worker and with 2, 4 and 8, with
// random delays in every call, and every result must be byte-identical.
func TestSpeculativeMatchesSequential(t *testing.T) {
	accts := make([]exectest.Account, 120)
	for i := range accts {
		accts[i] = *exectest.NewAccount(crypto.Ed25519, uint64(5000+i), chainID, crypto.SHA256)
	}
	var alloc []token.Alloc
	for i := range 20 {
		alloc = append(alloc, token.Alloc{Address: accts[i].Address, Amount: 1000})
	}
	for i := range 4 {
		alloc = append(alloc, token.Alloc{Address: execution.ContractAddress(crypto.SHA256, fmt.Sprintf("u%d", i)), Amount: 50})
	}
	mk := func(w int) *execution.Executor {
		ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: w}, token.New(), users{delays: w > 1})
		if err != nil {
			t.Fatal(err)
		}
		ex.SetMinParallel(1)
		ex.NeverPause()
		return ex
	}
	seq := mk(1)
	par := map[int]*execution.Executor{2: mk(2), 4: mk(4), 8: mk(8)}
	gw, err := token.Genesis(accts[0].Address, alloc)
	if err != nil {
		t.Fatal(err)
	}
	g, err := seq.Genesis(1000, gw)
	if err != nil {
		t.Fatal(err)
	}
	state := exectest.NewState(g.Writes)
	hash, stateHash := g.Hash, g.StateHash
	rng := rand.New(rand.NewPCG(7, 7))
	var height uint64
	reran, total := 0, 0
	for _, shape := range []string{"disjoint", "hot", "one", "mixed", "mixed", "mixed", "gas"} {
		n := 40 + rng.IntN(60)
		txs := make([]*types.Tx, n)
		for i := range txs {
			a := &accts[rng.IntN(20)]
			if shape == "disjoint" {
				a = &accts[20+i] // one transaction per sender: nothing conflicts
			}
			u := fmt.Sprintf("u%d", rng.IntN(4))
			key := fmt.Sprintf("k%d", i)
			switch shape {
			case "hot":
				if rng.IntN(4) == 0 {
					key = "khot"
				}
			case "one":
				u, key = "u0", "kone"
			case "gas":
				key = fmt.Sprintf("k%d", rng.IntN(3))
			}
			method := "inc"
			if shape == "mixed" {
				method = []string{"inc", "inc", "scan", "fail", "call", "pay", "native", "nope"}[rng.IntN(8)]
				key = fmt.Sprintf("k%d", rng.IntN(8))
				if method == "pay" {
					key = accts[rng.IntN(20)].Address.String()
				}
			}
			body := func(contract, method string, args []byte) *types.Tx {
				tx := a.TxWith(&pb.TxPayload{Nonce: a.Nonce, Contract: contract, Method: method, Args: args, GasLimit: uint64(rng.IntN(3)) * 400})
				a.Nonce++
				return tx
			}
			switch method {
			case "native":
				txs[i] = body(token.Name, token.MethodTransfer, tokencall.Transfer(accts[rng.IntN(20)].Address, 1))
			case "nope":
				txs[i] = body("u9", "inc", []byte(key))
			default:
				txs[i] = body(u, method, []byte(key))
			}
		}
		height++
		in := &execution.BlockInput{Height: height, Time: 1000 * (height + 1), PrevHash: hash, PrevStateHash: stateHash, Txs: txs}
		want, err := seq.Execute(state, in)
		if err != nil {
			t.Fatal(err)
		}
		for w, ex := range par {
			got, err := ex.Execute(state, in)
			if err != nil {
				t.Fatalf("%s block, %d workers: %v", shape, w, err)
			}
			if !got.Stats.Speculative {
				t.Fatalf("%s block, %d workers: not speculative (%+v)", shape, w, got.Stats)
			}
			if !bytes.Equal(resultBytes(got), resultBytes(want)) {
				t.Fatalf("%s block, %d workers (%+v): differs from sequential\n%s", shape, w, got.Stats, firstDifference(want, got))
			}
			reran, total = reran+got.Stats.Reran, total+n
			if shape == "disjoint" && got.Stats.Reran != 0 {
				t.Errorf("disjoint block: %d of %d reran; want none", got.Stats.Reran, n)
			}
			if shape == "one" && got.Stats.Reran < n-w {
				t.Errorf("every transaction on one key: %d of %d reran; want nearly all", got.Stats.Reran, n)
			}
		}
		state.Apply(want.Writes)
		hash, stateHash = want.Hash, want.StateHash
	}
	t.Logf("%d of %d speculative runs reran", reran, total)
}

// TestSpeculationPausesAfterConflicts: after a speculative block that
// reran most of its transactions, the next blocks of user-contract calls
// run sequentially for a while, with the same results.
func TestSpeculationPausesAfterConflicts(t *testing.T) {
	a := exectest.NewAccount(crypto.Ed25519, 77, chainID, crypto.SHA256)
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 4}, token.New(), users{})
	if err != nil {
		t.Fatal(err)
	}
	ex.SetMinParallel(1)
	seq, _ := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 1}, token.New(), users{})
	state := exectest.NewState()
	for h := uint64(1); h <= 3; h++ {
		var txs []*types.Tx
		for range 20 {
			txs = append(txs, a.Tx("u0", "inc", []byte("k"))) // one sender, one key: all conflict
		}
		in := &execution.BlockInput{Height: h, Time: 1000 * h, Txs: txs}
		want, err := seq.Execute(state, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ex.Execute(state, in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(resultBytes(got), resultBytes(want)) {
			t.Fatalf("block %d differs: %s", h, firstDifference(want, got))
		}
		switch {
		case h == 1 && (!got.Stats.Speculative || got.Stats.Reran < 19):
			t.Fatalf("block 1: %+v; want speculative with nearly every transaction rerun", got.Stats)
		case h > 1 && (got.Stats.Speculative || !strings.Contains(got.Stats.Fallback, "paused")):
			t.Fatalf("block %d: %+v; want sequential, speculation paused", h, got.Stats)
		}
		state.Apply(want.Writes)
	}
}
