package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/node/nodetest"
)

// startNode runs the node in home in this process and returns its API URL.
func startNode(t *testing.T, home string) string { return nodetest.Start(t, home, nil) }

// ok runs the command, fails the test unless it exits 0 and returns its
// standard output.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := run(t, args...)
	if code != 0 {
		t.Fatalf("accord %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// TestGovOnlineFlow runs the online walkthrough of docs/identity.md through
// the command line against a node in this process: four organisations;
// org5 makes a CA; org1 proposes adding it, org2 and org3 vote, and the
// third vote executes it; org5's member then transacts. A second vote by
// one member, a vote on an executed proposal and a vote after the
// deadline each fail with a one-line error and a non-zero exit.
func TestGovOnlineFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	var res struct {
		KeysDir string `json:"keys_dir"`
		Nodes   []struct{ Home string }
	}
	if err := json.Unmarshal([]byte(ok(t, "init", "--home", net, "--orgs", "4", "-o", "json")), &res); err != nil || len(res.Nodes) != 1 {
		t.Fatalf("init --orgs 4 -o json: %v %+v", err, res)
	}
	url := startNode(t, res.Nodes[0].Home)
	k := []string{"--keys", res.KeysDir, "--node", url}
	with := func(args ...string) []string { return append(args, k...) }
	show := func(id string) string { return ok(t, "gov", "show", "--id", id, "--node", url, "-o", "json") }
	addr := func(key string) string {
		return strings.TrimSpace(ok(t, "keys", "show", key, "--keys", res.KeysDir, "--address"))
	}

	// Minting is org1's by policy.
	ok(t, with("tx", "mint", "--from", "org1-admin", "--to", addr("org1-client"), "--amount", "100", "--wait")...)
	wantError(t, "permission_denied", with("tx", "mint", "--from", "org2-admin", "--to", addr("org2-admin"), "--amount", "1", "--wait")...)

	org5 := filepath.Join(dir, "org5")
	ok(t, "cert", "ca", "--org", "org5", "--dir", org5)
	var prop govResult
	out := ok(t, with("gov", "propose", "--change", `{"kind":"add_org","org":"org5","scheme":"sm2"}`, "--ca", filepath.Join(org5, "ca.pem"), "--from", "org1-admin", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &prop); err != nil || prop.ID != 1 || prop.Status != "ok" || prop.Executed {
		t.Fatalf("gov propose -o json: %v %s, want proposal 1, voted by its proposer, not executed", err, out)
	}
	id := "1"
	ok(t, with("gov", "vote", "--id", id, "--from", "org2-admin")...)
	wantError(t, "already voted", with("gov", "vote", "--id", id, "--from", "org2-admin")...)

	var vote govResult
	out = ok(t, with("gov", "vote", "--id", id, "--from", "org3-admin", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &vote); err != nil || !vote.Executed {
		t.Fatalf("the third organisation's vote: %v %s, want executed", err, out)
	}
	var shown struct {
		ID       uint64 `json:"id"`
		Status   string `json:"status"`
		Votes    int    `json:"votes"`
		Executed uint64 `json:"executed"`
		Change   struct {
			Kind, Org, Scheme string
		} `json:"change"`
	}
	out = show(id)
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.ID != 1 || shown.Status != "executed" || shown.Votes != 3 || shown.Executed != vote.Height {
		t.Fatalf("gov show --id 1: %v %s, want executed at height %d with 3 votes", err, out, vote.Height)
	}
	// The change is shown as the JSON --change reads, whatever its encoding on chain.
	if c := shown.Change; c.Kind != "add_org" || c.Org != "org5" || c.Scheme != "sm2" {
		t.Fatalf("gov show --id 1 shows the change as %+v, want the add_org of org5 (sm2) as JSON", c)
	}
	if strings.Contains(out, "CERTIFICATE") || !strings.Contains(out, `"subject": "ca.org5"`) {
		t.Fatalf("gov show --id 1: %s, want the CA named by subject, serial and hash, not inlined", out)
	}
	if full := ok(t, "gov", "show", "--id", id, "--full", "--node", url); !strings.Contains(full, "BEGIN CERTIFICATE") {
		t.Fatalf("gov show --full: %s, want the CA's PEM", full)
	}
	wantError(t, "proposal closed", with("gov", "vote", "--id", id, "--from", "org4-admin")...)
	wantError(t, "no such proposal", with("gov", "vote", "--id", "9", "--from", "org4-admin")...)

	// org5 issues its member a certificate; the member transacts.
	ok(t, "cert", "issue", "--org", org5, "--name", "shop5", "--keys", res.KeysDir)
	ok(t, with("tx", "transfer", "--from", "org1-client", "--to", addr("shop5"), "--amount", "10", "--wait")...)
	ok(t, with("tx", "transfer", "--from", "shop5", "--to", addr("org1-client"), "--amount", "1", "--wait")...)

	// A proposal whose deadline passes before the vote that would count.
	ttl := 3 * time.Second
	var late govResult
	out = ok(t, with("gov", "propose", "--change", `{"kind":"set_params","params":{"max_block_txs":5000}}`, "--ttl", ttl.String(), "--from", "org1-admin", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &late); err != nil || late.ID != 2 {
		t.Fatalf("gov propose --ttl: %v %s", err, out)
	}
	var p2 struct {
		Deadline int64 `json:"deadline"`
	}
	if err := json.Unmarshal([]byte(show("2")), &p2); err != nil || p2.Deadline == 0 {
		t.Fatalf("gov show --id 2: %v", err)
	}
	// Block times come from this process's clock: once it is past the
	// deadline, so is every later block.
	time.Sleep(time.Until(time.UnixMilli(p2.Deadline + 1)))
	wantError(t, "proposal expired", with("gov", "vote", "--id", "2", "--from", "org2-admin")...)
	out = show("2")
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.Status != "expired" || shown.Votes != 1 {
		t.Fatalf("gov show --id 2 after its deadline: %v %s, want expired with the proposer's vote alone", err, out)
	}
}

// TestGovOfflineFlow runs the offline walkthrough of docs/identity.md:
// three admins endorse freezing an account, one transaction applies it,
// the account can no longer send, and the same id cannot be used again.
func TestGovOfflineFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	net := filepath.Join(t.TempDir(), "net")
	var res struct {
		KeysDir string `json:"keys_dir"`
		Nodes   []struct{ Home string }
	}
	if err := json.Unmarshal([]byte(ok(t, "init", "--home", net, "--orgs", "4", "-o", "json")), &res); err != nil || len(res.Nodes) != 1 {
		t.Fatalf("init --orgs 4 -o json: %v %+v", err, res)
	}
	url := startNode(t, res.Nodes[0].Home)
	with := func(args ...string) []string { return append(args, "--keys", res.KeysDir, "--node", url) }
	target := strings.TrimSpace(ok(t, "keys", "show", "org2-client", "--keys", res.KeysDir, "--address"))
	ok(t, with("tx", "mint", "--from", "org1-admin", "--to", target, "--amount", "5", "--wait")...)

	change := `{"kind":"freeze","address":"` + target + `"}`
	const id = "9223372036854775815"
	submit := with("gov", "submit", "--change", change, "--id", id, "--from", "org4-admin")
	for _, admin := range []string{"org1-admin", "org2-admin", "org3-admin"} {
		var e struct{ Endorsement string }
		out := ok(t, with("gov", "endorse", "--change", change, "--id", id, "--from", admin, "-o", "json")...)
		if err := json.Unmarshal([]byte(out), &e); err != nil || e.Endorsement == "" {
			t.Fatalf("gov endorse -o json: %v %s, want an endorsement", err, out)
		}
		submit = append(submit, "--endorsement", e.Endorsement)
	}
	ok(t, submit...)
	wantError(t, "frozen", with("tx", "transfer", "--from", "org2-client", "--to", target, "--amount", "1", "--wait")...)
	wantError(t, "proposal id already used", submit...)
}
