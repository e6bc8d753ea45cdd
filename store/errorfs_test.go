package store

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// walFault injects errorfs.ErrInjected into one kind of operation on WAL
// files while armed.
type walFault struct {
	armed atomic.Bool
	kinds []errorfs.OpKind
	hits  atomic.Int64
}

func (f *walFault) String() string { return "walFault" }

func (f *walFault) MaybeError(op errorfs.Op) error {
	if !f.armed.Load() || !strings.HasSuffix(op.Path, ".log") {
		return nil
	}
	for _, k := range f.kinds {
		if op.Kind == k {
			f.hits.Add(1)
			return errorfs.ErrInjected
		}
	}
	return nil
}

// TestWALFailure makes the WAL write or fsync of one block fail.
//
// Pebble cannot recover from that in-process: its commit pipeline is wedged
// and the failed batch may already be in the memtable, so it reports the
// error through Logger.Fatalf (its default logger exits the process). The
// store turns that into ErrFailed from CommitBlock. What is guaranteed, and
// checked here: CommitBlock returns an error; nothing of the block becomes
// visible through the Store (reads keep serving the previous tip); all
// further writes fail with ErrFailed; and after reopening, the block is
// either entirely present or entirely absent, and the store can go on.
func TestWALFailure(t *testing.T) {
	cases := []struct {
		name  string
		kinds []errorfs.OpKind
	}{
		{"write", []errorfs.OpKind{errorfs.OpFileWrite, errorfs.OpFileWriteAt}},
		{"sync", []errorfs.OpKind{errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			fault := &walFault{kinds: tc.kinds}
			var logged strings.Builder
			s, err := Open(Options{
				Dir:    "db",
				FS:     errorfs.Wrap(mem, fault),
				Logger: &captureLogger{b: &logged},
			})
			if err != nil {
				t.Fatal(err)
			}
			commitRange(t, s, 0, 5)
			v5 := s.View()
			defer v5.Close()

			fault.armed.Store(true)
			err = s.CommitBlock(genCommit(6))
			fault.armed.Store(false)
			if err == nil {
				t.Fatal("CommitBlock succeeded despite a failing WAL")
			}
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("CommitBlock: %v, want ErrFailed", err)
			}
			t.Logf("CommitBlock: %v (%d injected errors)", err, fault.hits.Load())
			if !strings.Contains(logged.String(), "fatal") {
				t.Errorf("fatal error not logged; log: %q", logged.String())
			}

			// Nothing of block 6 is visible; the store still serves tip 5.
			verifyChain(t, s, 5)
			verifyState(t, v5.Get, 5)
			v := s.View()
			verifyState(t, v.Get, 5)
			v.Close()

			// The failure is sticky.
			if err := s.CommitBlock(genCommit(6)); !errors.Is(err, ErrFailed) {
				t.Fatalf("CommitBlock after failure: %v, want ErrFailed", err)
			}
			if err := s.PutMeta("m", []byte("x")); !errors.Is(err, ErrFailed) {
				t.Fatalf("PutMeta after failure: %v, want ErrFailed", err)
			}
			// Close may report the broken WAL; it must not hang or panic.
			if err := s.Close(); err != nil {
				t.Logf("Close after failure: %v", err)
			}

			// Reopen on the same (now healthy) files: the block is all or
			// nothing.
			s, err = Open(Options{Dir: "db", FS: mem})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			tip := s.Tip().Height
			if tip != 5 && tip != 6 {
				t.Fatalf("tip after reopen = %d, want 5 or 6", tip)
			}
			t.Logf("tip after reopen: %d", tip)
			verifyChain(t, s, tip)
			commitRange(t, s, tip+1, 10)
			verifyChain(t, s, 10)
		})
	}
}

// TestOpenFailure: I/O errors while opening are returned, not fatal.
func TestOpenFailure(t *testing.T) {
	inj := errorfs.ErrInjected.If(errorfs.Writes)
	_, err := Open(Options{Dir: "db", FS: errorfs.Wrap(vfs.NewMem(), inj)})
	if err == nil {
		t.Fatal("Open succeeded on a filesystem that fails every write")
	}
	t.Logf("Open: %v", err)
}

type captureLogger struct{ b *strings.Builder }

func (l *captureLogger) Infof(format string, args ...any) {}
func (l *captureLogger) Errorf(format string, args ...any) {
	l.b.WriteString(format)
	l.b.WriteString("\n")
}
