package raft

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
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

// diskFull fails every write that would take space with ENOSPC while armed.
type diskFull struct{ armed atomic.Bool }

func (d *diskFull) String() string { return "diskFull" }

func (d *diskFull) MaybeError(op errorfs.Op) error {
	if !d.armed.Load() {
		return nil
	}
	switch op.Kind {
	case errorfs.OpFileWrite, errorfs.OpFileWriteAt, errorfs.OpFilePreallocate:
		return &os.PathError{Op: "write", Path: op.Path, Err: syscall.ENOSPC}
	}
	return nil
}

// TestLogOnFullDiskExits reopens a Raft log, whose WAL holds entries, on a
// full disk: pebble's flush at open failed and was retried at once,
// forever. The log must exit with one line saying so.
func TestLogOnFullDiskExits(t *testing.T) {
	full := &diskFull{}
	fs := errorfs.Wrap(vfs.NewMem(), full)
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	exited := make(chan int, 10)
	exit := func(code int) { exited <- code }
	st, err := openStorageFS(fs, "raft", log, exit)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := st.db.Set([]byte{'x', byte(i)}, make([]byte, 1000), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.close(); err != nil {
		t.Fatal(err)
	}
	full.armed.Store(true)
	opened := make(chan error, 1)
	go func() {
		st, err := openStorageFS(fs, "raft", log, exit)
		if err == nil {
			err = st.close()
		}
		opened <- err
	}()
	select {
	case code := <-exited:
		if code == 0 {
			t.Errorf("exit code 0 on a full disk")
		}
	case err := <-opened:
		t.Fatalf("open on a full disk returned %v without exiting", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no exit in 30 s on a full disk")
	}
	full.armed.Store(false)
	if err := <-opened; err != nil {
		t.Fatalf("open after the disk was freed: %v", err)
	}
	out := logged.String()
	if n := strings.Count(out, "disk full"); n != 1 || !strings.Contains(out, "free space on its volume") {
		t.Errorf("log %q; want one line saying the disk is full and what to do", out)
	}
}

// TestLogWithoutManifestMarkerRefused deletes the Raft log's manifest
// marker; pebble would open a new, empty log and delete the old tables.
func TestLogWithoutManifestMarkerRefused(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := openStorage(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := st.db.Set([]byte{'x', byte(i)}, make([]byte, 100), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.db.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = st.close()
	markers, _ := filepath.Glob(filepath.Join(dir, "marker.manifest.*"))
	if len(markers) != 1 {
		t.Fatalf("markers %v, want one", markers)
	}
	if err := os.Remove(markers[0]); err != nil {
		t.Fatal(err)
	}
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("no table to lose")
	}
	if st, err := openStorage(dir, log); err == nil || !strings.Contains(err.Error(), "marker.manifest") {
		if err == nil {
			_ = st.close()
		}
		t.Fatalf("open without the manifest marker: %v; want an error naming it", err)
	}
	for _, p := range ssts {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("table %s is gone: %v", p, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for pebble's goroutines to log into.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// TestLogWriteFailureExits fails a WAL write of the Raft log, as a full
// disk does. Pebble calls Fatalf, which panicked with a stack trace; it
// must log one line and exit.
func TestLogWriteFailureExits(t *testing.T) {
	full := &diskFull{}
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	exited := make(chan int, 10)
	st, err := openStorageFS(errorfs.Wrap(vfs.NewMem(), full), "raft", log, func(code int) { exited <- code })
	if err != nil {
		t.Fatal(err)
	}
	full.armed.Store(true)
	func() {
		defer func() { _ = recover() }() // what follows a test's exit
		_ = st.db.Set([]byte("x"), make([]byte, 100), pebble.Sync)
	}()
	select {
	case code := <-exited:
		if code != 1 {
			t.Errorf("exit(%d), want 1", code)
		}
	default:
		t.Fatal("a failed WAL write did not exit")
	}
	out := logged.String()
	if n := strings.Count(out, "\n"); n != 1 || !strings.Contains(out, "raft log storage: fatal") || !strings.Contains(out, "no space left on device") {
		t.Errorf("log %q; want one line saying the write failed and why", out)
	}
}
