package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/node"
	"github.com/accord-chain/accord/p2p"
)

// TestStatusOverMemberTLS: `accord status` reaches a node that serves
// members only with --tls-ca and --as, and is refused without --as.
func TestStatusOverMemberTLS(t *testing.T) {
	home := t.TempDir()
	if code, _, errs := run(t, "init", "--home", home, "--orgs", "2", "--crypto", "sm2", "--chain-id", "city"); code != 0 {
		t.Fatalf("init --orgs: %s", errs)
	}
	// The network CA and node certificate that init --nodes N makes.
	now := time.Now()
	caPEM, caKey, err := p2p.NewCA("city network CA", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(provision.NetworkDir(home), "ca.pem")
	if err := os.MkdirAll(provision.NetworkDir(home), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(provision.NetworkDir(home), "ca.key"), caKey, 0o600); err != nil {
		t.Fatal(err)
	}
	nodeHome := provision.NodeHome(home, 0)
	if err := provision.IssueNodeTLS(home, nodeHome, "node0", now); err != nil {
		t.Fatal(err)
	}
	n, err := node.OpenWith(nodeHome, slog.New(slog.NewTextHandler(io.Discard, nil)), func(c *config.Node) {
		c.API = "127.0.0.1:0"
		c.APITLS = &config.APITLS{ClientAuth: config.ClientAuthMember}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, func(a string) { addr <- a }) }()
	defer func() {
		cancel()
		<-done
	}()
	var url string
	select {
	case a := <-addr:
		url = "https://" + a
	case err := <-done:
		t.Fatalf("node stopped: %v", err)
	}
	keys := filepath.Join(home, "keys")

	code, out, errs := run(t, "status", "--node", url, "--tls-ca", caFile, "--as", "org1-client", "--keys", keys, "-o", "json")
	if code != 0 || !strings.Contains(out, `"chain_id": "city"`) {
		t.Fatalf("status as org1-client over TLS: exit %d, %s %s", code, out, errs)
	}
	if code, out, errs := run(t, "query", "block", "latest", "--node", url, "--tls-ca", caFile, "--as", "org2-admin", "--keys", keys); code != 0 {
		t.Fatalf("query block as org2-admin over TLS: exit %d, %s %s", code, out, errs)
	}
	wantError(t, "unauthenticated", "status", "--node", url, "--tls-ca", caFile)
	wantError(t, "no certificate", "status", "--node", url, "--tls-ca", caFile, "--as", "admin", "--keys", keys)
	wantError(t, "need an https:// --node", "status", "--node", "http://127.0.0.1:1", "--tls-ca", caFile)
	wantError(t, "apply to commands that take --node", "keys", "list", "--as", "org1-client", "--keys", keys)
}
