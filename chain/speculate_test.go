package chain

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// certifiedChain is a chain of a BFT network (Certified, peers that never
// answer) on the store in dir, which it creates with a genesis at time
// 1000 if empty. close stops it and closes its store.
func certifiedChain(t *testing.T, dir string) (c *Chain, close func()) {
	t.Helper()
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	exec, err := execution.New(execution.Config{ChainID: "test", Hash: crypto.SHA256, Workers: 1}, token.New())
	if err != nil {
		t.Fatal(err)
	}
	if st.Tip().Empty {
		if err := CommitGenesis(st, exec, 1000, nil, "genesis", []byte("doc")); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := txpool.New(txpool.DefaultConfig(), "test", crypto.SHA256, zeroState{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	c = New(Config{Hash: crypto.SHA256, Store: st, Exec: exec, Pool: pool, Hub: api.NewHub(), Peers: fakePeers{4},
		Certified: true, Clock: clock.Real, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	closed := false
	close = func() {
		if closed {
			return
		}
		closed = true
		if err := c.Close(); err != nil {
			t.Error(err)
		}
		pool.Close()
		st.Close()
	}
	t.Cleanup(close)
	return c, close
}

var specKey, _ = crypto.GenerateKey(crypto.Ed25519, nil)

// transfer is a signed transfer of amount with nonce, as a peer's block
// brings it (decoded afresh).
func transfer(t *testing.T, nonce, amount uint64) *types.Tx {
	t.Helper()
	body := &pb.TxPayload{ChainId: "test", Nonce: nonce, ExpiresAt: 1 << 62, Contract: token.Name, Method: token.MethodTransfer,
		Args: tokencall.Transfer(types.Address{1}, amount)}
	tx, err := types.SignTx(body, specKey, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := types.DecodeTx(tx.Raw, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}

func block(height, time uint64, txs ...*types.Tx) *consensus.Proposal {
	return &consensus.Proposal{Height: height, Time: time, Proposer: []byte("v0"), Txs: txs}
}

func id(s string) []byte { return []byte("id-" + s) }

func speculate(t *testing.T, c *Chain, name, parent string, p *consensus.Proposal) types.Hash {
	t.Helper()
	r, err := c.Speculate(id(name), id(parent), p)
	if err != nil {
		t.Fatalf("speculate %s on %s: %v", name, parent, err)
	}
	return r
}

func applyBlock(t *testing.T, c *Chain, name string, p *consensus.Proposal) types.Hash {
	t.Helper()
	r, err := c.ApplyBlock(context.Background(), id(name), p)
	if err != nil {
		t.Fatalf("apply %s: %v", name, err)
	}
	return r
}

// TestSpeculationIsReusedAndMatchesExecution: blocks executed before they
// are decided give the result that executing them decided gives on
// another node, and committing them reuses the speculation; the chain
// ends on that hash.
func TestSpeculationIsReusedAndMatchesExecution(t *testing.T) {
	b1 := func() *consensus.Proposal { return block(1, 1001, transfer(t, 0, 5)) }
	b2 := func() *consensus.Proposal { return block(2, 1002, transfer(t, 1, 7)) }

	c, _ := certifiedChain(t, t.TempDir())
	c.Anchor(id("g"))
	r1 := speculate(t, c, "b1", "g", b1())
	r2 := speculate(t, c, "b2", "b1", b2())
	if again := speculate(t, c, "b2", "b1", b2()); again != r2 {
		t.Fatalf("speculating b2 again gave %s, first %s", again, r2)
	}
	if h, _ := c.Last(); h != 0 {
		t.Fatalf("speculation moved the chain to height %d", h)
	}
	if a1, a2 := applyBlock(t, c, "b1", b1()), applyBlock(t, c, "b2", b2()); a1 != r1 || a2 != r2 {
		t.Fatalf("applied results %s %s, speculated %s %s", a1, a2, r1, r2)
	}
	if held, reused := c.Speculated(); held != 0 || reused != 2 {
		t.Fatalf("%d speculations held and %d reused, want 0 and 2", held, reused)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if h, hash := c.Durable(); h != 2 || types.Hash(hash) != r2 {
		t.Fatalf("committed height %d hash %x, want 2 and %s", h, hash, r2)
	}

	// Another node applies the same decided blocks without speculating.
	o, _ := certifiedChain(t, t.TempDir())
	o.Anchor(id("g"))
	if a1, a2 := applyBlock(t, o, "b1", b1()), applyBlock(t, o, "b2", b2()); a1 != r1 || a2 != r2 {
		t.Fatalf("executing when decided gave %s %s, speculatively %s %s", a1, a2, r1, r2)
	}
	if _, reused := o.Speculated(); reused != 0 {
		t.Fatalf("reused %d speculations that were never made", reused)
	}
}

// TestSpeculationForkOfCertifiedSiblings: two siblings are executed on
// one parent (two certified blocks of a fork), each with a child; only one
// commits. Its sibling's branch is dropped, its child is kept and reused,
// and nothing builds on the loser any more. The loser's state never shows.
func TestSpeculationForkOfCertifiedSiblings(t *testing.T) {
	c, _ := certifiedChain(t, t.TempDir())
	c.Anchor(id("g"))
	win := block(1, 1001, transfer(t, 0, 5))
	lose := block(1, 1001, transfer(t, 0, 9))
	rw := speculate(t, c, "win", "g", win)
	rl := speculate(t, c, "lose", "g", lose)
	if rw == rl {
		t.Fatal("two siblings with different transactions gave one result")
	}
	rwc := speculate(t, c, "win-child", "win", block(2, 1002, transfer(t, 1, 1)))
	rlc := speculate(t, c, "lose-child", "lose", block(2, 1002, transfer(t, 1, 1)))
	if rwc == rlc {
		t.Fatal("the same child on two different parents gave one result")
	}
	speculate(t, c, "lose-grandchild", "lose-child", block(3, 1003))
	if held, _ := c.Speculated(); held != 5 {
		t.Fatalf("%d speculations held, want 5", held)
	}

	if r := applyBlock(t, c, "win", win); r != rw {
		t.Fatalf("applied %s, speculated %s", r, rw)
	}
	if held, _ := c.Speculated(); held != 1 {
		t.Fatalf("%d speculations held after the commit, want only the winner's child", held)
	}
	for _, p := range []string{"lose", "lose-child"} {
		if _, err := c.Speculate(id("x"), id(p), block(3, 1003)); !errors.Is(err, ErrSpecParent) {
			t.Fatalf("speculating on the dropped %s: %v, want ErrSpecParent", p, err)
		}
	}
	// The winner's child commits from its speculation.
	if r := applyBlock(t, c, "win-child", block(2, 1002, transfer(t, 1, 1))); r != rwc {
		t.Fatalf("applied %s, speculated %s", r, rwc)
	}
	if _, reused := c.Speculated(); reused != 2 {
		t.Fatalf("reused %d, want 2", reused)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, hash := c.Durable(); types.Hash(hash) != rwc {
		t.Fatalf("the chain ends on %x, want the winner's child %s", hash, rwc)
	}
}

// TestSpeculationAcrossRestart: a restarted chain knows no speculation and
// no engine id until the engine anchors it on its last block; a block
// applied without an id (block sync) needs a new anchor too.
func TestSpeculationAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	c, stop := certifiedChain(t, dir)
	c.Anchor(id("g"))
	speculate(t, c, "b1", "g", block(1, 1001, transfer(t, 0, 5)))
	applyBlock(t, c, "b1", block(1, 1001, transfer(t, 0, 5)))
	speculate(t, c, "b2", "b1", block(2, 1002))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	stop()

	c, _ = certifiedChain(t, dir)
	if _, err := c.Speculate(id("b2"), id("b1"), block(2, 1002)); !errors.Is(err, ErrSpecParent) {
		t.Fatalf("speculating before the anchor: %v, want ErrSpecParent", err)
	}
	c.Anchor(id("b1"))
	r2 := speculate(t, c, "b2", "b1", block(2, 1002))
	if r := applyBlock(t, c, "b2", block(2, 1002)); r != r2 {
		t.Fatalf("applied %s, speculated %s", r, r2)
	}
	if err := c.Apply(context.Background(), block(3, 1003)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Speculate(id("b4"), id("b2"), block(4, 1004)); !errors.Is(err, ErrSpecParent) {
		t.Fatalf("speculating on a block that is no longer the last: %v, want ErrSpecParent", err)
	}
}

// TestSpeculationDecidedWithOtherInputs: a decided block whose inputs
// differ from its speculation's (another time) executes again.
func TestSpeculationDecidedWithOtherInputs(t *testing.T) {
	c, _ := certifiedChain(t, t.TempDir())
	c.Anchor(id("g"))
	r := speculate(t, c, "b1", "g", block(1, 1001))
	if a := applyBlock(t, c, "b1", block(1, 1500)); a == r {
		t.Fatal("a block decided at another time kept its speculation's result")
	}
	if _, reused := c.Speculated(); reused != 0 {
		t.Fatalf("reused %d, want 0", reused)
	}
}

// TestSpeculationBadSignatureExecutesEmpty: a block with a forged
// signature (a byzantine leader's) executes empty, speculatively and when
// decided alike, rather than stopping the node.
func TestSpeculationBadSignatureExecutesEmpty(t *testing.T) {
	good := transfer(t, 0, 5)
	sig := good.Signature
	forged, err := types.DecodeTx(bytes.Replace(bytes.Clone(good.Raw), sig, append([]byte{sig[0] ^ 1}, sig[1:]...), 1), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := certifiedChain(t, t.TempDir())
	c.Anchor(id("g"))
	r := speculate(t, c, "bad", "g", block(1, 1001, forged))
	o, _ := certifiedChain(t, t.TempDir())
	o.Anchor(id("g"))
	if e := applyBlock(t, o, "empty", block(1, 1001)); e != r {
		t.Fatalf("the forged block gave %s, an empty one %s", r, e)
	}
	if a := applyBlock(t, c, "bad", block(1, 1001, forged)); a != r {
		t.Fatalf("applied %s, speculated %s", a, r)
	}
}

// TestSpeculationIsBounded: at most maxSpeculative undecided blocks are
// held; committing frees room.
func TestSpeculationIsBounded(t *testing.T) {
	c, _ := certifiedChain(t, t.TempDir())
	c.Anchor(id("g"))
	parent := "g"
	for h := uint64(1); h <= maxSpeculative; h++ {
		name := string(rune('a'+h%26)) + string(rune('0'+h/26))
		speculate(t, c, name, parent, block(h, 1000+h))
		parent = name
	}
	next := block(maxSpeculative+1, 1000+maxSpeculative+1)
	if _, err := c.Speculate(id("over"), id(parent), next); !errors.Is(err, ErrSpecFull) {
		t.Fatalf("speculation %d: %v, want ErrSpecFull", maxSpeculative+1, err)
	}
	applyBlock(t, c, string(rune('a'+1))+"0", block(1, 1001))
	if _, err := c.Speculate(id("over"), id(parent), next); err != nil {
		t.Fatalf("after a commit: %v", err)
	}
}
