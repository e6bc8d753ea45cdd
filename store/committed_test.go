package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// paddedCommit is genCommit(h) with a 1 KiB block, so that a few dozen
// blocks fill the write-ahead log past its first 32 KiB block.
func paddedCommit(h uint64) *BlockCommit {
	c := genCommit(h)
	if h > 0 {
		c.Block = append(c.Block, bytes.Repeat([]byte{byte(h)}, 1024)...)
	}
	return c
}

// newestWAL returns the path of the highest-numbered pebble WAL in dir.
func newestWAL(t *testing.T, dir string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no WAL in %s (%v)", dir, err)
	}
	slices.Sort(logs) // zero-padded numbers
	return logs[len(logs)-1]
}

// TestDamagedWALRefused commits blocks, damages the newest write-ahead log
// the ways a disk or an operator does, and reopens. Pebble treats a damaged
// WAL tail as the end of the log and opens at a lower height; the store
// must refuse that (ErrRolledBack) with an error that says what was lost,
// and must open it only when told the blocks are fetched again (Refetch).
func TestDamagedWALRefused(t *testing.T) {
	const last = 120
	damages := []struct {
		name string
		do   func(t *testing.T, wal string, size int64)
	}{
		{"flip", func(t *testing.T, wal string, size int64) {
			b, err := os.ReadFile(wal)
			if err != nil {
				t.Fatal(err)
			}
			off := 40 << 10 // past the first 32 KiB block of the log
			b[off] ^= 0x5a
			if err := os.WriteFile(wal, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"zero-tail", func(t *testing.T, wal string, size int64) {
			f, err := os.OpenFile(wal, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(make([]byte, size/2), size-size/2); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncate", func(t *testing.T, wal string, size int64) {
			if err := os.Truncate(wal, size/2); err != nil {
				t.Fatal(err)
			}
		}},
		{"delete", func(t *testing.T, wal string, size int64) {
			if err := os.Remove(wal); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Options{Dir: dir, CacheBytes: 8 << 20})
			if err != nil {
				t.Fatal(err)
			}
			for h := uint64(0); h <= last; h++ {
				if err := s.CommitBlock(paddedCommit(h)); err != nil {
					t.Fatalf("CommitBlock(%d): %v", h, err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			wal := newestWAL(t, dir)
			st, err := os.Stat(wal)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() < 64<<10 {
				t.Fatalf("WAL %s holds %d bytes; the test needs more than 64 KiB", wal, st.Size())
			}
			d.do(t, wal, st.Size())

			s, err = Open(Options{Dir: dir, CacheBytes: 8 << 20})
			if err == nil {
				tip := s.Tip()
				_ = s.Close()
				t.Fatalf("Open after damaging the WAL succeeded at height %d (empty %v); want ErrRolledBack, %d blocks were committed", tip.Height, tip.Empty, last)
			}
			if !errors.Is(err, ErrRolledBack) {
				t.Fatalf("Open: %v; want ErrRolledBack", err)
			}
			for _, want := range []string{"had committed up to height 120", "restore the data directory from a backup"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}

			// A Raft node gets the blocks back from its log or its peers.
			var logged strings.Builder
			s, err = Open(Options{Dir: dir, CacheBytes: 8 << 20, Refetch: true, Logger: recordLogger{&logged}})
			if err != nil {
				t.Fatalf("Open with Refetch: %v", err)
			}
			defer s.Close()
			tip := s.Tip()
			if !tip.Empty && tip.Height >= last {
				t.Fatalf("tip %d after the damage; the test damaged nothing", tip.Height)
			}
			if !strings.Contains(logged.String(), "had committed up to height 120") {
				t.Errorf("Refetch open logged %q; want what was lost", logged.String())
			}
			next := uint64(0)
			if !tip.Empty {
				next = tip.Height + 1
			}
			commitRange(t, s, next, last)
			if got := s.Tip().Height; got != last {
				t.Fatalf("tip %d after re-committing, want %d", got, last)
			}
		})
	}
}

// recordLogger writes Errorf lines into a builder.
type recordLogger struct{ b *strings.Builder }

func (recordLogger) Infof(string, ...any) {}
func (l recordLogger) Errorf(format string, args ...any) {
	l.b.WriteString(strings.TrimSpace(fmt.Sprintf(format, args...)) + "\n")
}

// TestCommittedRecordLags checks the cases that must open: a record behind
// the tip (unsynced commits, or a crash between a commit and its record),
// a store reopened many times, and a record file of an older store that
// never had one.
func TestCommittedRecordLags(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem)
	commitRange(t, s, 0, 5)
	for h := uint64(6); h <= 9; h++ {
		c := genCommit(h)
		c.Unsynced = true
		if err := s.CommitBlock(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.rec.wait(); err != nil {
		t.Fatal(err)
	}
	if got := s.rec.last.height; got != 5 {
		t.Fatalf("record at height %d after unsynced commits; want 5", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openMem(t, mem)
	if got := s.Tip().Height; got != 9 {
		t.Fatalf("tip %d, want 9", got)
	}
	commitRange(t, s, 10, 12)
	if err := s.rec.wait(); err != nil {
		t.Fatal(err)
	}
	if got := s.rec.last.height; got != 12 {
		t.Fatalf("record at height %d, want 12", got)
	}
	_ = s.Close()

	// A record at genesis, which has no block bytes and so no hash index
	// entry, below the tip.
	gen := vfs.NewMem()
	g := openMem(t, gen)
	commitRange(t, g, 0, 0)
	c := genCommit(1)
	c.Unsynced = true
	if err := g.CommitBlock(c); err != nil {
		t.Fatal(err)
	}
	_ = g.Close()
	g = openMem(t, gen)
	if got := g.Tip().Height; got != 1 {
		t.Fatalf("tip %d over a genesis record, want 1", got)
	}
	_ = g.Close()

	// A store from before the record existed: no file, nothing to check.
	if err := mem.Remove(mem.PathJoin("db", CommittedFile)); err != nil {
		t.Fatal(err)
	}
	s = openMem(t, mem)
	defer s.Close()
	if got := s.Tip().Height; got != 12 {
		t.Fatalf("tip %d, want 12", got)
	}
}

// TestCommittedRecordTornSlot spoils the newest slot of the record (a torn
// write) and checks that the older one still holds.
func TestCommittedRecordTornSlot(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem)
	commitRange(t, s, 0, 7)
	_ = s.rec.wait()
	seq := s.rec.last.seq
	_ = s.Close()
	f, err := mem.OpenReadWrite(mem.PathJoin("db", CommittedFile), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0xff}, int64(seq%2)*committedSlotSpan+20); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	s = openMem(t, mem)
	defer s.Close()
	if got := s.rec.last; got.seq != seq-1 || got.height != 6 {
		t.Fatalf("record %+v after spoiling slot %d; want the previous one (height 6)", got, seq%2)
	}
}

// TestMissingManifestMarkerRefused deletes pebble's manifest marker, which
// pebble takes for a new database (it would then delete every table it
// does not know). Open must refuse before writing anything, and the
// recovery its error describes must work.
func TestMissingManifestMarkerRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, CacheBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	commitRange(t, s, 0, 30)
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	commitRange(t, s, 31, 40)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	markers, _ := filepath.Glob(filepath.Join(dir, "marker.manifest.*"))
	if len(markers) != 1 {
		t.Fatalf("manifest markers %v, want one", markers)
	}
	if err := os.Remove(markers[0]); err != nil {
		t.Fatal(err)
	}
	before := dirListing(t, dir)
	if !slices.ContainsFunc(before, func(n string) bool { return strings.Contains(n, ".sst:") }) {
		t.Fatalf("no sst in %v; the test needs one", before)
	}

	_, err = Open(Options{Dir: dir, CacheBytes: 8 << 20})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "marker.manifest") {
		t.Fatalf("Open without the manifest marker: %v; want ErrCorrupt naming the marker", err)
	}
	if after := dirListing(t, dir); !slices.Equal(after, before) {
		t.Fatalf("Open changed the directory:\nbefore %v\nafter  %v", before, after)
	}

	// The recovery the error describes: a marker naming the newest manifest.
	manifests, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	slices.Sort(manifests)
	newest := filepath.Base(manifests[len(manifests)-1])
	if err := os.WriteFile(filepath.Join(dir, "marker.manifest.000001."+newest), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Options{Dir: dir, CacheBytes: 8 << 20})
	if err != nil {
		t.Fatalf("Open after recreating the marker: %v", err)
	}
	defer s.Close()
	verifyChain(t, s, 40)
}

// dirListing lists dir's files with their sizes, LOCK aside.
func dirListing(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() == "LOCK" {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Name()+":"+strconv.FormatInt(info.Size(), 10))
	}
	return out
}

// TestCommittedRecordOtherBlock checks that a store whose block at the
// record's height is not the one committed there is refused.
func TestCommittedRecordOtherBlock(t *testing.T) {
	mem := vfs.NewMem()
	s := openMem(t, mem)
	commitRange(t, s, 0, 3)
	_ = s.Close()
	rec, err := openCommitted(mem, "db")
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.record(3, testHash("another block")); err != nil {
		t.Fatal(err)
	}
	_ = rec.close()
	_, err = Open(Options{Dir: "db", FS: mem, CacheBytes: 8 << 20})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "was committed there") {
		t.Fatalf("Open with another block at the record's height: %v; want ErrCorrupt", err)
	}
}

// FuzzDecodeCommitted: a slot of the record file, as a damaged disk may
// return it, never panics the decoder, and what it accepts re-encodes to
// the same bytes.
func FuzzDecodeCommitted(f *testing.F) {
	l := &committedLog{}
	l.encode(committed{seq: 7, height: 42, hash: testHash("x")})
	f.Add(slices.Clone(l.buf[:]))
	f.Add(make([]byte, committedSlotLen))
	f.Fuzz(func(t *testing.T, slot []byte) {
		if len(slot) != committedSlotLen {
			return
		}
		c, ok := decodeCommitted(slot)
		if !ok {
			return
		}
		var l committedLog
		l.encode(c)
		if !bytes.Equal(l.buf[:], slot) {
			t.Fatalf("accepted slot %x re-encodes to %x", slot, l.buf[:])
		}
	})
}
