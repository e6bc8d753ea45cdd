package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	if _, stderr := cli(t, true, "node", "remove", "--network", tn.dir, "--id", "4", "--node", tn.url(3)); !strings.Contains(stderr, "cannot carry its own removal") {
		t.Fatalf("node remove sent to the node removed: %q, want a refusal", stderr)
	}
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

// TestBFTGovernedValidatorChange is the same on a permissioned chain of
// four organisations: a node joins only once governance has listed it
// (add_node), and leaves the validator set, and stops, once governance
// has taken it off (remove_node) and the admin removes it.
func TestBFTGovernedValidatorChange(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	tn := newBFTNet(t, "--orgs", "4")
	tn.startAll()
	first := []int{0, 1, 2, 3}
	waitFor(t, "blocks committing on every node", 60*time.Second, func() (bool, string) {
		return tn.minHeight(first) >= 3, strconv.FormatUint(tn.minHeight(first), 10)
	})
	run := func(wantFail bool, args ...string) (string, string) {
		t.Helper()
		return cli(t, wantFail, append(args, "--keys", tn.keys)...)
	}
	govern := func(change string) {
		t.Helper()
		out, _ := run(false, "gov", "propose", "--change", change, "--from", "org1-admin", "--node", tn.url(0), "-o", "json")
		var p struct {
			ID uint64 `json:"id"`
		}
		if err := json.Unmarshal([]byte(out), &p); err != nil || p.ID == 0 {
			t.Fatalf("gov propose: %v %s", err, out)
		}
		id := strconv.FormatUint(p.ID, 10)
		run(false, "gov", "vote", "--id", id, "--from", "org2-admin", "--node", tn.url(1))
		run(false, "gov", "vote", "--id", id, "--from", "org3-admin", "--node", tn.url(2))
		waitFor(t, "proposal "+id+" executed", 30*time.Second, func() (bool, string) {
			show, _ := cli(t, false, "gov", "show", "--id", id, "--node", tn.url(0), "-o", "json")
			return strings.Contains(show, `"executed"`), show
		})
	}

	api, p2pAddr := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	out, _ := cli(t, false, "node", "add", "--network", tn.dir, "--api", api, "--p2p", p2pAddr, "--prepare", "-o", "json")
	var prep struct {
		Home   string `json:"home"`
		NodeID string `json:"node_id"`
	}
	if err := json.Unmarshal([]byte(out), &prep); err != nil || prep.NodeID != "node4" {
		t.Fatalf("node add --prepare: %v %s", err, out)
	}
	org1 := filepath.Join(tn.dir, "orgs", "org1")
	cli(t, false, "cert", "issue", "--org", org1, "--name", "node4", "--role", "consensus", "--keys", prep.Home, "--key", "node_key")
	_, stderr := cli(t, true, "node", "add", "--network", tn.dir, "--home", prep.Home, "--node", tn.url(0))
	if !strings.Contains(stderr, "not approved by governance") {
		t.Fatalf("admitting a node governance has not listed: %q", stderr)
	}
	govern(fmt.Sprintf(`{"kind":"add_node","node":{"id":"node4","org":"org1","addr":%q}}`, p2pAddr))
	out, _ = cli(t, false, "node", "add", "--network", tn.dir, "--home", prep.Home, "--node", tn.url(0), "-o", "json")
	if !strings.Contains(out, `"node4"`) {
		t.Fatalf("node add --home: %s", out)
	}
	tn.homes = append(tn.homes, prep.Home)
	tn.apis = append(tn.apis, api)
	tn.procs = append(tn.procs, nil)
	tn.start(4)
	tn.caughtUp(4, first, 60*time.Second)
	validators := func(i int) []string {
		s, err := sdk.New(tn.url(i)).Status(context.Background())
		if err != nil {
			return nil
		}
		var out []string
		for _, v := range s.Validators {
			out = append(out, v.NodeId)
		}
		return out
	}
	// node4 switches epoch once its chain has written the block that
	// carries the change, a moment after it reached that height.
	waitFor(t, "node4 in the five-validator epoch", 60*time.Second, func() (bool, string) {
		v := validators(4)
		return len(v) == 5, fmt.Sprint(v)
	})

	// Off the list first, then out of the set.
	_, stderr = cli(t, true, "node", "remove", "--network", tn.dir, "--id", "4", "--node", tn.url(0))
	if !strings.Contains(stderr, "not approved by governance") {
		t.Fatalf("removing a node governance still lists: %q", stderr)
	}
	govern(`{"kind":"remove_node","node":{"id":"node3"}}`)
	out, _ = cli(t, false, "node", "remove", "--network", tn.dir, "--id", "4", "--node", tn.url(0), "-o", "json")
	if !strings.Contains(out, `"removed": 4`) {
		t.Fatalf("node remove -o json: %s", out)
	}
	rest := []int{0, 1, 2, 4}
	select {
	case <-tn.procs[3].done:
	case <-time.After(60 * time.Second):
		t.Fatal("the removed node did not stop")
	}
	if log := tn.procs[3].log.String(); !strings.Contains(log, "removed this node from the validator set") {
		t.Fatalf("the removed node's log does not say it was removed:\n%s", log)
	}
	for _, i := range rest {
		waitFor(t, fmt.Sprintf("node%d's validator set without node3", i), 30*time.Second, func() (bool, string) {
			v := validators(i)
			return len(v) == 4 && !slices.Contains(v, "node3"), fmt.Sprint(v)
		})
	}
	h := tn.minHeight(rest)
	waitFor(t, "blocks committing after the removal", 60*time.Second, func() (bool, string) {
		return tn.minHeight(rest) >= h+5, strconv.FormatUint(tn.minHeight(rest), 10)
	})
	tn.sameHashes(rest, tn.minHeight(rest))
}
