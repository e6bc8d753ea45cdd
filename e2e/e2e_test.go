// Package e2e runs the accord binary as real processes: it builds it, starts
// a node, drives it through the CLI and the SDK, kills it with SIGKILL while
// transactions flow, restarts it and checks that nothing committed was lost.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// binary is the accord binary built once for all tests of the package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "accord-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "accord")
	build := exec.Command("go", "build", "-o", binary, "../cmd/accord")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building accord:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freePort returns a loopback port that is free now, for a node process
// to bind shortly after. It draws from below Linux's ephemeral range
// (32768 and up), where the kernel hands out ports to every other test's
// listeners and connections, so that one of those cannot take the port in
// the meantime.
func freePort(t *testing.T) int {
	t.Helper()
	for range 1000 {
		p := 10000 + rand.IntN(22000)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	t.Fatal("no free port between 10000 and 32000")
	return 0
}

// cli runs the accord binary and returns stdout; it fails the test on a
// non-zero exit unless wantFail.
func cli(t *testing.T, wantFail bool, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if wantFail && err == nil {
		t.Fatalf("accord %s: succeeded, want failure; stdout: %s", strings.Join(args, " "), out.String())
	}
	if !wantFail && err != nil {
		t.Fatalf("accord %s: %v\nstderr: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

// nodeProc is a running `accord start`.
type nodeProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

func startNode(t *testing.T, home, url string) *nodeProc {
	t.Helper()
	return startNodeWith(t, binary, home, url)
}

// startNodeWith is startNode with another binary and extra flags.
func startNodeWith(t *testing.T, bin, home, url string, flags ...string) *nodeProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"start", "--home", home}, flags...)...)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &nodeProc{cmd: cmd, done: make(chan struct{}), log: &log.buf}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("node log:\n%s", log.String())
		}
	})
	c := sdk.New(url)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.Status(ctx)
		cancel()
		if err == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("node exited during start-up:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node did not answer within 60s: %v\n%s", err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *nodeProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type initOut struct {
	ChainID string `json:"chain_id"`
	KeysDir string `json:"keys_dir"`
	Admin   string `json:"admin"`
	Nodes   []struct {
		Home string `json:"home"`
		API  string `json:"api"`
	} `json:"nodes"`
}

// TestCrashRecovery is the end-to-end test: CLI walkthrough, then
// SIGKILL under load, restart, and the ledger's invariants.
func TestCrashRecovery(t *testing.T) {
	home := t.TempDir()
	port := freePort(t)
	out, _ := cli(t, false, "init", "--home", home, "--chain-id", "e2e", "--base-port", strconv.Itoa(port), "-o", "json")
	var in initOut
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("init -o json: %v\n%s", err, out)
	}
	if in.ChainID != "e2e" || len(in.Nodes) != 1 || in.Admin == "" || in.KeysDir == "" {
		t.Fatalf("init output incomplete: %+v", in)
	}
	url := in.Nodes[0].API
	keys := in.KeysDir
	node := startNode(t, in.Nodes[0].Home, url)

	// The walkthrough, through the CLI.
	out, _ = cli(t, false, "keys", "new", "alice", "--keys", keys, "-o", "json")
	var alice struct{ Address string }
	if err := json.Unmarshal([]byte(out), &alice); err != nil || len(alice.Address) != 40 {
		t.Fatalf("keys new -o json: %v %q", err, out)
	}
	out, _ = cli(t, false, "tx", "mint", "--from", "admin", "--to", alice.Address, "--amount", "1000000", "--wait", "--node", url, "--keys", keys, "-o", "json")
	var res struct {
		TxID   string `json:"tx_id"`
		Height uint64 `json:"height"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Status != "ok" || res.Height == 0 || len(res.TxID) != 64 {
		t.Fatalf("tx mint --wait: %v %q", err, out)
	}
	// A transfer beyond the committed balance is refused at admission:
	// non-zero exit and a one-line error.
	_, stderr := cli(t, true, "tx", "transfer", "--from", "alice", "--to", in.Admin, "--amount", "2000000", "--wait", "--node", url, "--keys", keys)
	if !strings.Contains(stderr, "insufficient balance") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("refused transfer stderr = %q, want one line naming insufficient balance", stderr)
	}
	// Two transfers that are each affordable but not together: the second
	// fails in its block, and only alice's nonce moves for it.
	ks, err := keystore.Open(keys)
	if err != nil {
		t.Fatal(err)
	}
	aliceKey, err := ks.Get("alice")
	if err != nil {
		t.Fatal(err)
	}
	c := sdk.New(url)
	ctx := context.Background()
	var pair [][]byte
	var pairIDs []types.Hash
	for n := uint64(0); n < 2; n++ {
		nonce := n
		tx, err := c.Sign(ctx, aliceKey.Private, sdk.Call{Contract: "token", Method: "transfer", Args: tokencall.Transfer(mustAddr(t, in.Admin), 600000), Nonce: &nonce})
		if err != nil {
			t.Fatal(err)
		}
		pair, pairIDs = append(pair, tx.Raw), append(pairIDs, tx.ID)
	}
	results, err := c.SubmitBatch(ctx, pair)
	if err != nil || results[0].Error != "" || results[1].Error != "" {
		t.Fatalf("submitting the pair: %v %v", err, results)
	}
	for i, want := range []string{"ok", "failed"} {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		r, err := c.Wait(wctx, pairIDs[i])
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		out, _ := cli(t, false, "query", "tx", pairIDs[i].String(), "--node", url, "-o", "json")
		var q struct {
			Status  string `json:"status"`
			Message string `json:"message"`
			Height  uint64 `json:"height"`
		}
		if err := json.Unmarshal([]byte(out), &q); err != nil || q.Status != want || q.Height != r.Height {
			t.Fatalf("transfer %d of the pair: %v %q, want status %s", i, err, out, want)
		}
		if want == "failed" && !strings.Contains(q.Message, "insufficient balance") {
			t.Fatalf("failed receipt message %q", q.Message)
		}
	}
	out, _ = cli(t, false, "query", "account", alice.Address, "--node", url, "-o", "json")
	var acct struct {
		Address string `json:"address"`
		Balance uint64 `json:"balance"`
		Nonce   uint64 `json:"nonce"`
	}
	if err := json.Unmarshal([]byte(out), &acct); err != nil || acct.Balance != 400000 || acct.Nonce != 2 {
		t.Fatalf("query account after the pair: %v %q (want balance 400000, nonce 2)", err, out)
	}

	// Load: senders funded by the issuer transfer among each other and to
	// alice while the node is killed.
	admin, err := ks.Get("admin")
	if err != nil {
		t.Fatal(err)
	}
	const senders = 6
	const funding = 1_000_000
	minted := uint64(1000000)
	accounts := []types.Address{admin.Address, types.Address(mustAddr(t, alice.Address))}
	keysOf := make([]crypto.PrivateKey, senders)
	for i := range keysOf {
		k, err := crypto.GenerateKey([]crypto.Scheme{crypto.Ed25519, crypto.SM2, crypto.P256}[i%3], nil)
		if err != nil {
			t.Fatal(err)
		}
		keysOf[i] = k
		addr := types.AddressOf(k.Scheme(), k.Public().Bytes())
		accounts = append(accounts, addr)
		id, err := c.Mint(ctx, admin.Private, addr, funding)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if _, err := c.Wait(wctx, id); err != nil {
			t.Fatal(err)
		}
		cancel()
		minted += funding
	}

	acked := map[types.Hash]uint64{} // committed tx id -> height, as clients saw it
	for round := 1; round <= 3; round++ {
		node = crashUnderLoad(t, node, c, keysOf, accounts, acked, func() *nodeProc {
			return startNode(t, in.Nodes[0].Home, url)
		})
		for id, h := range acked {
			r, err := c.Tx(ctx, id)
			if err != nil {
				t.Fatalf("round %d: acknowledged tx %s lost after restart: %v", round, id, err)
			}
			if r.Height != h || r.Receipt.Status != 0 {
				t.Fatalf("round %d: tx %s: height %d status %v after restart, acknowledged at %d ok", round, id, r.Height, r.Receipt.Status, h)
			}
		}
		var sum uint64
		for _, a := range accounts {
			acct, err := c.Account(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			sum += acct.Balance
		}
		if sum != minted {
			t.Fatalf("round %d: sum of balances %d after restart, minted %d", round, sum, minted)
		}
		t.Logf("round %d: %d transfers acknowledged so far, all present; balances sum to %d", round, len(acked), sum)
	}
	// The chain goes on after the crash, and status answers through the CLI.
	out, _ = cli(t, false, "tx", "transfer", "--from", "alice", "--to", in.Admin, "--amount", "5", "--wait", "--node", url, "--keys", keys, "-o", "json")
	if !strings.Contains(out, `"status": "ok"`) {
		t.Fatalf("transfer after restart: %s", out)
	}
	out, _ = cli(t, false, "status", "--node", url, "-o", "json")
	var st struct {
		ChainID       string `json:"chain_id"`
		Height        uint64 `json:"height"`
		LastBlockHash string `json:"last_block_hash"`
		StateHash     string `json:"state_hash"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.ChainID != "e2e" || st.Height == 0 || len(st.LastBlockHash) != 64 || len(st.StateHash) != 64 {
		t.Fatalf("status -o json: %v %q", err, out)
	}
}

func mustAddr(t *testing.T, s string) types.Address {
	t.Helper()
	a, err := types.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// crashUnderLoad runs transfers from every key until some are acknowledged
// as committed, SIGKILLs the node mid-flow, and restarts it. Each sender
// continues from its committed nonce, since transactions in flight at the
// kill may or may not have committed.
func crashUnderLoad(t *testing.T, node *nodeProc, c *sdk.Client, keys []crypto.PrivateKey, accounts []types.Address,
	acked map[types.Hash]uint64, restart func() *nodeProc) *nodeProc {
	t.Helper()
	ctx := context.Background()
	var (
		mu   sync.Mutex
		stop atomic.Bool
		wg   sync.WaitGroup
		news int
	)
	for i, k := range keys {
		acct, err := c.Account(ctx, types.AddressOf(k.Scheme(), k.Public().Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int, k crypto.PrivateKey, first uint64) {
			defer wg.Done()
			for nonce := first; !stop.Load(); nonce++ {
				to := accounts[(i+int(nonce))%len(accounts)]
				n := nonce
				tx, err := c.Sign(ctx, k, sdk.Call{Contract: "token", Method: "transfer", Args: tokencall.Transfer(to, 1+nonce%7), Nonce: &n})
				if err != nil {
					return
				}
				if _, err := c.Submit(ctx, tx); err != nil {
					return
				}
				wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				r, err := c.Wait(wctx, tx.ID)
				cancel()
				if err != nil {
					return
				}
				mu.Lock()
				acked[tx.ID] = r.Height
				news++
				mu.Unlock()
			}
		}(i, k, acct.Nonce)
	}
	// Kill once enough has been acknowledged: mid-flow, with submissions pending.
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := news
		mu.Unlock()
		if n >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d transfers committed in 60s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	node.kill(t)
	stop.Store(true)
	wg.Wait()
	return restart()
}
