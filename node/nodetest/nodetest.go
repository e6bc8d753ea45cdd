// Package nodetest runs a node in the test's own process, for tests of the
// packages that talk to one (bench, the CLI). It owns nothing a production
// binary uses.
package nodetest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/node"
)

// Start runs the node in home on a free loopback port until the test ends
// and returns its API URL. adjust, if not nil, changes the config first.
func Start(t testing.TB, home string, adjust func(*config.Node)) string {
	t.Helper()
	cfg, err := config.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API = "127.0.0.1:0" // init takes a fixed port; let the kernel pick one
	if adjust != nil {
		adjust(&cfg)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, config.File), b, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, func(addr string) { ready <- addr }) }()
	var url string
	select {
	case addr := <-ready:
		url = "http://" + addr
	case err := <-done:
		cancel()
		n.Close()
		t.Fatalf("node stopped before listening: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("closing the node: %v", err)
		}
	})
	return url
}
