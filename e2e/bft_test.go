package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/accord-chain/accord/sdk"
)

// bftRoundTimeout is the round timeout the BFT test network runs with:
// tick_interval × round_ticks.
const bftRoundTimeout = 500 * time.Millisecond

// newBFTNet is newTestNet for a BFT network of four, with a short round
// so that faults are found and recovered from quickly; initArgs go to
// accord init.
func newBFTNet(t *testing.T, initArgs ...string) *testNet {
	tn := newTestNet(t, 4, append([]string{"--consensus", "bft"}, initArgs...)...)
	for _, home := range tn.homes {
		path := filepath.Join(home, "config.json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var cfg nodeConfig
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg["consensus"] != "bft" {
			t.Fatalf("init --consensus bft wrote consensus %v", cfg["consensus"])
		}
		cfg["bft"] = map[string]any{"tick_interval": "50ms", "round_ticks": 10}
		if b, err = json.MarshalIndent(cfg, "", "  "); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

// minHeight is the lowest height among the nodes (an error counts as 0).
func (tn *testNet) minHeight(nodes []int) uint64 {
	var low uint64
	for k, i := range nodes {
		s, err := tn.status(i)
		if err != nil {
			return 0
		}
		if k == 0 || s.Height < low {
			low = s.Height
		}
	}
	return low
}

// TestBFTFaults runs four BFT nodes as processes under the bank workload:
// the current leader is killed with SIGKILL (the others must commit again
// within the round timeout plus 2 s, and keep committing with one of four
// down); a second node is killed (with two of four down nothing commits
// and clients get "no quorum"); both come back (it resumes). At the end
// every acknowledged transfer is on every node once, at the height its
// client saw, balances sum to what was minted, and all nodes have the
// same block hash at the same height.
func TestBFTFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	tn := newBFTNet(t)
	tn.startAll()
	all := []int{0, 1, 2, 3}
	waitFor(t, "blocks committing on every node", 60*time.Second, func() (bool, string) {
		return tn.minHeight(all) >= 3, strconv.FormatUint(tn.minHeight(all), 10)
	})
	tn.checkBFTStatus(0)
	out, _ := cli(t, false, "query", "evidence", "--node", tn.url(1), "-o", "json")
	var ev struct {
		Evidence []any `json:"evidence"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Evidence == nil || len(ev.Evidence) != 0 {
		t.Fatalf("query evidence on an honest network: %v\n%s", err, out)
	}
	b := newBank(tn, 6)
	b.run()
	defer b.halt()
	waitFor(t, "transfers committing", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= 30, strconv.Itoa(b.ackedCount())
	})

	// 1. Kill the leader of the current round.
	s0, err := tn.status(0)
	if err != nil {
		t.Fatal(err)
	}
	victim := -1
	for i := range all {
		if s, err := tn.status(i); err == nil && s.NodeID == s0.Leader {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("node0 names leader %q, not one of the nodes", s0.Leader)
	}
	b.setDown(victim, true)
	rest := without(all, victim)
	before := tn.minHeight(rest)
	killed := time.Now()
	tn.procs[victim].kill(t)
	var elapsed time.Duration
	// Eight more blocks take two rotations of leaders, so at least one
	// round past the one the killed node was to lead (or a skip of it by
	// reputation, which needs its failure first).
	waitFor(t, "commits after the leader was killed", 30*time.Second, func() (bool, string) {
		h := tn.minHeight(rest)
		elapsed = time.Since(killed)
		return h >= before+8, fmt.Sprintf("height %d, before %d", h, before)
	})
	t.Logf("commits resumed %s after the leader (node%d) was killed", elapsed.Round(time.Millisecond), victim)
	if limit := bftRoundTimeout + 2*time.Second; elapsed > limit {
		t.Errorf("commits resumed after %s; want within %s", elapsed, limit)
	}
	n := b.ackedCount()
	waitFor(t, "transfers committing with one of four down", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= n+20, strconv.Itoa(b.ackedCount())
	})

	// 2. Kill a second node: no quorum.
	second := rest[0]
	b.setDown(second, true)
	tn.procs[second].kill(t)
	pair := without(rest, second)
	// Blocks certified before the kill may still commit; then nothing may.
	var stuck uint64
	waitFor(t, "the network to stop committing", 30*time.Second, func() (bool, string) {
		h := tn.minHeight(pair)
		time.Sleep(3 * bftRoundTimeout)
		stuck = tn.minHeight(pair)
		return h == stuck && h > 0, fmt.Sprintf("height %d then %d", h, stuck)
	})
	for _, i := range pair {
		waitFor(t, fmt.Sprintf("node%d refusing writes with no quorum", i), 30*time.Second, func() (bool, string) {
			err := submitProbe(tn, i)
			return err != nil && containsAll(err.Error(), "no quorum"), fmt.Sprint(err)
		})
	}
	deadline := time.Now().Add(4 * bftRoundTimeout)
	for time.Now().Before(deadline) {
		for _, i := range pair {
			if s, err := tn.status(i); err == nil && s.Height > stuck {
				t.Fatalf("node%d committed block %d with two of four validators down", i, s.Height)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}

	// 3. Bring both back: it resumes and they catch up.
	tn.start(victim)
	tn.start(second)
	b.setDown(victim, false)
	b.setDown(second, false)
	n = b.ackedCount()
	waitFor(t, "transfers committing after both came back", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= n+20, strconv.Itoa(b.ackedCount())
	})
	b.halt()
	// Empty blocks keep coming, so the nodes are compared up to a height
	// every one of them has reached.
	s, err := tn.status(0)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every node reaching node0's height", 60*time.Second, func() (bool, string) {
		h := tn.minHeight(all)
		return h >= s.Height, fmt.Sprintf("%d of %d", h, s.Height)
	})
	b.check(all)
	tn.sameHashes(all, s.Height)
	t.Logf("%d acknowledged transfers on every node; %d blocks with equal hashes", len(b.acked), s.Height)
}

// sameHashes checks that the nodes hold the same block at every height
// from 1 to top.
func (tn *testNet) sameHashes(nodes []int, top uint64) {
	t := tn.t
	t.Helper()
	ctx := context.Background()
	for h := uint64(1); h <= top; h++ {
		want := ""
		for _, i := range nodes {
			blk, err := sdk.New(tn.url(i)).Block(ctx, h)
			if err != nil {
				t.Fatalf("node%d: block %d: %v", i, h, err)
			}
			if want == "" {
				want = blk.Header.Hash
			} else if blk.Header.Hash != want {
				t.Fatalf("block %d: node%d has %s, node%d has %s", h, i, blk.Header.Hash, nodes[0], want)
			}
		}
	}
}

// checkBFTStatus checks what `accord status -o json` shows of BFT.
func (tn *testNet) checkBFTStatus(i int) {
	t := tn.t
	t.Helper()
	out, _ := cli(t, false, "status", "--node", tn.url(i), "-o", "json")
	var s struct {
		Consensus  string `json:"consensus"`
		Round      uint64 `json:"round"`
		Leader     string `json:"leader"`
		Validators []struct {
			NodeID        string `json:"node_id"`
			LastSeenRound uint64 `json:"last_seen_round"`
		} `json:"validators"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	if s.Consensus != "bft" || s.Round == 0 || s.Leader == "" || len(s.Validators) != len(tn.homes) {
		t.Fatalf("status of a BFT node: %s", out)
	}
	for _, v := range s.Validators {
		if v.NodeID == "" || v.LastSeenRound == 0 {
			t.Fatalf("status: a validator never seen: %s", out)
		}
	}
}

// TestBFTByzantine runs four BFT nodes of which one runs a binary built
// with -tags byzantine and misbehaves, in each mode in turn: the three
// honest nodes keep committing transfers and agree on every block, and an
// equivocation is kept as evidence against the byzantine node.
func TestBFTByzantine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	byz := filepath.Join(t.TempDir(), "accord-byzantine")
	build := exec.Command("go", "build", "-tags", "byzantine", "-o", byz, "../cmd/accord")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags byzantine: %v\n%s", err, out)
	}
	// A normal build has no such flag.
	if _, stderr := cli(t, true, "start", "--home", t.TempDir(), "--byzantine", "silent"); !containsAll(stderr, "byzantine") {
		t.Fatalf("a normal build accepted --byzantine: %s", stderr)
	}
	honest := []int{0, 1, 2}
	for _, mode := range []string{"equivocate", "silent", "bad-votes", "wrong-hash", "stale"} {
		t.Run(mode, func(t *testing.T) {
			tn := newBFTNet(t)
			for _, i := range honest {
				tn.start(i)
			}
			tn.procs[3] = startNodeWith(t, byz, tn.homes[3], tn.url(3), "--byzantine", mode)
			b := newBank(tn, 3)
			b.setDown(3, true)
			b.run()
			defer b.halt()
			waitFor(t, "transfers committing on the honest nodes", 60*time.Second, func() (bool, string) {
				return b.ackedCount() >= 10, strconv.Itoa(b.ackedCount())
			})
			b.halt()
			top := tn.minHeight(honest)
			b.check(honest)
			tn.sameHashes(honest, top)
			if mode == "silent" {
				s, err := sdk.New(tn.url(0)).Status(context.Background())
				if err != nil || len(s.Validators) != 4 || s.Validators[3].LastSeenRound != 0 {
					t.Fatalf("node0 heard from the silent node3: %v %v", s.GetValidators(), err)
				}
			}
			if mode == "equivocate" {
				waitFor(t, "evidence against node3", 30*time.Second, func() (bool, string) {
					out, _ := cli(t, false, "query", "evidence", "--node", tn.url(0), "-o", "json")
					var ev struct {
						Evidence []struct {
							Validator string `json:"validator"`
						} `json:"evidence"`
					}
					if err := json.Unmarshal([]byte(out), &ev); err != nil || len(ev.Evidence) == 0 {
						return false, out
					}
					for _, e := range ev.Evidence {
						if e.Validator != "node3" {
							t.Fatalf("evidence against honest %s: %s", e.Validator, out)
						}
					}
					return true, ""
				})
			}
			t.Logf("%s: %d transfers on the honest nodes, %d blocks with equal hashes", mode, len(b.acked), top)
		})
	}
}
