package bft

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	apb "github.com/accord-chain/accord/types/pb"
	"google.golang.org/protobuf/proto"
)

// memApp is an Applier that records what it is given. A block's result
// is a digest of its parent's result and its inputs (plus salt, to make a
// validator whose execution differs), so that results are real: the same
// inputs on the same parent give the same result.
type memApp struct {
	mu      sync.Mutex
	blocks  []*consensus.Proposal
	results [][]byte // results[h] of block h; results[0] is the genesis hash
	tip     string   // id of the last applied block
	spec    map[string]memSpec
	salt    byte
	reused  int
}

type memSpec struct {
	parent string
	result []byte
	p      *consensus.Proposal
}

func (a *memApp) exec(parentResult []byte, p *consensus.Proposal) []byte {
	h := sha256.New()
	h.Write(parentResult)
	fmt.Fprintf(h, "%d/%d/%x/%d", p.Height, p.Time, p.Proposer, a.salt)
	for _, tx := range p.Txs {
		h.Write(tx.ID[:])
	}
	return h.Sum(nil)
}

func (a *memApp) Speculate(id, parent []byte, p *consensus.Proposal) (types.Hash, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.spec[string(id)]; ok {
		return types.Hash(s.result), nil
	}
	var pr []byte
	if s, ok := a.spec[string(parent)]; ok {
		pr = s.result
	} else if string(parent) == a.tip && a.tip != "" {
		pr = a.results[len(a.results)-1]
	} else {
		return types.Hash{}, fmt.Errorf("unknown parent %x", parent)
	}
	if a.spec == nil {
		a.spec = map[string]memSpec{}
	}
	r := a.exec(pr, p)
	a.spec[string(id)] = memSpec{parent: string(parent), result: r, p: p}
	return types.Hash(r), nil
}

func (a *memApp) ApplyBlock(_ context.Context, id []byte, p *consensus.Proposal) (types.Hash, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if want := uint64(len(a.blocks)) + 1; p.Height != want {
		return types.Hash{}, fmt.Errorf("height %d, want %d", p.Height, want)
	}
	if n := len(a.blocks); n > 0 && p.Time <= a.blocks[n-1].Time {
		return types.Hash{}, fmt.Errorf("time %d not after %d", p.Time, a.blocks[n-1].Time)
	}
	base := a.resultsOrGenesis()[:len(a.blocks)+1]
	r := a.exec(base[len(base)-1], p)
	if s, ok := a.spec[string(id)]; ok && s.parent == a.tip {
		if !bytes.Equal(s.result, r) {
			return types.Hash{}, fmt.Errorf("block %d: speculation gave another result than execution", p.Height)
		}
		a.reused++
	}
	a.blocks = append(a.blocks, p)
	a.results = append(base, r)
	a.tip = string(id)
	for k, s := range a.spec {
		if s.p.Height <= p.Height {
			delete(a.spec, k)
		}
	}
	return types.Hash(r), nil
}

func (a *memApp) Apply(context.Context, *consensus.Proposal) error {
	return errors.New("the driver applies with ApplyBlock")
}

func (a *memApp) resultsOrGenesis() [][]byte {
	if len(a.results) == 0 {
		return [][]byte{make([]byte, HashSize)} // the test's genesis hash
	}
	return a.results
}

func (a *memApp) Anchor(id []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tip = string(id)
	a.results = a.resultsOrGenesis()[:len(a.blocks)+1]
	a.spec = nil
}

func (a *memApp) Last() (uint64, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.blocks) == 0 {
		return 0, 0
	}
	return uint64(len(a.blocks)), a.blocks[len(a.blocks)-1].Time
}

// Durable lags two blocks behind, as the chain's disk may.
func (a *memApp) Durable() (uint64, [32]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return uint64(max(len(a.blocks)-2, 0)), [32]byte{}
}

func (a *memApp) txIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, b := range a.blocks {
		for _, tx := range b.Txs {
			out = append(out, tx.ID.String())
		}
	}
	return out
}

func (a *memApp) height() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.blocks)
}

// memPool is a Pool of transactions added by the test.
type memPool struct {
	mu      sync.Mutex
	ready   []*types.Tx
	out     []*types.Tx         // reaped or claimed
	claimed map[types.Hash]bool // claimed before added; see claims_test.go
	ch      chan struct{}
}

func newMemPool() *memPool {
	return &memPool{ch: make(chan struct{}, 1), claimed: map[types.Hash]bool{}}
}

func (p *memPool) add(tx *types.Tx) {
	p.mu.Lock()
	if p.claimed[tx.ID] {
		delete(p.claimed, tx.ID)
		p.out = append(p.out, tx)
		p.mu.Unlock()
		return
	}
	p.ready = append(p.ready, tx)
	p.mu.Unlock()
	select {
	case p.ch <- struct{}{}:
	default:
	}
}

func (p *memPool) Reap(maxTxs, _ int) []*types.Tx {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(maxTxs, len(p.ready))
	out := slices.Clone(p.ready[:n])
	p.ready = p.ready[n:]
	p.out = append(p.out, out...)
	return out
}

func (p *memPool) ReadyLen() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ready), 0
}

func (p *memPool) Ready() <-chan struct{} { return p.ch }

// ResetReaped puts back what was reaped; a duplicate that commits twice
// is visible to the test.
func (p *memPool) ResetReaped() {
	p.mu.Lock()
	p.ready = append(p.out, p.ready...)
	p.out = nil
	p.mu.Unlock()
}

// memNet delivers between drivers; down nodes neither send nor receive.
type memNet struct {
	mu      sync.Mutex
	drivers map[string]*Driver
	down    map[string]bool
}

type memTransport struct {
	net  *memNet
	self string
}

func (t memTransport) Send(to string, msg []byte) {
	t.net.mu.Lock()
	d := t.net.drivers[to]
	cut := t.net.down[to] || t.net.down[t.self]
	t.net.mu.Unlock()
	if d != nil && !cut {
		_ = d.Receive(t.self, msg)
	}
}

type testCluster struct {
	t       *testing.T
	net     *memNet
	keys    []crypto.PrivateKey
	set     ValidatorSet
	dirs    []string
	apps    []*memApp
	pools   []*memPool
	drivers []*Driver
	cancels []context.CancelFunc
	dones   []chan error
	// tr, if set, makes node i's transport from the plain one.
	tr func(i int, base memTransport) Transport
	// chains, if set, are the nodes' Appliers instead of apps, on a
	// chain whose block 0 has hash genesis.
	chains  []Applier
	genesis []byte
	// genesisN, if set, is how many of the nodes (the first) are the
	// genesis validators; next is DriverConfig.NextEpoch.
	genesisN int
	next     func(EpochChange) (EpochInfo, error)
}

func newTestCluster(t *testing.T, n int) *testCluster { return newTestClusterWith(t, n, nil) }

// newTestClusterWith lets setup adjust the cluster before any node starts.
func newTestClusterWith(t *testing.T, n int, setup func(*testCluster)) *testCluster {
	c := &testCluster{t: t, net: &memNet{drivers: map[string]*Driver{}, down: map[string]bool{}}}
	rng := rand.NewChaCha8([32]byte{7})
	for i := range n {
		k, err := crypto.GenerateKey(crypto.Ed25519, rng)
		if err != nil {
			t.Fatal(err)
		}
		c.keys = append(c.keys, k)
		c.set = append(c.set, Validator{ID: fmt.Sprintf("v%d", i), PubKey: k.Public().Bytes()})
		c.dirs = append(c.dirs, t.TempDir())
		c.apps = append(c.apps, &memApp{})
		c.pools = append(c.pools, newMemPool())
	}
	c.drivers = make([]*Driver, n)
	c.cancels = make([]context.CancelFunc, n)
	c.dones = make([]chan error, n)
	if setup != nil {
		setup(c)
	}
	for i := range n {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.drivers {
			c.stop(i)
		}
	})
	return c
}

func (c *testCluster) start(i int) {
	c.t.Helper()
	id := c.set[i].ID
	var tr Transport = memTransport{net: c.net, self: id}
	if c.tr != nil {
		tr = c.tr(i, memTransport{net: c.net, self: id})
	}
	var app Applier = c.apps[i]
	if c.chains != nil {
		app = c.chains[i]
	}
	genesis := c.genesis
	if genesis == nil {
		genesis = make([]byte, HashSize)
	}
	vs := c.set
	if c.genesisN > 0 {
		vs = c.set[:c.genesisN]
	}
	d, err := NewDriver(DriverConfig{
		Core: Config{ID: id, ChainID: "test", Signer: c.keys[i], Verifier: CryptoVerifier{Scheme: crypto.Ed25519},
			Validators: vs, RoundTicks: 10},
		Dir: c.dirs[i], GenesisHash: genesis, TickInterval: 20 * time.Millisecond,
		NextEpoch: c.next,
	}, c.pools[i], app, tr, clock.Real)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	c.net.mu.Lock()
	c.net.drivers[id] = d
	c.net.mu.Unlock()
	c.drivers[i], c.cancels[i], c.dones[i] = d, cancel, done
	go func() { done <- d.Run(ctx) }()
}

func (c *testCluster) stop(i int) {
	if c.cancels[i] == nil {
		return
	}
	c.cancels[i]()
	if err := <-c.dones[i]; err != nil && !errors.Is(err, ErrRemoved) {
		c.t.Errorf("driver %d: %v", i, err)
	}
	c.cancels[i] = nil
	c.net.mu.Lock()
	delete(c.net.drivers, c.set[i].ID)
	c.net.mu.Unlock()
}

func (c *testCluster) setDown(i int, down bool) {
	c.net.mu.Lock()
	c.net.down[c.set[i].ID] = down
	c.net.mu.Unlock()
}

var txKey, _ = crypto.GenerateKey(crypto.Ed25519, rand.NewChaCha8([32]byte{9}))

func testTx(t *testing.T, i int) *types.Tx {
	t.Helper()
	payload, err := proto.Marshal(&apb.TxPayload{Version: types.PayloadVersion, ChainId: "test", Nonce: uint64(i), ExpiresAt: 1 << 62,
		Contract: "token", Method: "transfer", Args: make([]byte, 24),
		Signer: &apb.Signer{Scheme: apb.Scheme(crypto.Ed25519), Identity: &apb.Signer_PublicKey{PublicKey: txKey.Public().Bytes()}}})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.DecodeTx(types.EncodeTx(payload, make([]byte, 64)), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkSame checks that the nodes' chains agree where they overlap.
func (c *testCluster) checkSame(nodes ...int) {
	c.t.Helper()
	for _, i := range nodes[1:] {
		a, b := c.apps[nodes[0]], c.apps[i]
		a.mu.Lock()
		b.mu.Lock()
		n := min(len(a.blocks), len(b.blocks))
		for h := range n {
			x, y := a.blocks[h], b.blocks[h]
			if x.Time != y.Time || string(x.Proposer) != string(y.Proposer) || len(x.Txs) != len(y.Txs) {
				c.t.Errorf("height %d differs between %d and %d", h+1, nodes[0], i)
			}
			for j := range x.Txs {
				if x.Txs[j].ID != y.Txs[j].ID {
					c.t.Errorf("height %d tx %d differs between %d and %d", h+1, j, nodes[0], i)
				}
			}
		}
		a.mu.Unlock()
		b.mu.Unlock()
	}
}

func hasAll(ids []string, want []*types.Tx) bool {
	for _, tx := range want {
		if !slices.Contains(ids, tx.ID.String()) {
			return false
		}
	}
	return true
}

func TestDriverCommitsOnEveryNode(t *testing.T) {
	c := newTestCluster(t, 4)
	var txs []*types.Tx
	for i := range 40 {
		tx := testTx(t, i)
		txs = append(txs, tx)
		c.pools[i%4].add(tx) // clients send to any node
	}
	for i := range 4 {
		waitFor(t, fmt.Sprintf("node %d to commit every transaction", i), func() bool { return hasAll(c.apps[i].txIDs(), txs) })
	}
	c.checkSame(0, 1, 2, 3)
	for i := range 4 {
		ids := c.apps[i].txIDs()
		if len(ids) != len(txs) {
			t.Errorf("node %d committed %d transactions, want %d (none twice)", i, len(ids), len(txs))
		}
	}
	st := c.drivers[0].Status()
	if st.Round == 0 || st.Leader == "" || len(st.Validators) != 4 {
		t.Errorf("status %+v", st)
	}
	for _, v := range st.Validators {
		if v.LastSeenRound == 0 {
			t.Errorf("validator %s never seen", v.ID)
		}
	}
}

func TestDriverOneDownKeepsCommittingTwoDownStops(t *testing.T) {
	c := newTestCluster(t, 4)
	c.setDown(3, true)
	txs := []*types.Tx{testTx(t, 1), testTx(t, 2)}
	c.pools[0].add(txs[0])
	c.pools[1].add(txs[1])
	for i := range 3 {
		waitFor(t, "three of four to commit", func() bool { return hasAll(c.apps[i].txIDs(), txs) })
	}
	c.setDown(2, true)
	// Let the commits in flight settle, then nothing may commit.
	waitFor(t, "the network to stall", func() bool {
		h := c.apps[0].height()
		time.Sleep(300 * time.Millisecond)
		return c.apps[0].height() == h
	})
	stuck := testTx(t, 3)
	c.pools[0].add(stuck)
	h := c.apps[0].height()
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if c.apps[0].height() != h || c.apps[1].height() > h {
			t.Fatalf("a block committed with two of four validators down")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.setDown(2, false)
	c.setDown(3, false)
	for i := range 4 {
		waitFor(t, fmt.Sprintf("node %d to resume and catch up", i), func() bool {
			return hasAll(c.apps[i].txIDs(), append(txs, stuck))
		})
	}
	c.checkSame(0, 1, 2, 3)
}

func TestDriverRestartKeepsChain(t *testing.T) {
	c := newTestCluster(t, 4)
	first := []*types.Tx{testTx(t, 1)}
	c.pools[0].add(first[0])
	for i := range 4 {
		waitFor(t, "commit", func() bool { return hasAll(c.apps[i].txIDs(), first) })
	}
	// Restart node 2 on its folder and chain: it rebuilds from its root
	// and keeps committing with the others.
	c.stop(2)
	more := []*types.Tx{testTx(t, 2), testTx(t, 3)}
	c.pools[1].add(more[0])
	waitFor(t, "three to commit", func() bool { return hasAll(c.apps[0].txIDs(), more[:1]) })
	c.start(2)
	c.pools[2].add(more[1])
	for i := range 4 {
		waitFor(t, fmt.Sprintf("node %d to commit after the restart", i), func() bool { return hasAll(c.apps[i].txIDs(), more) })
	}
	c.checkSame(0, 1, 2, 3)
}

func TestDriverReplaysCommittedBlocksTheChainLacks(t *testing.T) {
	c := newTestCluster(t, 4)
	txs := []*types.Tx{testTx(t, 1), testTx(t, 2)}
	c.pools[0].add(txs[0])
	c.pools[1].add(txs[1])
	for i := range 4 {
		waitFor(t, "commit", func() bool { return hasAll(c.apps[i].txIDs(), txs) })
	}
	c.stop(3)
	// The chain lost its last blocks (they were queued, not yet on
	// disk): the driver gives them back from its folder.
	app := c.apps[3]
	app.mu.Lock()
	full := slices.Clone(app.blocks)
	app.blocks = app.blocks[:len(app.blocks)-2]
	app.mu.Unlock()
	c.start(3)
	waitFor(t, "replay", func() bool { return app.height() >= len(full) })
	app.mu.Lock()
	for h, b := range full {
		if app.blocks[h].Time != b.Time || len(app.blocks[h].Txs) != len(b.Txs) {
			t.Errorf("replayed block %d differs", h+1)
		}
	}
	app.mu.Unlock()
}

// equivocator sends, after each of its validator's votes, a second vote
// for another block in the same round, signed with the same key.
type equivocator struct {
	memTransport
	key    crypto.PrivateKey
	signer *Core // only for the signing bytes
}

func (e equivocator) Send(to string, msg []byte) {
	e.memTransport.Send(to, msg)
	m, err := DecodeMessage(msg)
	if err != nil || m.GetVote() == nil {
		return
	}
	v := m.GetVote()
	v.Data.Block = bytes.Repeat([]byte{0xee}, HashSize)
	sig, err := e.key.Sign(e.signer.voteSignBytes(v.Data))
	if err != nil {
		panic(err)
	}
	v.Sig = sig
	e.memTransport.Send(to, EncodeMessage(m))
}

func TestDriverKeepsEvidenceOfEquivocation(t *testing.T) {
	c := newTestCluster(t, 4)
	c.stop(3)
	c.tr = func(i int, base memTransport) Transport {
		if i != 3 {
			return base
		}
		return equivocator{memTransport: base, key: c.keys[3], signer: &Core{cfg: Config{ChainID: "test"}}}
	}
	c.start(3)
	txs := []*types.Tx{testTx(t, 1), testTx(t, 2)}
	c.pools[0].add(txs[0])
	c.pools[3].add(txs[1])
	for i := range 3 {
		waitFor(t, fmt.Sprintf("honest node %d to commit and keep evidence", i), func() bool {
			return hasAll(c.apps[i].txIDs(), txs) && len(c.drivers[i].Evidence()) > 0
		})
		for _, ev := range c.drivers[i].Evidence() {
			if ev.Validator != "v3" {
				t.Errorf("node %d holds evidence against honest %s", i, ev.Validator)
			}
			a, errA := DecodeMessage(ev.A)
			b, errB := DecodeMessage(ev.B)
			if errA != nil || errB != nil || a.GetVote() == nil || b.GetVote() == nil ||
				a.GetVote().Data.Round != ev.Round || b.GetVote().Data.Round != ev.Round ||
				bytes.Equal(a.GetVote().Data.Block, b.GetVote().Data.Block) {
				t.Errorf("evidence %+v is not two votes of round %d for different blocks", ev, ev.Round)
			}
		}
	}
	c.checkSame(0, 1, 2, 3)
	// Evidence is kept on disk: a restarted node still has it.
	c.stop(0)
	c.start(0)
	if len(c.drivers[0].Evidence()) == 0 {
		t.Fatal("node 0 lost its evidence in a restart")
	}
}

// TestDriverValidatorWithOtherResultsCannotCertify: a validator whose
// execution gives other results votes for another state: its votes join
// no QC, the three others commit without it, and it stops with
// ErrDiverged at the first commit, before any block reaches its chain.
// Two of four with the same wrong results cannot certify their state
// either, and nor can the two honest ones: nothing commits.
func TestDriverValidatorWithOtherResultsCannotCertify(t *testing.T) {
	c := newTestClusterWith(t, 4, func(c *testCluster) { c.apps[3].salt = 1 })
	txs := []*types.Tx{testTx(t, 1), testTx(t, 2)}
	c.pools[0].add(txs[0])
	c.pools[1].add(txs[1])
	for i := range 3 {
		waitFor(t, fmt.Sprintf("honest node %d to commit", i), func() bool { return hasAll(c.apps[i].txIDs(), txs) })
	}
	c.checkSame(0, 1, 2)
	select {
	case err := <-c.dones[3]:
		if !errors.Is(err, ErrDiverged) {
			t.Fatalf("the diverging node stopped with %v, want ErrDiverged", err)
		}
		c.cancels[3]()
		c.cancels[3] = nil
	case <-time.After(30 * time.Second):
		t.Fatal("the diverging node kept running")
	}
	if h := c.apps[3].height(); h != 0 {
		t.Fatalf("the diverging node applied %d blocks", h)
	}

	c2 := newTestClusterWith(t, 4, func(c *testCluster) { c.apps[2].salt, c.apps[3].salt = 1, 1 })
	c2.pools[0].add(testTx(t, 1))
	// Rounds go by on timeouts: block 1 may be certified (its votes
	// carry the genesis result, the same for all), but no child of it,
	// so no block can commit.
	waitFor(t, "rounds to pass", func() bool {
		for _, d := range c2.drivers {
			if d.Status().Round < 7 {
				return false
			}
		}
		return true
	})
	for i, d := range c2.drivers {
		if s := d.Status(); s.CommittedHeight != 0 || c2.apps[i].height() != 0 {
			t.Fatalf("node %d committed height %d with only half the validators agreeing on results", i, s.CommittedHeight)
		}
	}
}

// TestDriverReusesSpeculation: committed blocks are applied from the
// execution that their certification needed, not executed again.
func TestDriverReusesSpeculation(t *testing.T) {
	c := newTestCluster(t, 4)
	txs := []*types.Tx{testTx(t, 1), testTx(t, 2), testTx(t, 3)}
	for i, tx := range txs {
		c.pools[i].add(tx)
	}
	for i := range 4 {
		waitFor(t, "commit", func() bool { return hasAll(c.apps[i].txIDs(), txs) })
	}
	for i, a := range c.apps {
		a.mu.Lock()
		n, reused := len(a.blocks), a.reused
		a.mu.Unlock()
		if reused != n {
			t.Errorf("node %d applied %d blocks, %d from their speculation", i, n, reused)
		}
	}
}
