package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/accord-chain/accord/contracts/governance/govcall"
)

// TestSignOnlyAndSend: a transaction signed with --sign-only on a machine
// that reaches no node, carried as a file, is sent with `tx send`.
func TestSignOnlyAndSend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	var res struct {
		KeysDir string `json:"keys_dir"`
		Nodes   []struct{ Home string }
	}
	if err := json.Unmarshal([]byte(ok(t, "init", "--home", net, "-o", "json")), &res); err != nil {
		t.Fatal(err)
	}
	url := startNode(t, res.Nodes[0].Home)
	keys := res.KeysDir
	ok(t, "keys", "new", "alice", "--keys", keys)
	alice := strings.TrimSpace(ok(t, "keys", "show", "alice", "--keys", keys, "--address"))
	offline := []string{"--node", "http://127.0.0.1:1", "--keys", keys}

	// Offline: no node is asked when --chain-id and --nonce are given.
	out := ok(t, append([]string{"tx", "mint", "--to", alice, "--amount", "50", "--sign-only", "--chain-id", "accord-dev", "--nonce", "0"}, offline...)...)
	var st signedTx
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.ChainID != "accord-dev" || st.Nonce != 0 || st.Method != "mint" || st.Tx == "" || len(st.TxID) != 64 {
		t.Fatalf("tx mint --sign-only: %v %s", err, out)
	}
	file := filepath.Join(dir, "tx.json")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	var sent txResult
	if err := json.Unmarshal([]byte(ok(t, "tx", "send", file, "--wait", "--node", url, "-o", "json")), &sent); err != nil || sent.Status != "ok" || sent.TxID != st.TxID {
		t.Fatalf("tx send --wait: %v %+v, want %s ok", err, sent, st.TxID)
	}
	if out := ok(t, "query", "account", alice, "--node", url); !strings.Contains(out, "balance: 50\n") {
		t.Fatalf("alice after the sent mint: %q, want balance 50", out)
	}

	// Online sign-only takes the chain and nonce from the node.
	out = ok(t, "tx", "transfer", "--from", "alice", "--to", alice, "--amount", "5", "--sign-only", "--node", url, "--keys", keys)
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Nonce != 0 || st.Sender != alice {
		t.Fatalf("tx transfer --sign-only with a node: %v %s", err, out)
	}

	// A file altered, or signed for another chain, is refused before sending.
	altered := strings.Replace(out, st.TxID, strings.Repeat("0", 64), 1)
	if err := os.WriteFile(file, []byte(altered), 0o600); err != nil {
		t.Fatal(err)
	}
	wantError(t, "altered", "tx", "send", file, "--node", url)
	other := ok(t, append([]string{"tx", "mint", "--to", alice, "--amount", "1", "--sign-only", "--chain-id", "elsewhere", "--nonce", "1"}, offline...)...)
	if err := os.WriteFile(file, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	wantError(t, `signed for chain "elsewhere"`, "tx", "send", file, "--node", url)
	wantError(t, "apply only with --sign-only", append([]string{"tx", "mint", "--to", alice, "--amount", "1", "--nonce", "3"}, offline...)...)
	wantError(t, "accord tx send FILE --wait", append([]string{"tx", "mint", "--to", alice, "--amount", "1", "--sign-only", "--wait"}, offline...)...)
	wantError(t, "offline, give --chain-id and --nonce", append([]string{"tx", "mint", "--to", alice, "--amount", "1", "--sign-only"}, offline...)...)
}

// TestGovEndorsePicksID: the first offline endorsement picks a fresh id
// of at least 2^63 and says so; the other endorsers use it; the change
// applies.
func TestGovEndorsePicksID(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	net := filepath.Join(t.TempDir(), "net")
	var res struct {
		KeysDir string `json:"keys_dir"`
		Nodes   []struct{ Home string }
	}
	if err := json.Unmarshal([]byte(ok(t, "init", "--home", net, "--orgs", "3", "-o", "json")), &res); err != nil {
		t.Fatal(err)
	}
	url := startNode(t, res.Nodes[0].Home)
	k := []string{"--keys", res.KeysDir, "--node", url}
	frozen := strings.Repeat("ab", 20)
	change := `{"kind":"freeze","address":"` + frozen + `"}`

	code, out, errs := run(t, append([]string{"gov", "endorse", "--change", change, "--from", "org1-admin"}, k...)...)
	m := regexp.MustCompile(`picked change id (\d+)`).FindStringSubmatch(errs)
	if code != 0 || m == nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("gov endorse without --id: exit %d, stdout %q, stderr %q; want the endorsement alone on stdout and the picked id on stderr", code, out, errs)
	}
	id, _ := strconv.ParseUint(m[1], 10, 64)
	if id < govcall.OfflineIDBase {
		t.Fatalf("picked id %d, want at least 2^63", id)
	}
	var second struct {
		Endorsement string `json:"endorsement"`
		ID          uint64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(ok(t, append([]string{"gov", "endorse", "--change", change, "--id", m[1], "--from", "org2-admin", "-o", "json"}, k...)...)), &second); err != nil || second.ID != id {
		t.Fatalf("gov endorse --id %d -o json: %v %+v", id, err, second)
	}
	ok(t, append([]string{"gov", "submit", "--change", change, "--id", m[1], "--endorsement", strings.TrimSpace(out), "--endorsement", second.Endorsement, "--from", "org1-admin"}, k...)...)
	var cfg configView
	if err := json.Unmarshal([]byte(ok(t, "query", "config", "--node", url, "-o", "json")), &cfg); err != nil || len(cfg.Frozen) != 1 || cfg.Frozen[0] != frozen {
		t.Fatalf("query config after the offline freeze: %v frozen %v, want %s", err, cfg.Frozen, frozen)
	}
}

// TestGovEndorseHelp: every flag of gov endorse and gov submit shows its
// value's name, not a fragment of its description.
func TestGovEndorseHelp(t *testing.T) {
	out := ok(t, "gov", "endorse", "--help")
	if !regexp.MustCompile(`(?m)^\s+--change JSON\s`).MatchString(out) || !regexp.MustCompile(`(?m)^\s+--id uint\s`).MatchString(out) {
		t.Fatalf("gov endorse --help:\n%s\nwant --change JSON and --id uint", out)
	}
	out = ok(t, "gov", "submit", "--help")
	if !regexp.MustCompile(`(?m)^\s+--endorsement HEX\s`).MatchString(out) {
		t.Fatalf("gov submit --help:\n%s\nwant --endorsement HEX", out)
	}
}
