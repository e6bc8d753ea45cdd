package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// testNet is a network of node processes on loopback. Every node-to-node
// connection goes through a proxy the test controls (one per ordered pair
// of nodes), so that a partition is a matter of cutting proxies.
type testNet struct {
	t       *testing.T
	dir     string
	keys    string
	homes   []string
	apis    []string
	procs   []*nodeProc
	proxies map[[2]int]*proxy // [from, to] → the proxy from dials to reach to
}

// nodeConfig is the part of config.json the test rewrites.
type nodeConfig map[string]any

// newTestNet initialises an n-node network and rewrites its ports: free
// API and p2p ports, and peers reached through proxies.
func newTestNet(t *testing.T, n int, initArgs ...string) *testNet {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"init", "--home", dir, "--nodes", strconv.Itoa(n), "--chain-id", "e2e-net", "--base-port", strconv.Itoa(freePort(t)), "-o", "json"}, initArgs...)
	out, _ := cli(t, false, args...)
	var in initOut
	if err := json.Unmarshal([]byte(out), &in); err != nil || len(in.Nodes) != n {
		t.Fatalf("init --nodes %d -o json: %v\n%s", n, err, out)
	}
	tn := &testNet{t: t, dir: dir, keys: in.KeysDir, proxies: map[[2]int]*proxy{}}
	listen := make([]string, n)
	for i, nd := range in.Nodes {
		tn.homes = append(tn.homes, nd.Home)
		tn.apis = append(tn.apis, "127.0.0.1:"+strconv.Itoa(freePort(t)))
		listen[i] = "127.0.0.1:" + strconv.Itoa(freePort(t))
	}
	for from := range n {
		for to := range n {
			if from != to {
				tn.proxies[[2]int{from, to}] = startProxy(t, listen[to])
			}
		}
	}
	for i, home := range tn.homes {
		path := filepath.Join(home, "config.json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var cfg nodeConfig
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		cfg["api"] = tn.apis[i]
		cfg["p2p"] = map[string]any{"listen": listen[i]}
		raft := cfg["raft"].(map[string]any)
		raft["tick_interval"] = "50ms" // elections within a second or two, even on a busy machine
		raft["election_ticks"] = 20
		for j, p := range raft["peers"].([]any) {
			peer := p.(map[string]any)
			peer["api"] = tn.apis[j]
			if j == i {
				peer["p2p"] = listen[i]
			} else {
				peer["p2p"] = tn.proxies[[2]int{i, j}].addr()
			}
		}
		b, err = json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tn.procs = make([]*nodeProc, n)
	return tn
}

func (tn *testNet) url(i int) string { return "http://" + tn.apis[i] }

func (tn *testNet) start(i int) {
	tn.procs[i] = startNode(tn.t, tn.homes[i], tn.url(i))
}

func (tn *testNet) startAll() {
	for i := range tn.homes {
		tn.start(i)
	}
}

// status is the part of `accord status -o json` the tests read.
type status struct {
	NodeID        string `json:"node_id"`
	Height        uint64 `json:"height"`
	LastBlockHash string `json:"last_block_hash"`
	Leader        string `json:"leader"`
}

func (tn *testNet) status(i int) (status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	s, err := sdk.New(tn.url(i)).Status(ctx)
	if err != nil {
		return status{}, err
	}
	return status{NodeID: s.NodeId, Height: s.Height, LastBlockHash: s.LastBlockHash, Leader: s.Leader}, nil
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last seen: %s", what, d, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leader waits until every listed node names the same leader, and returns
// its index.
func (tn *testNet) leader(nodes []int, d time.Duration) int {
	tn.t.Helper()
	idx := -1
	waitFor(tn.t, "one leader named by every node", d, func() (bool, string) {
		name := ""
		for _, i := range nodes {
			s, err := tn.status(i)
			if err != nil || s.Leader == "" || (name != "" && s.Leader != name) {
				return false, fmt.Sprintf("node%d: leader %q err %v", i, s.Leader, err)
			}
			name = s.Leader
		}
		for _, i := range nodes {
			if s, _ := tn.status(i); s.NodeID == name {
				idx = i
				return true, ""
			}
		}
		return false, "leader " + name + " is not among the nodes asked"
	})
	return idx
}

// converged waits until the listed nodes are at one height with one hash.
func (tn *testNet) converged(nodes []int, d time.Duration) status {
	tn.t.Helper()
	var first status
	waitFor(tn.t, "every node at the same height and hash", d, func() (bool, string) {
		var seen []status
		for k, i := range nodes {
			s, err := tn.status(i)
			if err != nil {
				return false, err.Error()
			}
			seen = append(seen, s)
			if k == 0 {
				first = s
			} else if s.Height != first.Height || s.LastBlockHash != first.LastBlockHash {
				return false, fmt.Sprint(seen)
			}
		}
		return true, ""
	})
	return first
}

// caughtUp waits until node i is within a few blocks of the others'
// height (they keep committing meanwhile).
func (tn *testNet) caughtUp(i int, others []int, d time.Duration) {
	tn.t.Helper()
	waitFor(tn.t, fmt.Sprintf("node%d catching up", i), d, func() (bool, string) {
		s, err := tn.status(i)
		if err != nil {
			return false, err.Error()
		}
		for _, j := range others {
			o, err := tn.status(j)
			if err != nil || s.Height+3 < o.Height {
				return false, fmt.Sprintf("node%d at %d, node%d at %d (%v)", i, s.Height, j, o.Height, err)
			}
		}
		return true, ""
	})
}

// bank is the Jepsen-style workload: senders transfer among a fixed set
// of accounts through whichever node answers, and record every transfer
// they saw commit.
type bank struct {
	tn       *testNet
	keys     []crypto.PrivateKey
	accounts []types.Address
	minted   uint64

	mu    sync.Mutex
	acked map[types.Hash]uint64 // tx id → height its client saw it commit at
	down  map[int]bool          // nodes the workload must not use

	stop atomic.Bool
	wg   sync.WaitGroup
}

func newBank(tn *testNet, senders int) *bank {
	t := tn.t
	t.Helper()
	ks, err := keystore.Open(tn.keys)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Get("admin")
	if err != nil {
		t.Fatal(err)
	}
	b := &bank{tn: tn, acked: map[types.Hash]uint64{}, down: map[int]bool{}}
	c := sdk.New(tn.url(0))
	ctx := context.Background()
	var ids []types.Hash
	for i := range senders {
		k, err := crypto.GenerateKey([]crypto.Scheme{crypto.Ed25519, crypto.SM2, crypto.P256}[i%3], nil)
		if err != nil {
			t.Fatal(err)
		}
		b.keys = append(b.keys, k)
		addr := types.AddressOf(k.Scheme(), k.Public().Bytes())
		b.accounts = append(b.accounts, addr)
		id, err := c.Mint(ctx, admin.Private, addr, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		b.minted += 1_000_000
	}
	for _, id := range ids {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		if _, err := c.Wait(wctx, id); err != nil {
			t.Fatalf("funding: %v", err)
		}
		cancel()
	}
	return b
}

// setDown marks a node the workload must avoid (killed or cut off).
func (b *bank) setDown(i int, down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down[i] = down
}

func (b *bank) pick(r *rand.Rand) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		i := r.IntN(len(b.tn.homes))
		if !b.down[i] {
			return i
		}
	}
}

func (b *bank) ackedCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.acked)
}

// run starts the senders. Each signs its next transfer with the nonce its
// chain says, submits it to a random live node and waits for it there;
// on any error it starts over from the committed nonce.
func (b *bank) run() {
	for s, k := range b.keys {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			r := rand.New(rand.NewPCG(uint64(s), 7))
			from := types.AddressOf(k.Scheme(), k.Public().Bytes())
			ctx := context.Background()
			for !b.stop.Load() {
				c := sdk.New(b.tn.url(b.pick(r)))
				actx, cancel := context.WithTimeout(ctx, 3*time.Second)
				acct, err := c.Account(actx, from)
				cancel()
				if err != nil {
					continue
				}
				nonce := acct.Nonce
				to := b.accounts[r.IntN(len(b.accounts))]
				tx, err := c.Sign(ctx, k, sdk.Call{Contract: "token", Method: "transfer", Args: tokencall.Transfer(to, 1+uint64(r.IntN(9))), Nonce: &nonce})
				if err != nil {
					continue
				}
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err = c.Submit(sctx, tx)
				cancel()
				if err != nil {
					continue
				}
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				res, err := c.Wait(wctx, tx.ID)
				cancel()
				if err != nil {
					continue
				}
				b.mu.Lock()
				b.acked[tx.ID] = res.Height
				b.mu.Unlock()
			}
		}()
	}
}

func (b *bank) halt() {
	b.stop.Store(true)
	b.wg.Wait()
}

// check verifies on every listed node that each acknowledged transfer is
// present once, at the height its client saw, and that balances sum to
// what was minted.
func (b *bank) check(nodes []int) {
	t := b.tn.t
	t.Helper()
	ctx := context.Background()
	for _, i := range nodes {
		c := sdk.New(b.tn.url(i))
		for id, h := range b.acked {
			r, err := c.Tx(ctx, id)
			if err != nil {
				t.Fatalf("node%d: acknowledged transfer %s is missing: %v", i, id, err)
			}
			if r.Height != h {
				t.Fatalf("node%d: transfer %s at height %d, acknowledged at %d", i, id, r.Height, h)
			}
		}
		var sum uint64
		for _, a := range b.accounts {
			acct, err := c.Account(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			sum += acct.Balance
		}
		if sum != b.minted {
			t.Fatalf("node%d: balances sum to %d, minted %d", i, sum, b.minted)
		}
	}
}

// TestNetworkFaults runs three nodes as processes, with the bank workload
// throughout: the leader is killed with SIGKILL (a new one must commit
// within 5 s), restarted (it must catch up), a minority is cut off (it
// must commit nothing and answer "no quorum" while the majority goes on),
// and healed (it must rejoin). At the end every acknowledged transfer is
// on every node once and balances still sum to what was minted.
func TestNetworkFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	tn := newTestNet(t, 3)
	tn.startAll()
	all := []int{0, 1, 2}
	tn.leader(all, 60*time.Second)
	b := newBank(tn, 6)
	b.run()
	defer b.halt()
	waitFor(t, "transfers committing", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= 30, strconv.Itoa(b.ackedCount())
	})

	// 1. Kill the leader under load.
	old := tn.leader(all, 30*time.Second)
	before, _ := tn.status(old)
	b.setDown(old, true)
	killed := time.Now()
	tn.procs[old].kill(t)
	rest := without(all, old)
	var elapsed time.Duration
	waitFor(t, "a new leader committing after the leader was killed", 30*time.Second, func() (bool, string) {
		for _, i := range rest {
			s, err := tn.status(i)
			if err != nil || s.Leader == "" || s.Leader == before.NodeID || s.Height <= before.Height {
				return false, fmt.Sprintf("node%d: %+v %v", i, s, err)
			}
		}
		elapsed = time.Since(killed)
		return true, ""
	})
	t.Logf("a new leader committed %s after the leader was killed", elapsed.Round(time.Millisecond))
	if elapsed > 5*time.Second {
		t.Errorf("new leader committed after %s; want within 5s", elapsed)
	}
	n := b.ackedCount()
	waitFor(t, "transfers committing under the new leader", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= n+20, strconv.Itoa(b.ackedCount())
	})

	// 2. Restart it: it catches up and serves reads.
	tn.start(old)
	b.setDown(old, false)
	waitFor(t, "the restarted node catching up", 60*time.Second, func() (bool, string) {
		s, err := tn.status(old)
		o, err2 := tn.status(rest[0])
		return err == nil && err2 == nil && s.Height+5 >= o.Height && s.Height > before.Height, fmt.Sprintf("%+v vs %+v", s, o)
	})

	// 3. Cut a minority (one node) off.
	cut := tn.leader(all, 30*time.Second) // cutting the leader is the harder case
	b.setDown(cut, true)
	tn.isolate(cut, true)
	majority := without(all, cut)
	tn.leader(majority, 30*time.Second)
	stuck, _ := tn.status(cut)
	n = b.ackedCount()
	waitFor(t, "the majority committing while a node is cut off", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= n+20, strconv.Itoa(b.ackedCount())
	})
	waitFor(t, "the cut-off node refusing writes with no quorum", 30*time.Second, func() (bool, string) {
		err := submitProbe(tn, cut)
		return err != nil && containsAll(err.Error(), "no quorum"), fmt.Sprint(err)
	})
	if s, _ := tn.status(cut); s.Height != stuck.Height {
		t.Fatalf("the cut-off node committed blocks %d..%d without a quorum", stuck.Height+1, s.Height)
	}

	// 4. Heal: it rejoins and catches up.
	tn.isolate(cut, false)
	b.setDown(cut, false)
	n = b.ackedCount()
	waitFor(t, "transfers committing after the cut healed", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= n+20, strconv.Itoa(b.ackedCount())
	})

	// 5. With -soak, random faults for as long as asked.
	if *soak > 0 {
		tn.soak(b, all, *soak)
	}

	b.halt()
	final := tn.converged(all, 60*time.Second)
	b.check(all)
	t.Logf("%d acknowledged transfers on every node; height %d", len(b.acked), final.Height)
}

var soak = flag.Duration("soak", 0, "TestNetworkFaults: after the scripted faults, inject random ones for this long (e.g. 10m)")

// soak injects random faults under the bank workload until d has passed:
// SIGKILL and restart of a random node, or a random node cut off and
// healed. After each the network must commit again.
func (tn *testNet) soak(b *bank, all []int, d time.Duration) {
	t := tn.t
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	seed := r.Uint64()
	r = rand.New(rand.NewPCG(seed, 1))
	t.Logf("soak for %s, seed %d", d, seed)
	faults := 0
	for end := time.Now().Add(d); time.Now().Before(end); faults++ {
		i := all[r.IntN(len(all))]
		kill := r.IntN(2) == 0
		b.setDown(i, true)
		if kill {
			tn.procs[i].kill(t)
		} else {
			tn.isolate(i, true)
		}
		hold := time.Duration(500+r.IntN(3000)) * time.Millisecond
		n := b.ackedCount()
		waitFor(t, fmt.Sprintf("fault %d (node%d, kill %v): the others commit", faults, i, kill), 60*time.Second, func() (bool, string) {
			return b.ackedCount() >= n+5, strconv.Itoa(b.ackedCount())
		})
		time.Sleep(hold) // the fault lasts a random while; progress was checked above
		if kill {
			tn.start(i)
		} else {
			tn.isolate(i, false)
		}
		b.setDown(i, false)
		tn.caughtUp(i, without(all, i), 2*time.Minute)
	}
	t.Logf("soak: %d faults, %d acknowledged transfers", faults, b.ackedCount())
}

func without(all []int, x int) []int {
	var out []int
	for _, i := range all {
		if i != x {
			out = append(out, i)
		}
	}
	return out
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// submitProbe submits a harmless transaction (a zero-nonce transfer from a
// fresh key, which the pool would accept) and returns the node's error.
func submitProbe(tn *testNet, i int) error {
	k, err := crypto.GenerateKey(crypto.Ed25519, nil)
	if err != nil {
		return err
	}
	c := sdk.New(tn.url(i))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nonce := uint64(0)
	tx, err := c.Sign(ctx, k, sdk.Call{Contract: "token", Method: "transfer", Args: tokencall.Transfer(types.AddressOf(k.Scheme(), k.Public().Bytes()), 0), Nonce: &nonce})
	if err != nil {
		return err
	}
	_, err = c.Submit(ctx, tx)
	return err
}

// isolate cuts (or heals) every connection between node i and the others.
func (tn *testNet) isolate(i int, cut bool) {
	for pair, p := range tn.proxies {
		if pair[0] == i || pair[1] == i {
			p.setCut(cut)
		}
	}
}

// proxy forwards TCP connections to a target until cut; cutting closes
// its connections and refuses new ones until healed.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		p.setCut(true)
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *proxy) serve(in net.Conn) {
	if !p.track(in) {
		in.Close()
		return
	}
	out, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil || !p.track(out) {
		in.Close()
		if out != nil {
			out.Close()
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	go pipe(out, in)
	go pipe(in, out)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}

func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// TestNetworkMembership adds a fourth node to a running network of three
// with `accord node add`, checks that it catches up and takes
// transactions, then removes one of the first three with `accord node
// remove` while it is cut off, so that it never receives its removal: it
// still learns of it from its peers and stops, and the rest go on. Then it
// restores the removed node under a new id, and replays signed changes,
// which take effect only once.
func TestNetworkMembership(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	tn := newTestNet(t, 3)
	tn.startAll()
	tn.leader([]int{0, 1, 2}, 60*time.Second)
	b := newBank(tn, 3) // some history for the new node to catch up on

	api, p2pAddr := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	// No --node: the change goes to node0's API, which is not the default
	// port.
	out, _ := cli(t, false, "node", "add", "--network", tn.dir, "--api", api, "--p2p", p2pAddr, "-o", "json")
	var added struct {
		Home    string   `json:"home"`
		ID      uint64   `json:"id"`
		NodeID  string   `json:"node_id"`
		Members []string `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &added); err != nil || added.ID != 4 || added.NodeID != "node3" || len(added.Members) != 4 {
		t.Fatalf("node add -o json: %v %q; want node3 with id 4 and four members", err, out)
	}
	tn.homes = append(tn.homes, added.Home)
	tn.apis = append(tn.apis, api)
	tn.procs = append(tn.procs, nil)
	tn.start(3)
	all := []int{0, 1, 2, 3}
	tn.converged(all, 60*time.Second)
	b.run()
	waitFor(t, "transfers committing with four nodes", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= 20, strconv.Itoa(b.ackedCount())
	})
	// A transaction submitted to the new node commits (it forwards it).
	c3 := sdk.New(tn.url(3))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ks, err := keystore.Open(tn.keys)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Get("admin")
	if err != nil {
		t.Fatal(err)
	}
	id, err := c3.Mint(ctx, admin.Private, b.accounts[0], 5)
	if err != nil {
		t.Fatalf("mint through the new node: %v", err)
	}
	if _, err := c3.Wait(ctx, id); err != nil {
		t.Fatalf("mint through the new node: %v", err)
	}
	b.mu.Lock()
	b.minted += 5
	b.mu.Unlock()

	// Remove a follower v of the first three while it is cut off: the
	// leader drops it before the removal reaches it. The workload stays
	// off it.
	v := 1
	if tn.leader(all, 60*time.Second) == 1 {
		v = 2
	}
	b.setDown(v, true)
	tn.isolate(v, true)
	out, _ = cli(t, false, "node", "remove", "--network", tn.dir, "--id", strconv.Itoa(v+1), "-o", "json")
	if !strings.Contains(out, fmt.Sprintf(`"removed": %d`, v+1)) {
		t.Fatalf("node remove -o json: %s", out)
	}
	tn.isolate(v, false)
	select {
	case <-tn.procs[v].done:
	case <-time.After(60 * time.Second):
		t.Fatal("the removed node did not stop")
	}
	if log := tn.procs[v].log.String(); !strings.Contains(log, "removed from the cluster") {
		t.Fatalf("the removed node's log does not say it was removed from the cluster:\n%s", log)
	}
	// It never starts again.
	if _, stderr := cli(t, true, "start", "--home", tn.homes[v]); !strings.Contains(stderr, "removed from the cluster") {
		t.Fatalf("accord start of the removed node: %q, want a refusal", stderr)
	}
	rest := without(all, v)
	n := b.ackedCount()
	waitFor(t, "transfers committing after the removal", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= n+20, strconv.Itoa(b.ackedCount())
	})

	// Restore, as docs/operations.md says: the removed node comes back
	// under a new id, starting from its old chain data, kept aside before
	// its folder was deleted. The missing folder changes nothing: the id
	// comes from the network's member list (5, not the live node3's 4).
	backup := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(backup, os.DirFS(filepath.Join(tn.homes[v], "data"))); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(tn.homes[v]); err != nil {
		t.Fatal(err)
	}
	api, p2pAddr = "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	out, _ = cli(t, false, "node", "add", "--network", tn.dir, "--api", api, "--p2p", p2pAddr, "--node", tn.url(3), "-o", "json")
	if err := json.Unmarshal([]byte(out), &added); err != nil || added.ID != 5 || added.NodeID != "node4" || len(added.Members) != 4 {
		t.Fatalf("node add (restore) -o json: %v %q; want node4 with id 5 and four members", err, out)
	}
	if err := os.CopyFS(filepath.Join(added.Home, "data"), os.DirFS(backup)); err != nil {
		t.Fatal(err)
	}
	tn.homes = append(tn.homes, added.Home)
	tn.apis = append(tn.apis, api)
	tn.procs = append(tn.procs, nil)
	tn.start(4)
	rest = append(rest, 4)
	tn.caughtUp(4, without(rest, 4), 60*time.Second)
	b.halt()
	tn.converged(rest, 60*time.Second)
	b.check(rest)
	if log := tn.procs[4].log.String(); strings.Contains(log, "level=ERROR") {
		t.Fatalf("the restored node logged an error:\n%s", log)
	}

	// Signed changes replayed within their time window do nothing: an
	// added node's id, once removed, never comes back.
	replayOnce(t, tn, ks)
}

// replayOnce admits a node that never runs, removes it, then sends both
// signed requests again: each must be refused.
func replayOnce(t *testing.T, tn *testNet, ks *keystore.Store) {
	t.Helper()
	admin, err := ks.Get("admin")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := sdk.New(tn.url(0))
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := st.MaxRaftId + 1
	add, err := sdk.SignNodeChange(admin.Private, &apipb.NodeChange{ChainId: st.ChainId, Op: "add", Id: id,
		NodeId: fmt.Sprintf("node%d", id-1), P2PAddress: "127.0.0.1:1", ApiAddress: "127.0.0.1:2"})
	if err != nil {
		t.Fatal(err)
	}
	remove, err := sdk.SignNodeChange(admin.Private, &apipb.NodeChange{ChainId: st.ChainId, Op: "remove", Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendNodeChange(ctx, add); err != nil {
		t.Fatalf("adding node %d: %v", id, err)
	}
	if _, err := c.SendNodeChange(ctx, remove); err != nil {
		t.Fatalf("removing node %d: %v", id, err)
	}
	if members, err := c.SendNodeChange(ctx, add); err == nil || !strings.Contains(err.Error(), "never reused") {
		t.Fatalf("replayed add of node %d: members %v, err %v; want a refusal", id, members, err)
	}
	if members, err := c.SendNodeChange(ctx, remove); err == nil || !strings.Contains(err.Error(), "not a member") {
		t.Fatalf("replayed removal of node %d: members %v, err %v; want a refusal", id, members, err)
	}
	st, err = c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Members {
		if m.Id == id {
			t.Fatalf("node %d is a member after the replays: %v", id, st.Members)
		}
	}
}
