package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/accord-chain/accord/sdk"
)

var bftCatchupBlocks = flag.Int("bft-catchup-blocks", 1500, "blocks a BFT node misses in TestBFTCatchUp (the issue's figure is 10000)")

// setBFT overrides fields of a node's bft config section.
func setBFT(t *testing.T, home string, fields map[string]any) {
	t.Helper()
	path := filepath.Join(home, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	sec, _ := cfg["bft"].(map[string]any)
	if sec == nil {
		sec = map[string]any{}
	}
	for k, v := range fields {
		sec[k] = v
	}
	cfg["bft"] = sec
	b, _ = json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBFTCatchUp: four BFT nodes under a light bank load (a few transfers
// in flight, empty blocks in between with no wait); one is stopped while
// the other three commit -bft-catchup-blocks blocks, far more than peers
// keep to fetch by hash, so it catches up through block sync while they
// keep committing. Then every acknowledged transfer is on every node once,
// balances sum to what was minted, and all nodes agree on every block
// hash.
func TestBFTCatchUp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	tn := newBFTNet(t)
	for _, home := range tn.homes {
		setBFT(t, home, map[string]any{"block_interval": "1ms"})
	}
	tn.startAll()
	all := []int{0, 1, 2, 3}
	waitFor(t, "blocks committing on every node", 60*time.Second, func() (bool, string) {
		return tn.minHeight(all) >= 3, strconv.FormatUint(tn.minHeight(all), 10)
	})
	const lag = 3
	rest := without(all, lag)
	b := newBank(tn, 3)
	b.setDown(lag, true)
	tn.procs[lag].kill(t)
	b.run()
	defer b.halt()

	gap := uint64(*bftCatchupBlocks)
	start := tn.minHeight(rest)
	t0 := time.Now()
	waitFor(t, "the others committing the gap", time.Duration(gap)*100*time.Millisecond+time.Minute, func() (bool, string) {
		h := tn.minHeight(rest)
		return h >= start+gap, fmt.Sprintf("%d of %d", h, start+gap)
	})
	end := tn.minHeight(rest)
	live := float64(end-start) / time.Since(t0).Seconds()
	acked := b.ackedCount()
	if acked == 0 {
		t.Fatal("no transfer committed while the node was down: the load checks nothing")
	}

	tn.start(lag)
	t1 := time.Now()
	waitFor(t, "the stopped node catching up", time.Duration(gap)*10*time.Millisecond+2*time.Minute, func() (bool, string) {
		s, err := tn.status(lag)
		return err == nil && s.Height >= end, stringify(s, err)
	})
	took := time.Since(t1)
	rate := float64(end) / took.Seconds()
	t.Logf("live: %.0f blocks/s with %d transfers acknowledged; the node caught up %d blocks in %s (%.0f blocks/s)",
		live, acked, end, took.Round(100*time.Millisecond), rate)
	// Block sync runs far faster than consensus; the start-up of the
	// process weighs in short runs, so the margin is modest.
	if rate < 2*live {
		t.Errorf("caught up at %.0f blocks/s, less than twice the live %.0f blocks/s", rate, live)
	}

	// It takes part again: transfers sent to it commit too.
	b.setDown(lag, false)
	n := b.ackedCount()
	waitFor(t, "transfers committing with the node back", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= n+10, strconv.Itoa(b.ackedCount())
	})
	b.halt()
	s, err := tn.status(0)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every node reaching node0's height", 60*time.Second, func() (bool, string) {
		h := tn.minHeight(all)
		return h >= s.Height, fmt.Sprintf("%d of %d", h, s.Height)
	})
	b.check(all)
	tn.sameBlockHashes(all, s.Height)
	t.Logf("%d acknowledged transfers on every node; %d blocks with equal hashes", len(b.acked), s.Height)
}

// sameBlockHashes is sameHashes with the requests spread over a few
// goroutines, for long chains.
func (tn *testNet) sameBlockHashes(nodes []int, top uint64) {
	t := tn.t
	t.Helper()
	const workers = 4
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			ctx := context.Background()
			clients := make([]*sdk.Client, len(nodes))
			for k, i := range nodes {
				clients[k] = sdk.New(tn.url(i))
			}
			for h := uint64(1 + w); h <= top; h += workers {
				want := ""
				for k, c := range clients {
					blk, err := c.Block(ctx, h)
					if err != nil {
						errs <- fmt.Errorf("node%d: block %d: %w", nodes[k], h, err)
						return
					}
					if want == "" {
						want = blk.Header.Hash
					} else if blk.Header.Hash != want {
						errs <- fmt.Errorf("block %d: node%d has %s, node%d has %s", h, nodes[k], blk.Header.Hash, nodes[0], want)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
