package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/identity"
)

// TestConsortiumNetwork is the identity issue's network test, through the
// CLI: four organisations with SM2 CAs run one node each (nodes prove
// their consensus certificates to each other); three admins approve a
// fifth organisation and a node of it, which joins the Raft network and
// catches up; a client of the new organisation transacts; a revoked
// client is refused on every node.
func TestConsortiumNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	tn := newTestNet(t, 4, "--orgs", "4", "--crypto", "sm2")
	tn.startAll()
	all := []int{0, 1, 2, 3}
	tn.leader(all, 60*time.Second)
	keys := tn.keys
	run := func(wantFail bool, args ...string) (string, string) {
		t.Helper()
		return cli(t, wantFail, append(args, "--keys", keys)...)
	}
	addr := func(key string) string {
		out, _ := run(false, "keys", "show", key, "--address")
		return strings.TrimSpace(out)
	}
	status := func(out string) string {
		var r struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return r.Status
	}

	// Minting is org1's admins' by policy; the client of org1 pays.
	out, _ := run(false, "tx", "mint", "--from", "org1-admin", "--to", addr("org1-client"), "--amount", "1000", "--wait", "--node", tn.url(1), "-o", "json")
	if status(out) != "ok" {
		t.Fatalf("mint by org1's admin: %s", out)
	}
	_, stderr := run(true, "tx", "mint", "--from", "org2-admin", "--to", addr("org2-client"), "--amount", "1", "--node", tn.url(2))
	if !strings.Contains(stderr, "policy") {
		t.Fatalf("mint by org2's admin: %q, want a policy refusal", stderr)
	}

	// A fifth organisation: its CA, then an add_org change that needs a
	// majority of the four (three admins).
	org5 := filepath.Join(tn.dir, "orgs", "org5")
	cli(t, false, "cert", "ca", "--org", "org5", "--dir", org5, "--crypto", "sm2")
	propose := func(change string, extra ...string) string {
		t.Helper()
		args := append([]string{"gov", "propose", "--change", change, "--from", "org1-admin", "--node", tn.url(0), "-o", "json"}, extra...)
		out, _ := run(false, args...)
		var p struct {
			ID uint64 `json:"id"`
		}
		if err := json.Unmarshal([]byte(out), &p); err != nil || p.ID == 0 {
			t.Fatalf("gov propose: %v %s", err, out)
		}
		return strconv.FormatUint(p.ID, 10)
	}
	approve := func(id string) {
		t.Helper()
		run(false, "gov", "vote", "--id", id, "--from", "org2-admin", "--node", tn.url(2))
		show, _ := cli(t, false, "gov", "show", "--id", id, "--node", tn.url(3), "-o", "json")
		if strings.Contains(show, `"executed"`) {
			t.Fatalf("proposal %s executed with two of four organisations: %s", id, show)
		}
		run(false, "gov", "vote", "--id", id, "--from", "org3-admin", "--node", tn.url(3))
		waitFor(t, "proposal "+id+" executed", 30*time.Second, func() (bool, string) {
			show, _ := cli(t, false, "gov", "show", "--id", id, "--node", tn.url(0), "-o", "json")
			return strings.Contains(show, `"executed"`), show
		})
	}
	approve(propose(`{"kind":"add_org","org":"org5","scheme":"sm2"}`, "--ca", filepath.Join(org5, "ca.pem")))

	// A node of org5: prepared, certified by org5's CA, refused until
	// governance lists it, then admitted.
	api, p2pAddr := "127.0.0.1:"+strconv.Itoa(freePort(t)), "127.0.0.1:"+strconv.Itoa(freePort(t))
	out, _ = cli(t, false, "node", "add", "--network", tn.dir, "--api", api, "--p2p", p2pAddr, "--prepare", "-o", "json")
	var prep struct {
		Home   string `json:"home"`
		NodeID string `json:"node_id"`
	}
	if err := json.Unmarshal([]byte(out), &prep); err != nil || prep.NodeID != "node4" {
		t.Fatalf("node add --prepare: %v %s", err, out)
	}
	cli(t, false, "cert", "issue", "--org", org5, "--name", "node4", "--role", "consensus", "--keys", prep.Home, "--key", "node_key")
	_, stderr = cli(t, true, "node", "add", "--network", tn.dir, "--home", prep.Home, "--node", tn.url(0))
	if !strings.Contains(stderr, "not approved by governance") {
		t.Fatalf("admitting a node governance has not listed: %q", stderr)
	}
	approve(propose(fmt.Sprintf(`{"kind":"add_node","node":{"id":"node4","org":"org5","addr":%q}}`, p2pAddr)))
	out, _ = cli(t, false, "node", "add", "--network", tn.dir, "--home", prep.Home, "--node", tn.url(0), "-o", "json")
	if !strings.Contains(out, `"node4"`) {
		t.Fatalf("node add --home: %s", out)
	}
	tn.homes = append(tn.homes, prep.Home)
	tn.apis = append(tn.apis, api)
	tn.procs = append(tn.procs, nil)
	tn.start(4)
	all = append(all, 4)
	tn.caughtUp(4, []int{0, 1, 2, 3}, 60*time.Second)

	// A client of org5 transacts through org5's node.
	run(false, "cert", "issue", "--org", org5, "--name", "org5-client", "--role", "client")
	out, _ = run(false, "tx", "mint", "--from", "org1-admin", "--to", addr("org5-client"), "--amount", "50", "--wait", "--node", tn.url(0), "-o", "json")
	if status(out) != "ok" {
		t.Fatalf("mint to org5's client: %s", out)
	}
	// node4 admits against its own committed state: let it see the mint.
	var minted struct {
		Height uint64 `json:"height"`
	}
	json.Unmarshal([]byte(out), &minted)
	waitFor(t, "node4 committing the mint", 30*time.Second, func() (bool, string) {
		s, err := tn.status(4)
		return err == nil && s.Height >= minted.Height, stringify(s, err)
	})
	out, _ = run(false, "tx", "transfer", "--from", "org5-client", "--to", addr("org1-client"), "--amount", "5", "--wait", "--node", tn.url(4), "-o", "json")
	if status(out) != "ok" {
		t.Fatalf("transfer by org5's client through node4: %s", out)
	}

	// Revoke org1's client: refused on every node.
	pemBytes, err := os.ReadFile(filepath.Join(keys, "org1-client.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := identity.ParseCertPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	run(false, "cert", "revoke", "--org", "org1", "--serial", cert.Serial, "--from", "org1-admin", "--node", tn.url(1))
	for _, i := range all {
		waitFor(t, fmt.Sprintf("node%d refusing the revoked client", i), 30*time.Second, func() (bool, string) {
			_, stderr := run(true, "tx", "transfer", "--from", "org1-client", "--to", addr("org5-client"), "--amount", "1", "--node", tn.url(i))
			return strings.Contains(stderr, "revoked"), stderr
		})
	}
	tn.converged(all, 60*time.Second)
}
