package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that a running command writes while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runBackground runs a long-running command (dev, watch) until the test
// ends, and returns its standard output as it grows.
func runBackground(t *testing.T, args ...string) (stdout, stderr *syncBuffer, done <-chan int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	ch := make(chan int, 1)
	go func() { ch <- RunContext(ctx, args, stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ch:
		case <-time.After(time.Minute):
			t.Errorf("accord %s did not stop within a minute of its context's end", strings.Join(args, " "))
		}
	})
	return stdout, stderr, ch
}

// waitFor polls until cond holds, failing the test after a generous
// deadline with what.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDevBasePort runs `accord dev --base-port P` on a fresh home: the
// chain is made with its API on P, and the node serves there.
func TestDevBasePort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	home := filepath.Join(t.TempDir(), "dev")
	port := freePort(t)
	wantError(t, "--base-port and --api", "dev", "--home", home, "--base-port", strconv.Itoa(port), "--api", "127.0.0.1:1")
	wantError(t, "want a port", "dev", "--home", home, "--base-port", "80")
	out, errs, done := runBackground(t, "dev", "--home", home, "--base-port", strconv.Itoa(port))
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, "dev to report its API", func() bool {
		select {
		case code := <-done:
			t.Fatalf("accord dev exited %d: %s", code, errs.String())
		default:
		}
		return strings.Contains(out.String(), "API:")
	})
	if !strings.Contains(out.String(), "API:       "+url+"\n") {
		t.Fatalf("accord dev --base-port %d printed %q, want its API at %s", port, out.String(), url)
	}
	var st struct {
		ChainID string `json:"chain_id"`
	}
	if err := json.Unmarshal([]byte(ok(t, "status", "--node", url, "-o", "json")), &st); err != nil || st.ChainID != "accord-dev" {
		t.Fatalf("status of the dev node at %s: %v %+v", url, err, st)
	}
	var cfg configView
	if err := json.Unmarshal([]byte(ok(t, "query", "config", "--node", url, "-o", "json")), &cfg); err != nil || cfg.Permissioned || cfg.ChainID != "accord-dev" || len(cfg.Issuer) != 40 {
		t.Fatalf("query config of an open chain: %v %+v, want not permissioned, with its issuer", err, cfg)
	}
}

// TestEnvNodeAndKeys: ACCORD_NODE and ACCORD_KEYS stand in for --node and
// --keys; the flags win.
func TestEnvNodeAndKeys(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	ok(t, "keys", "new", "alice", "--keys", keys)
	t.Setenv(EnvKeys, keys)
	if out := ok(t, "keys", "list"); !strings.HasPrefix(out, "alice ") {
		t.Fatalf("keys list with %s=%s: %q, want alice", EnvKeys, keys, out)
	}
	other := t.TempDir()
	if out := ok(t, "keys", "list", "--keys", other); out != "" {
		t.Fatalf("keys list --keys %s with %s set: %q, want the flag's (empty) folder", other, EnvKeys, out)
	}
	t.Setenv(EnvNode, "http://127.0.0.1:1")
	wantError(t, "cannot reach node at http://127.0.0.1:1", "status")
	// The flag wins over the environment.
	wantError(t, "cannot reach node at http://127.0.0.1:2", "status", "--node", "http://127.0.0.1:2")
}

// TestKeysListWithoutFolder: listing a folder that does not exist says so
// and does not create it.
func TestKeysListWithoutFolder(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "nokeys")
	wantError(t, "no key folder at "+keys, "keys", "list", "--keys", keys)
	wantError(t, "no key folder", "keys", "list", "--keys", keys) // still absent: not created by the first
}

// TestInitOutputNamesWhoMints: on a permissioned chain init does not
// call its admin key the issuer, since that key cannot mint there; it
// names the key that can.
func TestInitOutputNamesWhoMints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	open := ok(t, "init", "--home", filepath.Join(t.TempDir(), "open"))
	if !strings.Contains(open, "admin (issuer): ") {
		t.Fatalf("init of an open chain: %q, want the admin named issuer", open)
	}
	net := filepath.Join(t.TempDir(), "net")
	out := ok(t, "init", "--home", net, "--orgs", "2")
	if strings.Contains(out, "issuer") || !strings.Contains(out, "cannot mint") || !strings.Contains(out, "--from org1-admin") {
		t.Fatalf("init --orgs 2: %q, want the admin key not called issuer and org1-admin named for minting", out)
	}
	url := startNode(t, node0(net))
	keys := filepath.Join(net, "keys")
	to := strings.Repeat("ab", 20)
	code, _, _ := run(t, "tx", "mint", "--from", "admin", "--to", to, "--amount", "1", "--wait", "--keys", keys, "--node", url)
	if code == 0 {
		t.Fatalf("mint by the admin key on a permissioned chain succeeded; init's output says it cannot")
	}
	ok(t, "tx", "mint", "--from", "org1-admin", "--to", to, "--amount", "1", "--wait", "--keys", keys, "--node", url)
}

func node0(net string) string { return filepath.Join(net, "node0") }
