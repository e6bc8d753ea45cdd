package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestContractWalkthrough runs docs/contracts.md's counter walkthrough on
// a dev chain: build, install, call, query, list, show, freeze, unfreeze,
// upgrade and revoke.
func TestContractWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and builds a contract")
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "dev")
	port := freePort(t)
	out, errs, done := runBackground(t, "dev", "--home", home, "--base-port", strconv.Itoa(port))
	waitFor(t, "dev to start", func() bool {
		select {
		case code := <-done:
			t.Fatalf("accord dev exited %d: %s", code, errs.String())
		default:
		}
		return strings.Contains(out.String(), "API:")
	})
	node := []string{"--node", "http://127.0.0.1:" + strconv.Itoa(port), "--keys", filepath.Join(home, "keys")}
	wasm := filepath.Join(dir, "counter.wasm")
	ok(t, "contract", "build", "../../examples/contracts/counter", "-o", wasm)
	var tx struct {
		TxID    string          `json:"tx_id"`
		Height  uint64          `json:"height"`
		Status  string          `json:"status"`
		GasUsed uint64          `json:"gas_used"`
		Result  json.RawMessage `json:"result"`
		Events  []struct {
			Contract, Name string
			Data           json.RawMessage
		} `json:"events"`
	}
	ok(t, append([]string{"contract", "install", "counter", wasm, "--from", "admin", "--wait"}, node...)...)
	call := func(by string) {
		t.Helper()
		s := ok(t, append([]string{"contract", "call", "counter", "increment", "--args", `{"by":` + by + `}`, "--from", "admin", "--wait", "-o", "json"}, node...)...)
		if err := json.Unmarshal([]byte(s), &tx); err != nil {
			t.Fatal(err)
		}
	}
	call("3")
	if tx.Status != "ok" || tx.Height == 0 || tx.GasUsed == 0 || compact(tx.Result) != `{"value":3}` || len(tx.TxID) != 64 ||
		len(tx.Events) != 1 || tx.Events[0].Name != "incremented" || !strings.Contains(compact(tx.Events[0].Data), `"by":3`) {
		t.Fatalf("contract call: %+v", tx)
	}
	q := ok(t, append([]string{"contract", "query", "counter", "get", "-o", "json"}, node...)...)
	var qr struct{ Result json.RawMessage }
	if err := json.Unmarshal([]byte(q), &qr); err != nil || compact(qr.Result) != `{"value":3}` {
		t.Fatalf("contract query: %s", q)
	}
	show := func() map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(ok(t, append([]string{"contract", "show", "counter", "-o", "json"}, node...)...)), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := show(); m["name"] != "counter" || m["status"] != "active" || m["version"] != float64(1) || len(m["code_hash"].(string)) != 64 {
		t.Fatalf("contract show: %v", m)
	}
	if l := ok(t, append([]string{"contract", "list"}, node...)...); !strings.HasPrefix(l, "counter ") {
		t.Fatalf("contract list: %q", l)
	}
	ok(t, append([]string{"contract", "freeze", "counter", "--from", "admin", "--wait"}, node...)...)
	wantError(t, "frozen", append([]string{"contract", "call", "counter", "increment", "--args", `{"by":1}`, "--from", "admin", "--wait"}, node...)...)
	ok(t, append([]string{"contract", "unfreeze", "counter", "--from", "admin", "--wait"}, node...)...)
	ok(t, append([]string{"contract", "upgrade", "counter", wasm, "--from", "admin", "--wait"}, node...)...)
	call("2")
	if compact(tx.Result) != `{"value":5}` {
		t.Fatalf("after upgrade increment by 2 = %s; want 5 (state kept)", tx.Result)
	}
	if m := show(); m["version"] != float64(2) {
		t.Fatalf("version after upgrade: %v", m)
	}
	ok(t, append([]string{"contract", "revoke", "counter", "--from", "admin", "--wait"}, node...)...)
	wantError(t, "revoked", append([]string{"contract", "unfreeze", "counter", "--from", "admin", "--wait"}, node...)...)
	if m := show(); m["status"] != "revoked" {
		t.Fatalf("status after revoke: %v", m)
	}
}

func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return string(b)
	}
	return out.String()
}

// TestContractOnPermissionedChain installs counter on a chain of four
// organisations: org1's admin uploads the code and proposes the change
// pinning its hash, org2's and org3's admins vote, and the third vote
// installs it; a client then calls it.
func TestContractOnPermissionedChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and builds a contract")
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
	with := func(args ...string) []string { return append(args, "--keys", res.KeysDir, "--node", url) }
	wasm := filepath.Join(dir, "counter.wasm")
	ok(t, "contract", "build", "../../examples/contracts/counter", "-o", wasm)

	var prop govResult
	out := ok(t, with("contract", "install", "counter", wasm, "--from", "org1-admin", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &prop); err != nil || prop.Status != "ok" || prop.Executed {
		t.Fatalf("contract install on a permissioned chain: %v %s; want a proposal voted by org1, not executed", err, out)
	}
	id := strconv.FormatUint(prop.ID, 10)
	wantError(t, "unknown contract", with("contract", "call", "counter", "increment", "--args", `{"by":1}`, "--from", "org1-client", "--wait")...)
	ok(t, with("gov", "vote", "--id", id, "--from", "org2-admin")...)
	out = ok(t, with("gov", "vote", "--id", id, "--from", "org3-admin", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &prop); err != nil || !prop.Executed {
		t.Fatalf("third vote: %v %s; want the install executed", err, out)
	}
	var tx struct {
		Status string
		Result json.RawMessage
	}
	if err := json.Unmarshal([]byte(ok(t, with("contract", "call", "counter", "increment", "--args", `{"by":4}`, "--from", "org1-client", "--wait", "-o", "json")...)), &tx); err != nil ||
		tx.Status != "ok" || compact(tx.Result) != `{"value":4}` {
		t.Fatalf("call after install: %v %+v", err, tx)
	}
}
