package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/sdk"
)

// TestBFTValidatorChange runs four BFT nodes under the bank workload and
// adds a fifth with `accord node add`: it starts from genesis, catches up
// through the old epoch and votes in the new one (its last seen round
// advances on the others' status). Then `accord node remove` removes one
// of the first four: it stops, saying so, and the rest keep committing.
// Every node agrees on every block hash, and the bank's invariant holds.
func TestBFTValidatorChange(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	tn := newBFTNet(t)
	tn.startAll()
	first := []int{0, 1, 2, 3}
	waitFor(t, "blocks committing on every node", 60*time.Second, func() (bool, string) {
		return tn.minHeight(first) >= 3, strconv.FormatUint(tn.minHeight(first), 10)
	})
	b := newBank(tn, 4)
	b.run()
	defer b.halt()
	waitFor(t, "transfers committing", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= 10, strconv.Itoa(b.ackedCount())
	})

	api, p2pAddr := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	out, _ := cli(t, false, "node", "add", "--network", tn.dir, "--api", api, "--p2p", p2pAddr, "--node", tn.url(1), "-o", "json")
	var added struct {
		Home    string   `json:"home"`
		ID      uint64   `json:"id"`
		NodeID  string   `json:"node_id"`
		Members []string `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &added); err != nil || added.ID != 5 || added.NodeID != "node4" || len(added.Members) != 5 {
		t.Fatalf("node add -o json: %v %q; want node4 with id 5 and five members", err, out)
	}
	// Its config is a bft one that starts from the genesis validators.
	cfgBytes, err := os.ReadFile(filepath.Join(added.Home, "config.json"))
	if err != nil || !strings.Contains(string(cfgBytes), `"consensus": "bft"`) {
		t.Fatalf("the new node's config: %v\n%s", err, cfgBytes)
	}
	tn.homes = append(tn.homes, added.Home)
	tn.apis = append(tn.apis, api)
	tn.procs = append(tn.procs, nil)
	tn.start(4)
	tn.caughtUp(4, first, 60*time.Second)
	// It takes part: the others see its rounds advance.
	seen := func() uint64 {
		s, err := sdk.New(tn.url(0)).Status(context.Background())
		if err != nil {
			return 0
		}
		for _, v := range s.Validators {
			if v.NodeId == "node4" {
				return v.LastSeenRound
			}
		}
		return 0
	}
	r0 := seen()
	waitFor(t, "node4's last seen round advancing on node0", 30*time.Second, func() (bool, string) {
		return seen() > r0+5, fmt.Sprint(seen())
	})

	// Remove node3 (Raft id 4), the workload kept off it.
	b.setDown(3, true)
	out, _ = cli(t, false, "node", "remove", "--network", tn.dir, "--id", "4", "--node", tn.url(0), "-o", "json")
	if !strings.Contains(out, `"removed": 4`) {
		t.Fatalf("node remove -o json: %s", out)
	}
	select {
	case <-tn.procs[3].done:
	case <-time.After(60 * time.Second):
		t.Fatal("the removed node did not stop")
	}
	if log := tn.procs[3].log.String(); !strings.Contains(log, "removed this node from the validator set") {
		t.Fatalf("the removed node's log does not say it was removed:\n%s", log)
	}
	rest := []int{0, 1, 2, 4}
	n := b.ackedCount()
	waitFor(t, "transfers committing after the removal", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= n+20, strconv.Itoa(b.ackedCount())
	})
	b.halt()
	top := tn.converged(rest, 60*time.Second)
	tn.sameHashes(rest, top.Height)
	b.check(rest)
	s, err := sdk.New(tn.url(0)).Status(context.Background())
	if err != nil || len(s.Validators) != 4 || len(s.Members) != 4 {
		t.Fatalf("status after the removal: %v %+v", err, s)
	}
}
