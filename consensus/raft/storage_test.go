package raft

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestFreshLogDiskUse checks that a new Raft log takes a few megabytes of
// disk: pebble preallocated its write-ahead log to 110% of the 64 MiB
// memtable, 70 MiB before the first entry.
func TestFreshLogDiskUse(t *testing.T) {
	dir := t.TempDir()
	st, err := openStorage(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	// Pebble preallocated at the second write to a WAL.
	for i := range 3 {
		if err := st.db.Set([]byte("test"), []byte{byte(i)}, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	var use int64
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if s, ok := info.Sys().(*syscall.Stat_t); ok {
			use += s.Blocks * 512 // allocated, not the size
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if use > 16<<20 {
		t.Fatalf("a new Raft log takes %d MiB of disk; want at most 16", use>>20)
	}
}
