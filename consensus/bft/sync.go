package bft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// Block sync. A validator that fell further behind than its peers keep
// blocks in memory (keepCommitted heights) cannot fetch what it lacks by
// hash. The driver notices that its highest QC (verified, so no byzantine
// validator can fake it) is of a height more than syncLag above its
// committed one and asks every validator for its
// checkpoints: the committed blocks at multiples of checkpointEvery, each
// with what a core restarts from (QC, result, reputation window) and the
// chain's hash at its height. It takes the highest checkpoint that f+1
// validators report alike (at least one of them is honest, so no byzantine
// peer can fake it) and whose QC it verifies itself, records it durably,
// brings the chain to it with the chain's block sync (every run of blocks
// checked against the hash chain down from a hash that f+1 validators
// report alike, then executed), and restarts its core on the checkpoint.
// A crash mid-sync resumes the same sync at the next start.

const (
	checkpointEvery = 64                // heights between checkpoints
	keepCheckpoints = 4                 // the newest checkpoints kept to serve
	maxCheckpoints  = 16                // checkpoints one answer may carry
	syncLag         = keepCommitted / 2 // how far behind a node asks for checkpoints
	syncFile        = "sync"            // the target of a block sync in progress
)

// errSyncPeer wraps a failed or refused request of block sync: the chain
// asks again, of the next validator.
var errSyncPeer = errors.New("bft: block sync request failed")

// BlockFetcher fetches committed chain blocks; the same method as
// chain.Fetcher, which the chain's block sync takes.
type BlockFetcher interface {
	FetchBlocks(ctx context.Context, from, next uint64) (peer string, blocks [][]byte, err error)
}

// BlockSource is what block sync needs of the node's network: committed
// chain blocks and block hashes of one named validator.
type BlockSource interface {
	// FetchBlocksFrom asks peer for its encoded committed blocks from
	// height next on (none if it has none yet).
	FetchBlocksFrom(ctx context.Context, peer string, next uint64) ([][]byte, error)
	// AskHash asks peer for its hash of the block at height (false if it
	// has none or did not answer).
	AskHash(ctx context.Context, peer string, height uint64) (types.Hash, bool)
}

// SyncConfig connects block sync to the chain and the network. Without it
// (DriverConfig.Sync nil) a node far behind cannot catch up.
type SyncConfig struct {
	// Chain brings the chain to height, whose block must hash to want,
	// with blocks from f (chain.Chain.SyncWith).
	Chain func(ctx context.Context, height uint64, want [32]byte, f BlockFetcher) error
	// HashAt is the chain's hash of its block at height (chain.Chain.HashAt).
	HashAt func(height uint64) (types.Hash, bool, error)
	Source BlockSource
}

// syncState is the driver's block-sync state, owned by the Run goroutine.
type syncState struct {
	points  []Root // this node's newest checkpoints, lowest first
	ticks   uint64
	askedAt uint64                      // ticks at the last request; 0: never
	reports map[string][]*pb.Checkpoint // each validator's last answer
	served  map[string]uint64           // ticks at the last answer to each validator
	target  *pb.Checkpoint              // a sync in progress, also in syncFile
}

// noteCheckpoints keeps the committed blocks at checkpoint heights to
// serve them to validators that lag far behind.
func (d *Driver) noteCheckpoints(cs []Commit) {
	for _, c := range cs {
		if c.Block.Height%checkpointEvery == 0 && c.QC != nil && len(c.Result) == HashSize {
			d.addCheckpoint(Root{Block: c.Block, QC: c.QC, Result: c.Result, Reputation: c.Reputation})
		}
	}
}

func (d *Driver) addCheckpoint(r Root) {
	d.sync.points = append(d.sync.points, r)
	if n := len(d.sync.points); n > keepCheckpoints {
		d.sync.points = slices.Clone(d.sync.points[n-keepCheckpoints:])
	}
}

// syncStep handles the block-sync messages. It reports whether in was
// one.
func (d *Driver) syncStep(ctx context.Context, in inbound) (bool, error) {
	m := in.msg
	if m.GetSyncRequest() == nil && m.GetSyncResponse() == nil {
		return false, nil
	}
	if d.cfg.Core.Validators.Index(in.from) < 0 || in.from == d.cfg.Core.ID {
		return true, nil
	}
	if m.GetSyncRequest() != nil {
		d.serveCheckpoints(in.from)
		return true, nil
	}
	if d.cfg.Sync == nil || d.sync.askedAt == 0 || m.Epoch != d.cfg.Core.Epoch {
		return true, nil // not asked for
	}
	if d.sync.reports == nil {
		d.sync.reports = map[string][]*pb.Checkpoint{}
	}
	d.sync.reports[in.from] = m.GetSyncResponse().Checkpoints
	if cp := d.pickTarget(); cp != nil {
		return true, d.syncTo(ctx, cp)
	}
	return true, nil
}

// highQCHeight is the height of the block of the highest QC this core
// verified (it may not hold the block).
func (c *Core) highQCHeight() uint64 { return c.hqc.Data.Height }

// syncTick asks every validator for its checkpoints, at most once a round
// timeout, while this node's highest QC is of a block further above its
// committed one than peers keep to fetch by hash.
func (d *Driver) syncTick() {
	d.sync.ticks++
	committed := d.core.Status().CommittedHeight
	if d.cfg.Sync == nil || d.core.highQCHeight() <= committed+syncLag {
		return
	}
	if d.sync.askedAt != 0 && d.sync.ticks-d.sync.askedAt < uint64(d.cfg.Core.RoundTicks) {
		return
	}
	d.sync.askedAt = d.sync.ticks
	data := EncodeMessage(&pb.Message{Version: WireVersion, Epoch: d.cfg.Core.Epoch,
		Body: &pb.Message_SyncRequest{SyncRequest: &pb.SyncRequest{}}})
	for _, v := range d.cfg.Core.Validators {
		if v.ID != d.cfg.Core.ID {
			d.tr.Send(v.ID, data)
		}
	}
	d.log.Info("far behind the other validators: asking for checkpoints to sync to",
		"committed", committed, "certified", d.core.highQCHeight())
}

// serveCheckpoints answers a validator's request, at most twice a round
// timeout, with the checkpoints whose blocks the chain holds.
func (d *Driver) serveCheckpoints(to string) {
	if d.cfg.Sync == nil {
		return
	}
	if d.sync.served == nil {
		d.sync.served = map[string]uint64{}
	}
	if t, ok := d.sync.served[to]; ok && d.sync.ticks < t+uint64(d.cfg.Core.RoundTicks/2) {
		return
	}
	d.sync.served[to] = d.sync.ticks
	resp := &pb.SyncResponse{}
	for _, r := range d.sync.points {
		h, ok, err := d.cfg.Sync.HashAt(r.Block.Height)
		if err != nil || !ok {
			continue // the chain is still applying it
		}
		resp.Checkpoints = append(resp.Checkpoints, toCheckpoint(r, h))
	}
	if len(resp.Checkpoints) == 0 {
		return
	}
	d.tr.Send(to, EncodeMessage(&pb.Message{Version: WireVersion, Epoch: d.cfg.Core.Epoch,
		Body: &pb.Message_SyncResponse{SyncResponse: resp}}))
}

func toCheckpoint(r Root, chainHash types.Hash) *pb.Checkpoint {
	cp := &pb.Checkpoint{Block: r.Block, Qc: r.QC, Result: r.Result, ChainHash: chainHash[:]}
	for _, f := range r.Reputation.Failed {
		cp.Failed = append(cp.Failed, &pb.Failure{Round: f.Round, Id: []byte(f.ID)})
	}
	for _, id := range r.Reputation.Anchor {
		cp.Anchor = append(cp.Anchor, []byte(id))
	}
	return cp
}

// checkpointRoot is what a core restarts from on cp, and the chain's hash
// of the block at its height.
func checkpointRoot(cp *pb.Checkpoint) (Root, types.Hash) {
	r := Root{Block: cp.Block, QC: cp.Qc, Result: cp.Result}
	for _, f := range cp.Failed {
		r.Reputation.Failed = append(r.Reputation.Failed, Failure{Round: f.Round, ID: string(f.Id)})
	}
	for _, id := range cp.Anchor {
		r.Reputation.Anchor = append(r.Reputation.Anchor, string(id))
	}
	return r, types.Hash(cp.ChainHash)
}

// checkpointKey identifies what validators must report alike: all of a
// checkpoint but its QC, which honest nodes may hold with other signers.
func (d *Driver) checkpointKey(cp *pb.Checkpoint) string {
	k := &pb.Checkpoint{Block: cp.Block, Result: cp.Result, Failed: cp.Failed, Anchor: cp.Anchor, ChainHash: cp.ChainHash}
	h := d.cfg.Core.Hash.Sum(types.EncodeCanonical(k))
	return string(h[:])
}

// pickTarget returns the highest checkpoint above the committed height
// that f+1 validators reported alike, with a QC verified here; nil if none.
func (d *Driver) pickTarget() *pb.Checkpoint {
	committed := d.core.Status().CommittedHeight
	type cand struct {
		height uint64
		voters []string
		cps    []*pb.Checkpoint
	}
	byKey := map[string]*cand{}
	var keys []string
	for _, v := range d.cfg.Core.Validators {
		for _, cp := range d.sync.reports[v.ID] {
			if cp.Block.Height <= committed {
				continue
			}
			k := d.checkpointKey(cp)
			c := byKey[k]
			if c == nil {
				c = &cand{height: cp.Block.Height}
				byKey[k] = c
				keys = append(keys, k)
			}
			if !slices.Contains(c.voters, v.ID) {
				c.voters = append(c.voters, v.ID)
				c.cps = append(c.cps, cp)
			}
		}
	}
	// Highest first; keys in first-seen order break ties, which only
	// byzantine reports can cause and f+1 alike cannot both reach.
	slices.SortStableFunc(keys, func(a, b string) int {
		ha, hb := byKey[a].height, byKey[b].height
		switch {
		case ha > hb:
			return -1
		case ha < hb:
			return 1
		}
		return 0
	})
	for _, k := range keys {
		c := byKey[k]
		if len(c.voters) < d.cfg.Core.Validators.F()+1 {
			continue
		}
		for _, cp := range c.cps {
			if err := d.core.verifyRootQC(cp.Block, cp.Qc); err == nil {
				return cp
			}
		}
	}
	return nil
}

// verifyRootQC checks that q certifies b with a quorum of valid
// signatures of this core's validator set.
func (c *Core) verifyRootQC(b *pb.Block, q *pb.QC) error {
	if q == nil || q.Data == nil {
		return bad("a checkpoint without a QC")
	}
	d := q.Data
	if d.Round == 0 || d.Round != b.Round || d.Height != b.Height || !bytes.Equal(d.Block, c.blockHash(b)) {
		return bad("a checkpoint's QC certifies another block")
	}
	if _, ok := c.verified[c.certID(q)]; ok {
		return nil
	}
	return c.verifyQC(q)
}

// syncTo records cp as the target of a block sync and runs it.
func (d *Driver) syncTo(ctx context.Context, cp *pb.Checkpoint) error {
	// The chain must not be applying queued commits while it syncs.
	if err := d.waitQueued(ctx); err != nil {
		return err
	}
	if err := writeFile(d.cfg.Dir, syncFile, types.EncodeCanonical(cp), true); err != nil {
		return fmt.Errorf("%w: bft storage: sync target: %w", ErrStorage, err)
	}
	d.sync.target = cp
	return d.finishSync(ctx)
}

// openSync reads the target of a block sync a crash cut short.
func (d *Driver) openSync() error {
	b, err := os.ReadFile(filepath.Join(d.cfg.Dir, syncFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: bft storage: %w", ErrStorage, err)
	}
	cp, err := decodeCheckpoint(b)
	if err != nil {
		return fmt.Errorf("%w: bft storage: %s: %w (delete the file to start over)", ErrStorage, syncFile, err)
	}
	d.sync.target = cp
	return nil
}

// resumeSync finishes, at start, a block sync a crash cut short.
func (d *Driver) resumeSync(ctx context.Context) error {
	if d.sync.target == nil {
		return nil
	}
	if d.cfg.Sync == nil {
		return fmt.Errorf("%w: a block sync was under way and this node has no peers to finish it", ErrConfig)
	}
	d.log.Info("resuming block sync", "height", d.sync.target.Block.Height)
	return d.finishSync(ctx)
}

// finishSync brings the chain to the sync target, records the target as
// the committed root and restarts the core on it. Each step may be done
// again after a crash.
func (d *Driver) finishSync(ctx context.Context) error {
	cp := d.sync.target
	root, want := checkpointRoot(cp)
	height := root.Block.Height
	start, _ := d.app.Last()
	prev, ok, err := d.cfg.Sync.HashAt(start)
	if err != nil || !ok {
		return fmt.Errorf("bft: block sync: the chain's hash at its height %d: %v", start, err)
	}
	d.log.Info("block sync", "from", start, "to", height)
	began := d.clock.Now()
	f := &syncFetcher{d: d, height: height, want: want, prevHeight: start, prev: prev}
	if start < height {
		if err := d.cfg.Sync.Chain(ctx, height, want, f); err != nil {
			return fmt.Errorf("bft: block sync to height %d: %w", height, err)
		}
	} else if start == height && prev != want {
		return fmt.Errorf("%w: block sync: block %d here hashes to %s, f+1 validators have %s", ErrDiverged, height, prev, want)
	}
	if err := d.store.saveRoot(storedRoot{Block: root.Block, QC: root.QC, Result: root.Result, Reputation: root.Reputation}); err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	d.store.prune(d.stored, height)
	if err := os.Remove(filepath.Join(d.cfg.Dir, syncFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: bft storage: %w", ErrStorage, err)
	}
	if err := fsyncDir(d.cfg.Dir); err != nil {
		return fmt.Errorf("%w: bft storage: %w", ErrStorage, err)
	}
	d.sync.target = nil
	if err := d.restartCore(root); err != nil {
		return err
	}
	d.addCheckpoint(root)
	d.log.Info("block sync done", "height", height, "blocks", height-start, "took", d.clock.Now().Sub(began).Round(time.Millisecond))
	return nil
}

// waitQueued waits until the chain has applied every commit queued for
// it.
func (d *Driver) waitQueued(ctx context.Context) error {
	if d.applyCh == nil {
		return nil // Run has not started the apply goroutine
	}
	for {
		if last, _ := d.app.Last(); last >= d.core.Status().CommittedHeight {
			return nil
		}
		t := d.clock.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case err := <-d.applyErr:
			t.Stop()
			return err
		case <-t.C():
		}
	}
}

// restartCore replaces the core with one built on root, a committed block
// the chain holds, keeping this node's persisted safety state: the rounds
// it voted or timed out in stay barred to it.
func (d *Driver) restartCore(root Root) error {
	state, _, blocks, err := d.store.load()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	core, err := New(d.cfg.Core, root, state, blocks)
	if err != nil {
		return err
	}
	d.core = core
	// Speculations below the new root are dead; the chain synced to the
	// root, and the next blocks execute on it.
	rh := blockHashOf(d.cfg.Core.Hash, root.Block)
	d.results = map[string][]byte{string(rh): root.Result}
	_, t := d.app.Last()
	d.execs = map[string]*execInfo{string(rh): {height: root.Block.Height, time: t}}
	d.app.Anchor(rh)
	clear(d.heights)
	// This node's proposals and the blocks it held claimed below root did
	// not commit, or did and the chain has their transactions: the pool
	// sorts them out.
	d.resetClaims()
	d.propose = 0
	d.lastQC = core.Status().HighQCRound
	d.publishStatus()
	return nil
}

// syncFetcher serves the chain's block sync from the validators in turn
// and hands it only runs of blocks that chain by hash from the chain's
// last block up to a hash that f+1 validators report alike (the target's
// at the end), with the transactions their headers name.
type syncFetcher struct {
	d          *Driver
	height     uint64
	want       types.Hash
	prevHeight uint64
	prev       types.Hash // the trusted hash of block prevHeight
	turn       int
}

// FetchBlocks implements BlockFetcher.
func (f *syncFetcher) FetchBlocks(ctx context.Context, _, next uint64) (string, [][]byte, error) {
	if next != f.prevHeight+1 {
		return "", nil, fmt.Errorf("%w: asked for block %d after block %d", errSyncPeer, next, f.prevHeight)
	}
	peers := f.peers()
	if len(peers) == 0 {
		return "", nil, fmt.Errorf("%w: no other validator", errSyncPeer)
	}
	peer := peers[f.turn%len(peers)]
	raws, err := f.d.cfg.Sync.Source.FetchBlocksFrom(ctx, peer, next)
	if err != nil {
		f.turn++
		// %v: a malformed answer of one peer must not end the sync
		// (the chain's ErrBadReply would); the next peer is asked.
		return peer, nil, fmt.Errorf("%w: %v", errSyncPeer, err)
	}
	if len(raws) == 0 {
		f.turn++
		return peer, nil, nil // behind too: the chain asks again
	}
	if n := f.height - next + 1; uint64(len(raws)) > n {
		raws = raws[:n]
	}
	last, err := f.check(ctx, next, raws)
	if err != nil {
		f.turn++
		f.d.log.Warn("block sync: refused a run of blocks", "peer", peer, "from", next, "err", err)
		return peer, nil, fmt.Errorf("%w: %s: %w", errSyncPeer, peer, err)
	}
	f.prevHeight, f.prev = next+uint64(len(raws))-1, last
	return peer, raws, nil
}

func (f *syncFetcher) peers() []string {
	var out []string
	for _, v := range f.d.cfg.Core.Validators {
		if v.ID != f.d.cfg.Core.ID {
			out = append(out, v.ID)
		}
	}
	return out
}

// check verifies a run from height next and returns its last block's hash.
func (f *syncFetcher) check(ctx context.Context, next uint64, raws [][]byte) (types.Hash, error) {
	h := f.d.cfg.Core.Hash
	prev := f.prev
	for i, raw := range raws {
		b, err := types.DecodeBlock(raw, h)
		if err != nil {
			return types.Hash{}, fmt.Errorf("block %d: %w", next+uint64(i), err)
		}
		if b.Header.Height != next+uint64(i) {
			return types.Hash{}, fmt.Errorf("got block %d, want %d", b.Header.Height, next+uint64(i))
		}
		if !bytes.Equal(b.Header.PrevHash, prev[:]) {
			return types.Hash{}, fmt.Errorf("block %d does not follow block %d", b.Header.Height, b.Header.Height-1)
		}
		ids := make([]types.Hash, len(b.Txs))
		for j, tx := range b.Txs {
			ids[j] = tx.ID
		}
		if root := types.MerkleRoot(h, ids); !bytes.Equal(root[:], b.Header.TxRoot) {
			return types.Hash{}, fmt.Errorf("block %d: its transactions are not the ones its header names", b.Header.Height)
		}
		prev = b.Hash
	}
	end := next + uint64(len(raws)) - 1
	want := f.want
	if end < f.height {
		var ok bool
		if want, ok = f.agreed(ctx, end); !ok {
			return types.Hash{}, fmt.Errorf("fewer than f+1 validators report one hash for block %d yet", end)
		}
	}
	if prev != want {
		return types.Hash{}, fmt.Errorf("block %d hashes to %s, f+1 validators have %s", end, prev, want)
	}
	return prev, nil
}

// agreed asks the other validators for their hash of the block at height
// and returns the one f+1 of them report.
func (f *syncFetcher) agreed(ctx context.Context, height uint64) (types.Hash, bool) {
	peers := f.peers()
	got := make([]types.Hash, len(peers))
	oks := make([]bool, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Go(func() { got[i], oks[i] = f.d.cfg.Sync.Source.AskHash(ctx, p, height) })
	}
	wg.Wait()
	need := f.d.cfg.Core.Validators.F() + 1
	for i := range got {
		n := 0
		for j := range got {
			if oks[i] && oks[j] && got[i] == got[j] {
				n++
			}
		}
		if n >= need {
			return got[i], true
		}
	}
	return types.Hash{}, false
}

// checkCheckpoints checks the shape of an answer to a SyncRequest.
func checkCheckpoints(cps []*pb.Checkpoint) error {
	if len(cps) > maxCheckpoints {
		return bad("%d checkpoints, at most %d", len(cps), maxCheckpoints)
	}
	for _, cp := range cps {
		if err := checkCheckpoint(cp); err != nil {
			return err
		}
	}
	return nil
}

func checkCheckpoint(cp *pb.Checkpoint) error {
	if cp.Block == nil || cp.Block.Version != WireVersion {
		return bad("a checkpoint without a block of version %d", WireVersion)
	}
	if err := checkBlock(cp.Block); err != nil {
		return err
	}
	if err := checkQC(cp.Qc, false); err != nil {
		return err
	}
	if len(cp.Result) != HashSize || len(cp.ChainHash) != HashSize {
		return bad("a checkpoint's result and chain hash must have %d bytes", HashSize)
	}
	if len(cp.Failed) > maxFailures || len(cp.Anchor) > maxValidators {
		return bad("a checkpoint's reputation window is too long")
	}
	for _, f := range cp.Failed {
		if len(f.Id) == 0 || len(f.Id) > maxIDLen {
			return bad("a reputation entry with an id of %d bytes", len(f.Id))
		}
	}
	for _, id := range cp.Anchor {
		if len(id) == 0 || len(id) > maxIDLen {
			return bad("a reputation anchor with an id of %d bytes", len(id))
		}
	}
	return nil
}

// decodeCheckpoint reads the sync target the driver persisted.
func decodeCheckpoint(b []byte) (*pb.Checkpoint, error) {
	cp := &pb.Checkpoint{}
	if err := types.DecodeCanonical(b, cp); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if err := checkCheckpoint(cp); err != nil {
		return nil, err
	}
	return cp, nil
}
