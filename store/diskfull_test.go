package store

import (
	crand "crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// diskFull fails every write that would take space with ENOSPC while
// armed, as a full volume does; overwriting the record file in place takes
// none.
type diskFull struct {
	armed atomic.Bool
	hits  atomic.Int64
}

func (d *diskFull) String() string { return "diskFull" }

func (d *diskFull) MaybeError(op errorfs.Op) error {
	if !d.armed.Load() || strings.HasSuffix(op.Path, CommittedFile) {
		return nil
	}
	switch op.Kind {
	case errorfs.OpFileWrite, errorfs.OpFileWriteAt, errorfs.OpFilePreallocate:
		d.hits.Add(1)
		return &os.PathError{Op: "write", Path: op.Path, Err: syscall.ENOSPC}
	}
	return nil
}

// TestDiskFullAtOpen reopens a store, whose write-ahead log holds blocks, on
// a disk that is still full. Pebble flushes the log into a table at open;
// the flush fails, and pebble retried it at once, logging each failure,
// forever, while Open never returned. The store must report it through
// Fatal, once, in one line that says what to do.
func TestDiskFullAtOpen(t *testing.T) {
	full := &diskFull{}
	fs := errorfs.Wrap(vfs.NewMem(), full)
	var logged strings.Builder
	fatal := make(chan error, 10)
	opts := Options{Dir: "db", FS: fs, CacheBytes: 8 << 20, Logger: recordLogger{&logged},
		Fatal: func(err error) { fatal <- err }}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	commitRange(t, s, 0, 50)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	full.armed.Store(true)
	opened := make(chan error, 1)
	go func() {
		s, err := Open(opts)
		if err == nil {
			err = s.Close()
		}
		opened <- err
	}()
	select {
	case err := <-fatal:
		if !errors.Is(err, ErrDiskFull) {
			t.Errorf("Fatal(%v); want ErrDiskFull", err)
		}
		msg := err.Error()
		for _, want := range []string{"no space left on device", "free space on its volume"} {
			if !strings.Contains(msg, want) {
				t.Errorf("Fatal message %q does not say %q", msg, want)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("Fatal message is not one line: %q", msg)
		}
	case err := <-opened:
		t.Fatalf("Open on a full disk returned %v without calling Fatal", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("Fatal not called in 30 s on a full disk (%d failed writes, %d bytes logged)", full.hits.Load(), logged.Len())
	}
	// Free the disk, so that pebble's flush, and Open, can finish.
	full.armed.Store(false)
	if err := <-opened; err != nil {
		t.Fatalf("Open after the disk was freed: %v", err)
	}
	if n := len(fatal); n != 0 {
		t.Errorf("Fatal called %d more times; want once", n)
	}
}

// TestCorruptTableIsOneFatalLine flips a byte in the middle of a table of
// block records and reads them. Pebble's default reaction to a checksum
// error is a Fatalf with a stack trace, which crashed the reading
// goroutine; the store must call Fatal with one line naming the file, and
// the read must fail with ErrCorrupt.
func TestCorruptTableIsOneFatalLine(t *testing.T) {
	dir := t.TempDir()
	fatal := make(chan error, 10)
	var logged strings.Builder
	opts := Options{Dir: dir, CacheBytes: 1 << 20, StateCacheEntries: -1, Logger: recordLogger{&logged},
		Fatal: func(err error) { fatal <- err }}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	const last = 20
	for h := uint64(0); h <= last; h++ {
		c := genCommit(h)
		if h > 0 {
			// Incompressible, so that the table is mostly block records.
			c.Block = make([]byte, 32<<10)
			_, _ = crand.Read(c.Block)
		}
		if err := s.CommitBlock(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(ssts) != 1 {
		t.Fatalf("tables %v, want one", ssts)
	}
	b, err := os.ReadFile(ssts[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0xff
	if err := os.WriteFile(ssts[0], b, 0o644); err != nil {
		t.Fatal(err)
	}

	s, err = Open(opts)
	if err != nil {
		t.Fatalf("Open: %v (the damage should be in a block record, which Open does not read)", err)
	}
	defer s.Close()
	var readErr error
	for h := uint64(1); h <= last && readErr == nil; h++ {
		_, readErr = s.BlockByHeight(h)
	}
	if !errors.Is(readErr, ErrCorrupt) {
		t.Fatalf("reading every block gave %v; want ErrCorrupt", readErr)
	}
	select {
	case err := <-fatal:
		msg := err.Error()
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(msg, filepath.Base(ssts[0])) || strings.Contains(msg, "\n") {
			t.Errorf("Fatal(%q); want one line wrapping ErrCorrupt and naming %s", msg, filepath.Base(ssts[0]))
		}
	default:
		t.Fatal("Fatal not called for on-disk corruption")
	}
}

// TestBackgroundFatalfGoesToFatal checks where pebble's Fatalf goes. On a
// background goroutine (a flush failing to write the MANIFEST on a full
// disk) nothing recovers the panic, which crashed the process with a stack
// trace: it must reach Options.Fatal first, in one line. During a commit it
// must only panic, for catchFatal to turn into ErrFailed.
func TestBackgroundFatalfGoesToFatal(t *testing.T) {
	var got []error
	route := &fatalRoute{fatal: onceFatal(func(err error) { got = append(got, err) })}
	var logged strings.Builder
	l := pebbleLogger{recordLogger{&logged}, route}
	fatalf := func() (panicked bool) {
		defer func() { panicked = recover() != nil }()
		l.Fatalf("MANIFEST flush failed: %v", &os.PathError{Op: "write", Path: "db/MANIFEST-000005", Err: syscall.ENOSPC})
		return false
	}

	route.calls.Add(1) // a commit in progress
	if !fatalf() {
		t.Fatal("Fatalf returned during a commit")
	}
	if len(got) != 0 {
		t.Fatalf("Fatal called during a commit: %v", got)
	}
	route.calls.Add(-1)

	if !fatalf() {
		t.Fatal("Fatalf returned in the background")
	}
	if len(got) != 1 {
		t.Fatalf("Fatal called %d times for a background Fatalf; want once", len(got))
	}
	if msg := got[0].Error(); !errors.Is(got[0], ErrFailed) || strings.Contains(msg, "\n") || !strings.Contains(msg, "no space left on device") {
		t.Errorf("Fatal(%q); want one line wrapping ErrFailed with pebble's reason", msg)
	}
}
