package raft

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"
)

func TestBlocksReplicateToAllNodes(t *testing.T) {
	for _, n := range []int{3, 5} {
		t.Run(string(rune('0'+n))+"nodes", func(t *testing.T) {
			c := newCluster(t, n, nil)
			lead := c.leader()
			txs := testTxs(t, 300)
			c.submit(txs)
			c.waitCommitted(txs)
			for _, id := range c.running() {
				for _, b := range c.nodes[id].app.snapshot() {
					if !slices.Equal(b.Proposer, []byte{byte(lead)}) {
						t.Fatalf("block %d proposed by %v, want the leader %d", b.Height, b.Proposer, lead)
					}
					if len(b.Txs) > 20 {
						t.Fatalf("block %d has %d transactions, above MaxBlockTxs 20", b.Height, len(b.Txs))
					}
				}
			}
		})
	}
}

func TestNewLeaderTakesOverWithoutLosingOrRepeatingBlocks(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.leader()
	txs := testTxs(t, 400)
	c.submit(txs[:150])
	// Stop the leader while it is still proposing.
	c.waitFor("some blocks", func() bool { h, _ := c.nodes[old].app.Last(); return h >= 2 })
	if err := c.stop(old); err != nil {
		t.Fatalf("stopped leader's Run: %v", err)
	}
	rest := c.running()
	lead := c.leader(rest...)
	if lead == old {
		t.Fatalf("stopped node %d still reported as leader", old)
	}
	c.submit(txs[150:])
	c.waitCommitted(txs, rest...)

	// The old leader comes back from its log and catches up without
	// applying any height twice (the fake applier rejects that).
	c.start(old, false)
	c.waitCommitted(txs)
	if s := c.nodes[old].app.syncs; len(s) != 0 {
		t.Fatalf("restarted node used block sync %v; its log should have sufficed", s)
	}
}

func TestRestartReplaysBlocksThatWereNotDurable(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.SnapshotEntries = 5 })
	for _, id := range c.ids {
		c.nodes[id].app.lag = 3 // the store is 3 blocks behind
	}
	lead := c.leader()
	txs := testTxs(t, 400)
	c.submit(txs[:200])
	c.waitCommitted(txs[:200])
	var f uint64
	for _, id := range c.ids {
		if id != lead {
			f = id
			break
		}
	}
	if s := c.nodes[f].eng.Status(); s.SnapshotIndex == 0 {
		t.Fatalf("node %d never compacted its log: %+v", f, s)
	}
	if err := c.stop(f); err != nil {
		t.Fatal(err)
	}
	c.nodes[f].app.crash()
	before, _ := c.nodes[f].app.Last()
	c.start(f, false)
	c.submit(txs[200:])
	c.waitCommitted(txs)
	if s := c.nodes[f].app.syncs; len(s) != 0 {
		t.Fatalf("node %d used block sync %v; the log should still hold the blocks after its durable height %d", f, s, before)
	}
}

func TestFollowerFarBehindCatchesUpBySnapshot(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.SnapshotEntries = 5; cfg.MaxBlockTxs = 5 })
	lead := c.leader()
	txs := testTxs(t, 300)
	c.submit(txs[:20])
	c.waitCommitted(txs[:20])
	var f uint64
	for _, id := range c.ids {
		if id != lead {
			f = id
			break
		}
	}
	if err := c.stop(f); err != nil {
		t.Fatal(err)
	}
	behind, _ := c.nodes[f].app.Last()
	c.submit(txs[20:200]) // 36+ blocks, several compactions
	others := slices.DeleteFunc(slices.Clone(c.ids), func(id uint64) bool { return id == f })
	c.waitCommitted(txs[:200], others...)
	c.waitFor("leader to compact past the stopped follower", func() bool {
		return c.nodes[lead].eng.Status().SnapshotIndex > c.nodes[lead].eng.Status().Commit-40 &&
			c.nodes[lead].eng.Status().SnapshotIndex > uint64(behind)+10
	})

	c.start(f, false)
	c.submit(txs[200:])
	c.waitCommitted(txs)
	syncs := c.nodes[f].app.syncs
	if len(syncs) == 0 {
		t.Fatalf("node %d caught up without SyncTo; the leader's log should have been compacted", f)
	}
	s := syncs[0]
	if s.height <= behind {
		t.Fatalf("SyncTo height %d, want above the follower's %d", s.height, behind)
	}
	ref := c.nodes[lead].app.snapshot()
	if blockHash(ref[s.height-1]) != s.hash {
		t.Fatalf("SyncTo got a hash that is not block %d's", s.height)
	}
	if s.from != lead {
		t.Fatalf("SyncTo from node %d, want the leader %d", s.from, lead)
	}
}

func TestAddThenRemoveNodes(t *testing.T) {
	c := newCluster(t, 3, nil)
	lead := c.leader()
	txs := testTxs(t, 300)
	c.submit(txs[:100])
	c.waitCommitted(txs[:100])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, id := range c.ids {
		if id != lead {
			if err := c.nodes[id].eng.AddNode(ctx, 4, []byte("n4")); !errors.Is(err, ErrNotLeader) {
				t.Fatalf("AddNode on follower %d: %v, want ErrNotLeader", id, err)
			}
			break
		}
	}
	c.add(4)
	c.start(4, true)
	if err := c.nodes[lead].eng.AddNode(ctx, 4, []byte("n4")); err != nil {
		t.Fatalf("AddNode: %v", err)
	}
	c.submit(txs[100:200])
	c.waitCommitted(txs[:200])
	for _, id := range c.running() {
		if v := c.nodes[id].eng.Status().Voters; !slices.Equal(v, []uint64{1, 2, 3, 4}) {
			t.Fatalf("node %d voters %v, want [1 2 3 4]", id, v)
		}
		app := c.nodes[id].app
		app.mu.Lock()
		confs := slices.Clone(app.confs)
		app.mu.Unlock()
		if !slices.ContainsFunc(confs, func(cc ConfChange) bool {
			return cc.Type == ConfAddNode && cc.ID == 4 && string(cc.Context) == "n4"
		}) {
			t.Fatalf("node %d did not report adding node 4: %+v", id, confs)
		}
	}

	// Remove the leader itself: it steps down and its Run ends.
	if err := c.nodes[lead].eng.RemoveNode(ctx, lead); err != nil {
		t.Fatalf("RemoveNode(leader %d): %v", lead, err)
	}
	select {
	case err := <-c.nodes[lead].done:
		c.nodes[lead].done <- err
		if !errors.Is(err, ErrRemoved) {
			t.Fatalf("removed leader's Run returned %v, want ErrRemoved", err)
		}
	case <-ctx.Done():
		t.Fatal("removed leader kept running")
	}
	c.stop(lead)
	rest := c.running()
	newLead := c.leader(rest...)
	c.submit(txs[200:])
	c.waitCommitted(txs, rest...)
	want := slices.DeleteFunc([]uint64{1, 2, 3, 4}, func(id uint64) bool { return id == lead })
	if v := c.nodes[newLead].eng.Status().Voters; !slices.Equal(v, want) {
		t.Fatalf("voters after removal %v, want %v", v, want)
	}
}

func TestPartitionedMinorityCommitsNothing(t *testing.T) {
	c := newCluster(t, 5, nil)
	lead := c.leader()
	txs := testTxs(t, 300)
	c.submit(txs[:50])
	c.waitCommitted(txs[:50])
	c.waitFor("all nodes to learn every commit", func() bool {
		s := c.nodes[lead].eng.Status()
		for _, id := range c.ids {
			if c.nodes[id].eng.Status().Applied != s.Commit {
				return false
			}
		}
		return true
	})
	minority := []uint64{lead, lead%5 + 1}
	var majority []uint64
	for _, id := range c.ids {
		if !slices.Contains(minority, id) {
			majority = append(majority, id)
		}
	}
	heights := map[uint64]uint64{}
	for _, id := range minority {
		heights[id], _ = c.nodes[id].app.Last()
	}
	c.net.partition(minority, majority, true)
	c.submit(txs[50:200])
	c.leader(majority...)
	c.waitCommitted(txs[:200], majority...)
	for _, id := range minority {
		if h, _ := c.nodes[id].app.Last(); h != heights[id] {
			t.Fatalf("node %d in the minority went from height %d to %d while partitioned", id, heights[id], h)
		}
	}
	c.net.partition(minority, majority, false)
	c.submit(txs[200:])
	c.waitCommitted(txs)
}

func TestBadConfigAndMessages(t *testing.T) {
	base := Config{ID: 1, Dir: t.TempDir(), Hash: 1, Peers: []uint64{1}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for name, mut := range map[string]func(*Config){
		"no id":           func(c *Config) { c.ID = 0 },
		"no dir":          func(c *Config) { c.Dir = "" },
		"bad hash":        func(c *Config) { c.Hash = 0 },
		"join with peers": func(c *Config) { c.Join = true },
		"heartbeat":       func(c *Config) { c.HeartbeatTicks, c.ElectionTicks = 5, 5 },
		"small block":     func(c *Config) { c.MaxBlockBytes = 10 },
	} {
		cfg := base
		mut(&cfg)
		cfg.EnsureDefaults()
		if cfg.Validate() == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
		}
	}
	cfg := base
	cfg.Peers = nil
	if _, err := New(cfg, newFakePool(), &fakeApp{}, nil, nil, nil); err == nil {
		t.Fatal("New with an empty log, no peers and no Join should fail")
	}
	e, err := New(base, newFakePool(), &fakeApp{}, netTransport{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, b := range [][]byte{{0xff}, {0x08, 0x00}, {0x08, 0x63, 0x10, 0x01, 0x18, 0x02}} {
		if err := e.Receive(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("Receive(%x) = %v, want ErrBadMessage", b, err)
		}
	}
}

// A Raft id is used once: after node 4 is removed, adding 4 again (for
// example by replaying the signed request that first added it) is refused,
// also on a node whose log was compacted past both changes, which knows the
// id only from its snapshot.
func TestRemovedIDIsNeverReused(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.SnapshotEntries = 5; cfg.MaxBlockTxs = 5 })
	lead := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.add(4)
	c.start(4, true)
	if err := c.nodes[lead].eng.AddNode(ctx, 4, []byte("n4")); err != nil {
		t.Fatalf("AddNode(4): %v", err)
	}
	if err := c.nodes[lead].eng.RemoveNode(ctx, 4); err != nil {
		t.Fatalf("RemoveNode(4): %v", err)
	}
	c.stop(4)
	removedAt := c.nodes[lead].eng.Status().Applied
	if err := c.nodes[lead].eng.AddNode(ctx, 4, []byte("n4")); !errors.Is(err, ErrIDUsed) {
		t.Fatalf("AddNode(4) after its removal: %v, want ErrIDUsed", err)
	}
	if err := c.nodes[lead].eng.AddNode(ctx, 2, []byte("n2")); err == nil || errors.Is(err, ErrIDUsed) {
		t.Fatalf("AddNode(2), a voter: %v, want already a voter", err)
	}

	var f uint64
	for _, id := range c.running() {
		if id != lead {
			f = id
			break
		}
	}
	txs := testTxs(t, 60)
	c.submit(txs)
	c.waitCommitted(txs, c.running()...)
	c.waitFor("a follower to compact past the removal", func() bool {
		return c.nodes[f].eng.Status().SnapshotIndex > removedAt
	})
	c.stop(f)
	c.start(f, false)
	if got := c.nodes[f].eng.Status().MaxID; got != 4 {
		t.Fatalf("restarted node %d: MaxID %d, want 4 (from its snapshot)", f, got)
	}
}

// A node the leader dropped before it applied its own removal stops once
// told (MarkRemoved), with ErrRemoved.
func TestMarkRemovedStopsTheNode(t *testing.T) {
	c := newCluster(t, 3, nil)
	lead := c.leader()
	var f uint64
	for _, id := range c.ids {
		if id != lead {
			f = id
			break
		}
	}
	others := slices.DeleteFunc(slices.Clone(c.ids), func(id uint64) bool { return id == f })
	c.net.partition([]uint64{f}, others, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.nodes[lead].eng.RemoveNode(ctx, f); err != nil {
		t.Fatalf("RemoveNode(%d): %v", f, err)
	}
	c.net.partition([]uint64{f}, others, false)
	if s := c.nodes[f].eng.Status(); s.Removed || !slices.Contains(s.Voters, f) {
		t.Fatalf("node %d applied its removal through a partition: %+v", f, s)
	}
	c.nodes[f].eng.MarkRemoved()
	select {
	case err := <-c.nodes[f].done:
		c.nodes[f].done <- err
		if !errors.Is(err, ErrRemoved) {
			t.Fatalf("Run after MarkRemoved: %v, want ErrRemoved", err)
		}
	case <-ctx.Done():
		t.Fatal("node kept running after MarkRemoved")
	}
	if s := c.nodes[lead].eng.Status(); s.MaxID != 3 || slices.Contains(s.Voters, f) {
		t.Fatalf("leader status %+v, want MaxID 3 and %d gone", s, f)
	}
}

// Status's MaxID and Voters describe the same log prefix: a node restarting
// from a snapshot taken before node 4 was added (its block store lagged)
// must not show 4 as used while 4 is not among its voters, which would
// call a live member removed.
func TestRestartedMaxIDMatchesItsVoters(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.SnapshotEntries = 5; cfg.MaxBlockTxs = 5 })
	lead := c.leader()
	var f uint64
	for _, id := range c.ids {
		if id != lead {
			f = id
			break
		}
	}
	app := c.nodes[f].app
	app.mu.Lock()
	app.lag = 1 << 20 // nothing becomes durable on f unless the test says so
	app.mu.Unlock()
	txs := testTxs(t, 40)
	c.submit(txs[:20]) // blocks 1-4
	c.waitCommitted(txs[:20])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.add(4)
	c.start(4, true)
	if err := c.nodes[lead].eng.AddNode(ctx, 4, []byte("n4")); err != nil {
		t.Fatalf("AddNode(4): %v", err)
	}
	c.waitFor("node 4 among f's voters", func() bool { return slices.Contains(c.nodes[f].eng.Status().Voters, 4) })
	// Blocks up to 3 durable on f: its next compaction stops before block
	// 4's entry, so before the addition of node 4.
	app.mu.Lock()
	app.durable = 3
	app.mu.Unlock()
	before := c.nodes[f].eng.Status().SnapshotIndex
	c.submit(txs[20:])
	c.waitCommitted(txs)
	c.waitFor("f to compact", func() bool { return c.nodes[f].eng.Status().SnapshotIndex > before })
	c.stop(f)
	n := c.nodes[f]
	e, err := New(c.config(f, false), n.pool, n.app, c.net.transport(f), []byte{byte(f)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if s := e.Status(); s.MaxID >= 4 && !slices.Contains(s.Voters, 4) {
		t.Fatalf("restarted node: MaxID %d with voters %v: node 4 would look removed", s.MaxID, s.Voters)
	}
}
