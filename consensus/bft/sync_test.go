package bft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	apb "github.com/accord-chain/accord/types/pb"
)

// hashApp is a chain in memory: each applied block gets a header that
// chains by hash, as the real chain's do, so that block sync can be
// checked against hashes.
type hashApp struct {
	mu     sync.Mutex
	raws   [][]byte     // block h at h-1
	hashes []types.Hash // block h at h; 0 is genesis
	times  []uint64
	tip    string                // id of the last applied block
	spec   map[string]types.Hash // speculated blocks' hashes by id
}

func newHashApp() *hashApp { return &hashApp{hashes: []types.Hash{{}}, times: []uint64{0}} }

// makeBlock encodes p as a block on prev.
func makeBlock(p *consensus.Proposal, prev types.Hash) ([]byte, types.Hash) {
	ids := make([]types.Hash, len(p.Txs))
	for i, tx := range p.Txs {
		ids[i] = tx.ID
	}
	root := types.MerkleRoot(crypto.SHA256, ids)
	hdr := &apb.Header{Version: types.HeaderVersion, ChainId: "test", Height: p.Height, Time: p.Time,
		PrevHash: prev[:], TxRoot: root[:], TxCount: uint32(len(p.Txs)), Proposer: p.Proposer}
	h, hb, err := types.HeaderHash(crypto.SHA256, hdr)
	if err != nil {
		panic(err)
	}
	return types.EncodeBlock(hb, p.Txs), h
}

func (a *hashApp) Apply(_ context.Context, p *consensus.Proposal) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if want := uint64(len(a.raws)) + 1; p.Height != want {
		return fmt.Errorf("height %d, want %d", p.Height, want)
	}
	if p.Time <= a.times[len(a.times)-1] {
		return fmt.Errorf("time %d not after %d", p.Time, a.times[len(a.times)-1])
	}
	raw, h := makeBlock(p, a.hashes[len(a.hashes)-1])
	a.raws = append(a.raws, raw)
	a.hashes = append(a.hashes, h)
	a.times = append(a.times, p.Time)
	return nil
}

// Speculate gives the hash the block would have on parent, which must be
// the last applied block or a speculated one.
func (a *hashApp) Speculate(id, parent []byte, p *consensus.Proposal) (types.Hash, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if h, ok := a.spec[string(id)]; ok {
		return h, nil
	}
	prev, ok := a.spec[string(parent)]
	if !ok {
		if string(parent) != a.tip {
			return types.Hash{}, fmt.Errorf("unknown parent %x", parent)
		}
		prev = a.hashes[len(a.hashes)-1]
	}
	_, h := makeBlock(p, prev)
	if a.spec == nil {
		a.spec = map[string]types.Hash{}
	}
	a.spec[string(id)] = h
	return h, nil
}

func (a *hashApp) ApplyBlock(ctx context.Context, id []byte, p *consensus.Proposal) (types.Hash, error) {
	if err := a.Apply(ctx, p); err != nil {
		return types.Hash{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tip = string(id)
	delete(a.spec, string(id))
	return a.hashes[len(a.hashes)-1], nil
}

func (a *hashApp) Anchor(id []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tip = string(id)
	a.spec = nil
}

func (a *hashApp) Last() (uint64, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return uint64(len(a.raws)), a.times[len(a.times)-1]
}

func (a *hashApp) HashAt(h uint64) (types.Hash, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if h >= uint64(len(a.hashes)) {
		return types.Hash{}, false, nil
	}
	return a.hashes[h], true, nil
}

func (a *hashApp) from(next uint64) [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out [][]byte
	for h := next; h <= uint64(len(a.raws)) && len(out) < 50; h++ {
		out = append(out, a.raws[h-1])
	}
	return out
}

// syncWith is the chain's block sync in small: runs from f, each block
// executed here and required to give the hash the run's header has.
func (a *hashApp) syncWith(ctx context.Context, height uint64, want [32]byte, f BlockFetcher) error {
	for {
		last, _ := a.Last()
		if last >= height {
			break
		}
		_, raws, err := f.FetchBlocks(ctx, 0, last+1)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil || len(raws) == 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		for _, raw := range raws {
			b, err := types.DecodeBlock(raw, crypto.SHA256)
			if err != nil {
				return err
			}
			if err := a.Apply(ctx, &consensus.Proposal{Height: b.Header.Height, Time: b.Header.Time, Proposer: b.Header.Proposer, Txs: b.Txs}); err != nil {
				return err
			}
			if got, _, _ := a.HashAt(b.Header.Height); got != b.Hash {
				return fmt.Errorf("block %d executes to another hash", b.Header.Height)
			}
		}
	}
	if got, _, _ := a.HashAt(height); got != want {
		return fmt.Errorf("block %d hashes to %s, want %s", height, got, types.Hash(want))
	}
	return nil
}

// syncNet is four drivers on hashApps over a memNet. Validator byz (if
// not empty) answers block sync with a forged chain: its blocks carry
// other times, chained by hash from the true block before them, and it
// reports their hashes and checkpoints naming them.
type syncNet struct {
	t       *testing.T
	net     *memNet
	keys    []crypto.PrivateKey
	set     ValidatorSet
	dirs    []string
	apps    []*hashApp
	pools   []*memPool
	drivers []*Driver
	cancels []context.CancelFunc
	dones   []chan error
	byz     string
	forged  atomic.Int64 // forged runs and hashes served
	// chainHook, if set, wraps node i's chain sync.
	chainHook func(i int, sync func(context.Context, uint64, [32]byte, BlockFetcher) error) func(context.Context, uint64, [32]byte, BlockFetcher) error
}

func newSyncNet(t *testing.T, byz string) *syncNet {
	s := &syncNet{t: t, net: &memNet{drivers: map[string]*Driver{}, down: map[string]bool{}}, byz: byz}
	for i := range 4 {
		k, err := crypto.GenerateKey(crypto.Ed25519, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.keys = append(s.keys, k)
		s.set = append(s.set, Validator{ID: fmt.Sprintf("v%d", i), PubKey: k.Public().Bytes()})
		s.dirs = append(s.dirs, t.TempDir())
		s.apps = append(s.apps, newHashApp())
		s.pools = append(s.pools, newMemPool())
	}
	s.drivers = make([]*Driver, 4)
	s.cancels = make([]context.CancelFunc, 4)
	s.dones = make([]chan error, 4)
	t.Cleanup(func() {
		for i := range s.drivers {
			s.stop(i)
		}
	})
	return s
}

func (s *syncNet) index(id string) int { return s.set.Index(id) }

// forge is the byzantine chain from height next on: the true blocks with
// their times moved on by one millisecond, chained by hash.
func (s *syncNet) forge(next uint64, n int) ([][]byte, []types.Hash) {
	a := s.apps[s.index(s.byz)]
	prev, _, _ := a.HashAt(next - 1)
	var raws [][]byte
	var hashes []types.Hash
	for _, raw := range a.from(next)[:min(n, len(a.from(next)))] {
		b, err := types.DecodeBlock(raw, crypto.SHA256)
		if err != nil {
			panic(err)
		}
		r, h := makeBlock(&consensus.Proposal{Height: b.Header.Height, Time: b.Header.Time + 1, Proposer: b.Header.Proposer, Txs: b.Txs}, prev)
		raws, hashes, prev = append(raws, r), append(hashes, h), h
	}
	return raws, hashes
}

// source is node self's view of the others' chains.
type source struct {
	s    *syncNet
	self string
}

func (src source) FetchBlocksFrom(_ context.Context, peer string, next uint64) ([][]byte, error) {
	if peer == src.s.byz {
		raws, _ := src.s.forge(next, 50)
		src.s.forged.Add(1)
		return raws, nil
	}
	return src.s.apps[src.s.index(peer)].from(next), nil
}

func (src source) AskHash(_ context.Context, peer string, height uint64) (types.Hash, bool) {
	if peer == src.s.byz {
		last, _ := src.s.apps[src.s.index(peer)].Last()
		if height > last {
			return types.Hash{}, false
		}
		// Its forged chain from the block before the run the node asks
		// about: the hash at height in a chain forged from the last
		// checkpoint below it.
		base := height - height%checkpointEvery
		if base == 0 {
			base = 1
		}
		_, hashes := src.s.forge(base, int(height-base)+1)
		if len(hashes) == 0 {
			return types.Hash{}, false
		}
		src.s.forged.Add(1)
		return hashes[len(hashes)-1], true
	}
	h, ok, _ := src.s.apps[src.s.index(peer)].HashAt(height)
	return h, ok
}

// byzTransport rewrites the byzantine node's checkpoints: each names its
// forged chain's hash, and one more, far above, has a forged QC.
type byzTransport struct {
	base memTransport
	s    *syncNet
}

func (t byzTransport) Send(to string, msg []byte) {
	m, err := DecodeMessage(msg)
	if err == nil && m.GetSyncResponse() != nil {
		var cps []*pb.Checkpoint
		for _, cp := range m.GetSyncResponse().Checkpoints {
			cp.ChainHash = bytes.Repeat([]byte{0xbb}, HashSize)
			cps = append(cps, cp)
		}
		if n := len(cps); n > 0 {
			far := &pb.Checkpoint{Block: &pb.Block{Version: WireVersion, Round: cps[n-1].Block.Round + 1000,
				Height: cps[n-1].Block.Height + 1000, Parent: make([]byte, HashSize), Proposer: []byte(t.s.byz),
				Justify: cps[n-1].Qc},
				Qc: cps[n-1].Qc, Result: cps[n-1].Result, ChainHash: make([]byte, HashSize)}
			cps = append(cps, far)
		}
		m.GetSyncResponse().Checkpoints = cps
		msg = EncodeMessage(m)
		t.s.forged.Add(1)
	}
	t.base.Send(to, msg)
}

func (s *syncNet) start(i int) {
	s.t.Helper()
	id := s.set[i].ID
	var tr Transport = memTransport{net: s.net, self: id}
	if id == s.byz {
		tr = byzTransport{base: memTransport{net: s.net, self: id}, s: s}
	}
	chainSync := s.apps[i].syncWith
	if s.chainHook != nil {
		chainSync = s.chainHook(i, chainSync)
	}
	d, err := NewDriver(DriverConfig{
		Core: Config{ID: id, ChainID: "test", Signer: s.keys[i], Verifier: CryptoVerifier{Scheme: crypto.Ed25519},
			Validators: s.set, RoundTicks: 10},
		Dir: s.dirs[i], GenesisHash: make([]byte, HashSize), TickInterval: 20 * time.Millisecond,
		Limits: consensus.Limits{Interval: time.Millisecond},
		Sync:   &SyncConfig{Chain: chainSync, HashAt: s.apps[i].HashAt, Source: source{s: s, self: id}},
		Log:    testLog(s.t, i),
	}, s.pools[i], s.apps[i], tr, clock.Real)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s.net.mu.Lock()
	s.net.drivers[id] = d
	s.net.mu.Unlock()
	s.drivers[i], s.cancels[i], s.dones[i] = d, cancel, done
	go func() { done <- d.Run(ctx) }()
}

func testLog(t *testing.T, i int) *slog.Logger {
	if i != 0 || os.Getenv("SYNCLOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func (s *syncNet) stop(i int) {
	if s.cancels[i] == nil {
		return
	}
	s.cancels[i]()
	if err := <-s.dones[i]; err != nil {
		s.t.Errorf("driver %d: %v", i, err)
	}
	s.cancels[i] = nil
	s.net.mu.Lock()
	delete(s.net.drivers, s.set[i].ID)
	s.net.mu.Unlock()
}

func (s *syncNet) height(i int) uint64 {
	h, _ := s.apps[i].Last()
	return h
}

// checkSameHashes checks that every node has the same hash at every height
// they all hold.
func (s *syncNet) checkSameHashes(nodes ...int) uint64 {
	s.t.Helper()
	top := s.height(nodes[0])
	for _, i := range nodes {
		top = min(top, s.height(i))
	}
	for h := uint64(1); h <= top; h++ {
		want, _, _ := s.apps[nodes[0]].HashAt(h)
		for _, i := range nodes[1:] {
			if got, _, _ := s.apps[i].HashAt(h); got != want {
				s.t.Fatalf("block %d: node %d has %s, node %d has %s", h, i, got, nodes[0], want)
			}
		}
	}
	return top
}

// gap is how far the others get ahead of the stopped node: more than
// the blocks they keep to fetch by hash.
const gap = keepCommitted + 3*checkpointEvery

// TestBlockSyncPastWhatPeersKeep: a validator that missed more blocks than
// its peers keep to fetch by hash catches up through block sync while the
// others keep committing, with a byzantine validator among them that
// answers with forged checkpoints (another chain hash; a block far above
// with a QC of another block) and a forged chain (blocks that chain by
// hash, with other contents). The node is stopped in the middle of its
// sync (its chain between its root and the target) and finishes the same
// sync when it starts again. It ends on the honest chain, restarts its
// core on the checkpoint, and then commits new blocks with the others.
func TestBlockSyncPastWhatPeersKeep(t *testing.T) {
	s := newSyncNet(t, "v1")
	var crashed atomic.Bool
	s.chainHook = func(i int, sync func(context.Context, uint64, [32]byte, BlockFetcher) error) func(context.Context, uint64, [32]byte, BlockFetcher) error {
		if i != 0 {
			return sync
		}
		return func(ctx context.Context, height uint64, want [32]byte, f BlockFetcher) error {
			if crashed.CompareAndSwap(false, true) {
				// Apply part of the way, then "crash": the node stops.
				return sync(ctx, height, want, crashFetcher{f: f, at: height / 2, stop: s.cancels[0]})
			}
			return sync(ctx, height, want, f)
		}
	}
	for i := 1; i < 4; i++ {
		s.start(i)
	}
	waitFor(t, "the others to commit past what they keep", func() bool { return s.height(1) >= gap && s.height(2) >= gap })
	s.start(0)
	waitFor(t, "node 0 to stop in the middle of block sync", func() bool { return crashed.Load() && s.height(0) > 0 })
	if err := <-s.dones[0]; err != nil {
		t.Fatalf("driver 0 stopped with %v", err)
	}
	s.cancels[0] = nil
	if _, err := os.Stat(filepath.Join(s.dirs[0], syncFile)); err != nil {
		t.Fatalf("no sync target on disk after a stop mid-sync: %v", err)
	}
	mid := s.height(0)
	if mid >= gap {
		t.Fatalf("stopped at height %d, not in the middle of the sync", mid)
	}
	s.start(0)
	goal := s.height(2)
	waitFor(t, "node 0 to catch up after its restart", func() bool { return s.height(0) >= goal })
	// It takes part again: a transaction sent to it alone commits
	// everywhere (it proposes it when it leads).
	tx := testTx(t, 1)
	s.pools[0].add(tx)
	for i := range 4 {
		waitFor(t, fmt.Sprintf("node %d to commit node 0's transaction", i), func() bool {
			a := s.apps[i]
			a.mu.Lock()
			defer a.mu.Unlock()
			for _, raw := range a.raws {
				if b, err := types.DecodeBlock(raw, crypto.SHA256); err == nil && len(b.Txs) == 1 && b.Txs[0].ID == tx.ID {
					return true
				}
			}
			return false
		})
	}
	top := s.checkSameHashes(0, 1, 2, 3)
	if top < gap {
		t.Fatalf("compared up to %d only", top)
	}
	if s.forged.Load() == 0 {
		t.Fatal("the byzantine validator was never asked: the test checks nothing")
	}
	if _, err := os.Stat(filepath.Join(s.dirs[0], syncFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the sync target is still on disk after the sync: %v", err)
	}
}

// crashFetcher stops its node when the sync asks for block at.
type crashFetcher struct {
	f    BlockFetcher
	at   uint64
	stop context.CancelFunc
}

func (c crashFetcher) FetchBlocks(ctx context.Context, from, next uint64) (string, [][]byte, error) {
	if next >= c.at {
		c.stop()
		return "", nil, context.Canceled
	}
	return c.f.FetchBlocks(ctx, from, next)
}

// TestPickTargetNeedsFPlusOneAlike: a checkpoint one validator reports
// is not a target, even with a valid QC; two alike are; a QC that does
// not verify is refused.
func TestPickTargetNeedsFPlusOneAlike(t *testing.T) {
	s := newSyncNet(t, "")
	for i := 1; i < 4; i++ {
		s.start(i)
	}
	waitFor(t, "a checkpoint", func() bool { return s.height(1) >= checkpointEvery+2 && s.height(2) >= checkpointEvery+2 })
	s.stop(1)
	d1 := s.drivers[1]
	if len(d1.sync.points) == 0 {
		t.Fatal("node 1 kept no checkpoint")
	}
	h, _, _ := s.apps[1].HashAt(d1.sync.points[0].Block.Height)
	good := toCheckpoint(d1.sync.points[0], h)
	other := toCheckpoint(d1.sync.points[0], types.Hash{1})
	d, err := NewDriver(DriverConfig{
		Core: Config{ID: "v0", ChainID: "test", Signer: s.keys[0], Verifier: CryptoVerifier{Scheme: crypto.Ed25519},
			Validators: s.set},
		Dir: t.TempDir(), GenesisHash: make([]byte, HashSize),
	}, newMemPool(), newHashApp(), memTransport{net: &memNet{}}, clock.Real)
	if err != nil {
		t.Fatal(err)
	}
	d.sync.reports = map[string][]*pb.Checkpoint{"v1": {good}, "v2": {other}}
	if cp := d.pickTarget(); cp != nil {
		t.Fatalf("a checkpoint one validator reports was taken: height %d", cp.Block.Height)
	}
	d.sync.reports["v3"] = []*pb.Checkpoint{good}
	if cp := d.pickTarget(); cp == nil || !bytes.Equal(cp.ChainHash, h[:]) {
		t.Fatalf("two validators alike: got %v", cp)
	}
	bad := toCheckpoint(d1.sync.points[0], h)
	bad.Qc = &pb.QC{Data: bad.Qc.Data, Signers: bad.Qc.Signers, Sigs: [][]byte{}}
	for _, sig := range good.Qc.Sigs {
		bad.Qc.Sigs = append(bad.Qc.Sigs, bytes.Repeat([]byte{1}, len(sig)))
	}
	d.sync.reports = map[string][]*pb.Checkpoint{"v1": {bad}, "v3": {bad}}
	if cp := d.pickTarget(); cp != nil {
		t.Fatal("a checkpoint whose QC does not verify was taken")
	}
}

// sampleSyncMessages are a SyncRequest and a SyncResponse, seeds of
// FuzzDecodeMessage.
func sampleSyncMessages(tb testing.TB) [][]byte {
	cp := sampleCheckpoint()
	out := [][]byte{
		EncodeMessage(&pb.Message{Version: WireVersion, Body: &pb.Message_SyncRequest{SyncRequest: &pb.SyncRequest{}}}),
		EncodeMessage(&pb.Message{Version: WireVersion, Body: &pb.Message_SyncResponse{SyncResponse: &pb.SyncResponse{Checkpoints: []*pb.Checkpoint{cp}}}}),
	}
	for _, raw := range out {
		if _, err := DecodeMessage(raw); err != nil {
			tb.Fatalf("a sync message is refused: %v", err)
		}
	}
	return out
}

func sampleCheckpoint() *pb.Checkpoint {
	qc := &pb.QC{Data: &pb.VoteData{Round: 3, Height: 2, Block: make([]byte, HashSize), ParentResult: make([]byte, HashSize)},
		Signers: []byte{7}, Sigs: [][]byte{{1}, {2}, {3}}}
	cp := &pb.Checkpoint{Block: &pb.Block{Version: WireVersion, Round: 3, Height: 2, Parent: make([]byte, HashSize), Proposer: []byte("v1"), Justify: qc},
		Qc:     qc,
		Result: make([]byte, HashSize), ChainHash: make([]byte, HashSize),
		Failed: []*pb.Failure{{Round: 1, Id: []byte("v0")}}, Anchor: [][]byte{[]byte("v0")}}
	return cp
}

func FuzzDecodeCheckpoint(f *testing.F) {
	cp := sampleCheckpoint()
	if _, err := decodeCheckpoint(types.EncodeCanonical(cp)); err != nil {
		f.Fatalf("the seed is refused: %v", err)
	}
	f.Add(types.EncodeCanonical(cp))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := decodeCheckpoint(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(types.EncodeCanonical(cp), b) {
			t.Fatal("accepted checkpoint does not re-encode to its bytes")
		}
		root, _ := checkpointRoot(cp)
		if back := toCheckpoint(root, types.Hash(cp.ChainHash)); !bytes.Equal(types.EncodeCanonical(back), b) {
			t.Fatal("a checkpoint does not survive the way to a root and back")
		}
	})
}

// recTransport counts what a driver sends.
type recTransport struct{ n atomic.Int64 }

func (r *recTransport) Send(string, []byte) { r.n.Add(1) }

// TestSyncNotStartedByAForgedHeight: a proposal naming a height far above
// this node's, with a QC that does not verify, does not make it ask for
// checkpoints: block sync starts only from a verified QC's height.
func TestSyncNotStartedByAForgedHeight(t *testing.T) {
	s := newSyncNet(t, "")
	rec := &recTransport{}
	app := newHashApp()
	d, err := NewDriver(DriverConfig{
		Core: Config{ID: "v0", ChainID: "test", Signer: s.keys[0], Verifier: CryptoVerifier{Scheme: crypto.Ed25519},
			Validators: s.set, RoundTicks: 10},
		Dir: t.TempDir(), GenesisHash: make([]byte, HashSize),
		Sync: &SyncConfig{Chain: app.syncWith, HashAt: app.HashAt, Source: source{s: s, self: "v0"}},
	}, newMemPool(), app, rec, clock.Real)
	if err != nil {
		t.Fatal(err)
	}
	qc := &pb.QC{Data: &pb.VoteData{Round: 4999, Height: 9999, Block: make([]byte, HashSize), ParentResult: make([]byte, HashSize)},
		Signers: []byte{0x0e}, Sigs: [][]byte{{1}, {2}, {3}}}
	b := &pb.Block{Version: WireVersion, Round: 5000, Height: 10_000, Parent: make([]byte, HashSize), Proposer: []byte("v1"), Justify: qc}
	raw := EncodeMessage(&pb.Message{Version: WireVersion, Body: &pb.Message_Proposal{Proposal: &pb.Proposal{Block: b, Sig: []byte{1}}}})
	m, err := DecodeMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	// As Run does: block sync sees the message first, then the core.
	if done, err := d.syncStep(context.Background(), inbound{from: "v1", msg: m}); done || err != nil {
		t.Fatalf("a proposal taken as a block-sync message: %v", err)
	}
	if err := d.core.Step("v1", m); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("a forged QC: %v, want ErrBadMessage", err)
	}
	for range 10 * d.cfg.Core.RoundTicks {
		d.syncTick()
	}
	if n := rec.n.Load(); n != 0 || d.sync.askedAt != 0 {
		t.Fatalf("a forged height made the node ask for checkpoints (%d messages sent)", n)
	}
}
