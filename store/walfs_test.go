package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// diskUse is the space dir's files take on disk (allocated blocks, which
// is what fills a volume), not their sizes.
func diskUse(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// TestFreshStoreDiskUse checks that a store with a few small blocks takes
// a few megabytes of disk. Pebble preallocated its write-ahead log to 110%
// of the 128 MiB memtable, 141 MiB before the first block.
func TestFreshStoreDiskUse(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, CacheBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	commitRange(t, s, 0, 30)
	if use := diskUse(t, dir); use > 16<<20 {
		t.Fatalf("a store of 31 small blocks takes %d MiB of disk; want at most 16", use>>20)
	}
}
