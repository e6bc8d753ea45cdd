package raft

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLostOrStaleRaftStateRefused restarts a follower whose raft directory
// was rolled back to an older copy, then emptied. Both started (with an
// empty or old term and vote, so the node could vote twice in a term) and
// etcd raft panicked a second later; New must refuse both with
// ErrStateLost and point to rejoining under a new id. An empty log with
// Join set is the restore procedure, which must start.
func TestLostOrStaleRaftStateRefused(t *testing.T) {
	c := newCluster(t, 3, nil)
	lead := c.leader()
	f := c.ids[0]
	if f == lead {
		f = c.ids[1]
	}
	txs := testTxs(t, 200)
	c.submit(txs[:40])
	c.waitCommitted(txs[:40])
	if err := c.stop(f); err != nil {
		t.Fatal(err)
	}
	old := t.TempDir()
	if err := os.CopyFS(old, os.DirFS(c.nodes[f].dir)); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(old, "LOCK"))
	oldHeight, _ := c.nodes[f].app.Durable()

	c.start(f, false)
	c.submit(txs[40:])
	c.waitCommitted(txs)
	if err := c.stop(f); err != nil {
		t.Fatal(err)
	}
	if h, _ := c.nodes[f].app.Durable(); h <= oldHeight {
		t.Fatalf("follower's chain at %d after more blocks, was %d", h, oldHeight)
	}

	newEngine := func(join bool) (*Engine, error) {
		n := c.nodes[f]
		return New(c.config(f, join), n.pool, n.app, c.net.transport(f), []byte{byte(f)}, nil)
	}
	refused := func(what string, wants ...string) {
		t.Helper()
		e, err := newEngine(false)
		if err == nil {
			_ = e.Close()
			t.Fatalf("%s: New succeeded; want ErrStateLost", what)
		}
		if !errors.Is(err, ErrStateLost) {
			t.Fatalf("%s: New: %v; want ErrStateLost", what, err)
		}
		for _, want := range append(wants, "docs/operations.md", "new one") {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not say %q", what, err, want)
			}
		}
	}

	// Rolled back: raft/ from before the last blocks.
	dir := c.nodes[f].dir
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, os.DirFS(old)); err != nil {
		t.Fatal(err)
	}
	refused("rolled-back log", "older than the chain")

	// Lost: raft/ empty.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	refused("lost log", "is empty")

	// Restore under a new id: the same empty log, joining.
	e, err := newEngine(true)
	if err != nil {
		t.Fatalf("New with Join on an empty log: %v", err)
	}
	_ = e.Close()

	// A joining node that lost its log under the id that applied its
	// chain (recorded in IDFile) is refused too; under a new id it may
	// join, and the file then records the new id.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(t.TempDir(), "raft_id")
	if err := os.WriteFile(idFile, []byte(strconv.FormatUint(f, 10)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := c.nodes[f]
	cfg := c.config(f, true)
	cfg.IDFile = idFile
	if e, err := New(cfg, n.pool, n.app, c.net.transport(f), []byte{byte(f)}, nil); !errors.Is(err, ErrStateLost) {
		if e != nil {
			_ = e.Close()
		}
		t.Fatalf("joining under the id that applied the chain, with the log lost: %v; want ErrStateLost", err)
	}
	cfg.ID = 99
	e, err = New(cfg, n.pool, n.app, c.net.transport(f), []byte{byte(f)}, nil)
	if err != nil {
		t.Fatalf("joining under a new id: %v", err)
	}
	_ = e.Close()
	if b, err := os.ReadFile(idFile); err != nil || string(b) != "99\n" {
		t.Fatalf("IDFile after joining as 99: %q %v", b, err)
	}
}
