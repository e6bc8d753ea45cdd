package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accord-chain/accord/internal/provision"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// wantError asserts a non-zero exit with one line on stderr containing want.
func wantError(t *testing.T, want string, args ...string) {
	t.Helper()
	code, _, stderr := run(t, args...)
	if code == 0 {
		t.Fatalf("accord %s: exit 0, want failure", strings.Join(args, " "))
	}
	if !strings.HasPrefix(stderr, "error: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("accord %s: stderr %q, want one line containing %q", strings.Join(args, " "), stderr, want)
	}
}

func TestInitAndKeys(t *testing.T) {
	home := t.TempDir()
	code, out, stderr := run(t, "init", "--home", home, "--nodes", "2", "--crypto", "sm2", "--chain-id", "city", "--base-port", "9100", "-o", "json")
	if code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	var res struct {
		ChainID string `json:"chain_id"`
		KeysDir string `json:"keys_dir"`
		Admin   string `json:"admin"`
		Nodes   []struct{ Home, API string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("init -o json: %v: %s", err, out)
	}
	if res.ChainID != "city" || len(res.Admin) != 40 || len(res.Nodes) != 2 ||
		res.Nodes[0].API != "http://127.0.0.1:9100" || res.Nodes[1].API != "http://127.0.0.1:9110" {
		t.Fatalf("init output: %+v", res)
	}
	wantError(t, "already initialised", "init", "--home", home)

	keys := res.KeysDir
	code, out, _ = run(t, "keys", "show", "admin", "--keys", keys, "-o", "json")
	var admin struct{ Name, Address, Scheme string }
	if code != 0 || json.Unmarshal([]byte(out), &admin) != nil || admin.Address != res.Admin || admin.Scheme != "sm2" {
		t.Fatalf("keys show admin: %q", out)
	}
	if code, out, _ := run(t, "keys", "show", "admin", "--keys", keys, "--address"); code != 0 || out != res.Admin+"\n" {
		t.Fatalf("keys show --address: %q, want the address alone", out)
	}
	for _, s := range []string{"ed25519", "sm2", "p256"} {
		if code, _, stderr := run(t, "keys", "new", "k-"+s, "--crypto", s, "--keys", keys); code != 0 {
			t.Fatalf("keys new --crypto %s: %s", s, stderr)
		}
	}
	code, out, _ = run(t, "keys", "list", "--keys", keys, "-o", "json")
	var list []struct{ Name, Address, Scheme string }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 4 || list[0].Name != "admin" {
		t.Fatalf("keys list: %q", out)
	}
	wantError(t, "already exists", "keys", "new", "admin", "--keys", keys)
	wantError(t, "no such key", "keys", "show", "nobody", "--keys", keys)
	wantError(t, "bad key name", "keys", "new", "../escape", "--keys", keys)
	wantError(t, "want ed25519, sm2 or p256", "keys", "new", "x", "--crypto", "rsa", "--keys", keys)
}

func TestBadInputFailsBeforeTheNetwork(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	// An unreachable node: every case must fail on its input first.
	node := "http://127.0.0.1:1"
	addr := strings.Repeat("ab", 20)
	wantError(t, "must not be negative", "tx", "transfer", "--from", "a", "--to", addr, "--amount", "-5", "--node", node, "--keys", keys)
	wantError(t, "whole number", "tx", "transfer", "--from", "a", "--to", addr, "--amount", "ten", "--node", node, "--keys", keys)
	wantError(t, "whole number", "tx", "transfer", "--from", "a", "--to", addr, "--amount", "1.5", "--node", node, "--keys", keys)
	wantError(t, "greater than zero", "tx", "mint", "--to", addr, "--amount", "0", "--node", node, "--keys", keys)
	wantError(t, "larger than", "tx", "mint", "--to", addr, "--amount", "99999999999999999999999", "--node", node, "--keys", keys)
	wantError(t, "malformed address", "tx", "transfer", "--from", "a", "--to", "0xnothex", "--amount", "5", "--node", node, "--keys", keys)
	wantError(t, "no such key", "tx", "transfer", "--from", "nobody", "--to", addr, "--amount", "5", "--node", node, "--keys", keys)
	wantError(t, "malformed address", "query", "account", "abc", "--node", node)
	wantError(t, "malformed hash", "query", "tx", "abc", "--node", node)
	wantError(t, "want a height", "query", "block", "tip", "--node", node)
	wantError(t, "want a height", "query", "block", "0", "--node", node)
	wantError(t, "want text or json", "status", "-o", "yaml", "--node", node)
	wantError(t, "cannot reach node", "status", "--node", node)
}

func TestInitOrgsAndCertIssue(t *testing.T) {
	home := t.TempDir()
	if code, _, errs := run(t, "init", "--home", home, "--orgs", "2", "-o", "json"); code != 0 {
		t.Fatalf("init --orgs: %s", errs)
	}
	keys := filepath.Join(home, "keys")
	for _, f := range []string{"orgs/org1/ca.pem", "orgs/org2/ca.key", "keys/org1-admin.pem", "keys/org2-client.json"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Errorf("init --orgs made no %s: %v", f, err)
		}
	}
	code, out, errs := run(t, "cert", "issue", "--org", filepath.Join(home, "orgs", "org2"), "--name", "shop", "--keys", keys, "-o", "json")
	if code != 0 || !strings.Contains(out, `"serial": "4"`) || !strings.Contains(out, `"org": "org2"`) {
		t.Fatalf("cert issue: %d %s %s", code, out, errs)
	}
	wantError(t, "already has a certificate", "cert", "issue", "--org", filepath.Join(home, "orgs", "org2"), "--name", "shop", "--keys", keys)
	wantError(t, "--orgs needs --crypto sm2 or p256", "init", "--home", t.TempDir(), "--orgs", "2", "--crypto", "ed25519")
	wantError(t, "--change", "gov", "propose", "--change", "{", "--from", "org1-admin", "--keys", keys)
	wantError(t, "bad change", "gov", "propose", "--change", `{"kind":"freeze"}`, "--from", "org1-admin", "--keys", keys)
	wantError(t, "--serial", "cert", "revoke", "--org", "org1", "--serial", "\xff", "--from", "org1-admin", "--keys", keys)
	wantError(t, "--org", "cert", "revoke", "--org", "org\xff", "--serial", "3", "--from", "org1-admin", "--keys", keys)
}

// TestProvisioningErrorsNameFlags checks that what provisioning refuses
// reaches the user in terms of the flags they typed, not of the fields
// of provision's options.
func TestProvisioningErrorsNameFlags(t *testing.T) {
	home := t.TempDir()
	wantError(t, "--nodes must be 1 to 64, not 65", "init", "--home", home, "--nodes", "65")
	wantError(t, "--base-port 65500 leaves no room for 4 nodes", "init", "--home", home, "--nodes", "4", "--base-port", "65500")
	wantError(t, `--identity "badge" is not cert or key`, "init", "--home", home, "--orgs", "1", "--identity", "badge")
	wantError(t, "--orgs must be 0 (an open chain) to 64, not 65", "testnet", "--home", home, "--orgs", "65")
	if code, _, errs := run(t, "init", "--home", home, "--nodes", "2", "--base-port", "9200"); code != 0 {
		t.Fatalf("init --nodes 2: %s", errs)
	}
	// node add takes the member list and the highest Raft id from a running
	// node, so with none running it stops there, saying so.
	wantError(t, "reading the member list: cannot reach node at http://127.0.0.1:9200", "node", "add", "--network", home, "--id", "2", "--prepare")
	for field, want := range map[string]string{"JoinOptions.ID": "--id 2 is already a member", "JoinOptions.API": "--api \"nohost\" is not HOST:PORT"} {
		msg := strings.TrimPrefix(want, joinFlags[field]+" ")
		if got := withFlag(&provision.FieldError{Field: field, Msg: msg}, joinFlags).Error(); got != want {
			t.Errorf("%s error restated as %q, want %q", field, got, want)
		}
	}
	wantError(t, "accord node add --prepare makes one", "node", "add", "--network", home, "--home", filepath.Join(home, "node0"))
	wantError(t, "`accord init --orgs` makes organisation folders", "cert", "issue", "--org", home, "--name", "shop", "--key", "admin", "--keys", filepath.Join(home, "keys"))
}
