package store

import (
	"errors"
	"fmt"
	"hash/maphash"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestKeyFilter: every key added is reported, across parts (the first
// part here takes 1,000 keys, so 20,000 keys make five), and few keys that
// were never added are.
func TestKeyFilter(t *testing.T) {
	f := newKeyFilterFirst(maphash.MakeSeed(), 1000)
	const n = 20_000
	for i := range n {
		f.add(fmt.Appendf(nil, "in/%d", i))
	}
	if got := len(*f.parts.Load()); got != 5 {
		t.Errorf("%d parts, want 5 (1k, 2k, 4k, 8k, 16k keys)", got)
	}
	for i := range n {
		if !f.mayContain(fmt.Appendf(nil, "in/%d", i)) {
			t.Fatalf("key %d was added but is reported absent", i)
		}
	}
	fp := 0
	const probes = 100_000
	for i := range probes {
		if f.mayContain(fmt.Appendf(nil, "out/%d", i)) {
			fp++
		}
	}
	// Five parts at 10-20 bits a key, about 1% each.
	if rate := float64(fp) / probes; rate > 0.08 {
		t.Errorf("false positive rate %.3f, want at most 0.08", rate)
	}
	t.Logf("false positives: %d of %d", fp, probes)

	var nilFilter *keyFilter
	nilFilter.add([]byte("x"))
	if !nilFilter.mayContain([]byte("y")) {
		t.Error("a nil filter must say maybe")
	}
}

// TestKeyFilterStore: keys written in blocks read back, through Get with
// and without the state cache and through a View, before and after a
// reopen (which rebuilds the filter from the keys on disk); keys never
// written read as absent; a deleted key stays absent.
func TestKeyFilterStore(t *testing.T) {
	fs := vfs.NewMem()
	open := func(entries int) *Store {
		t.Helper()
		s, err := Open(Options{Dir: "db", FS: fs, CacheBytes: 8 << 20, StateCacheEntries: entries, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open(0)
	commitRange(t, s, 0, 0)
	const blocks, per = 20, 500
	key := func(i int) []byte { return fmt.Appendf(nil, "acct/%d", i) }
	for h := uint64(1); h <= blocks; h++ {
		c := genCommit(h)
		for i := int(h-1) * per; i < int(h)*per; i++ {
			c.Writes = append(c.Writes, Write{Key: key(i), Value: fmt.Appendf(nil, "v%d", i)})
		}
		if h == blocks {
			c.Writes = append(c.Writes, Write{Key: key(0), Delete: true})
		}
		if err := s.CommitBlock(c); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, get func([]byte) ([]byte, error)) {
		t.Helper()
		for i := 0; i < blocks*per+100; i++ {
			v, err := get(key(i))
			switch {
			case i == 0 || i >= blocks*per:
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("%s: key %d: got %q, %v; want ErrNotFound", name, i, v, err)
				}
			case err != nil || string(v) != fmt.Sprintf("v%d", i):
				t.Fatalf("%s: key %d: got %q, %v", name, i, v, err)
			}
		}
	}
	for _, entries := range []int{0, -1} {
		if entries != 0 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(entries)
		}
		check(fmt.Sprintf("cache %d: Get", entries), s.Get)
		v := s.View()
		check(fmt.Sprintf("cache %d: View.Get", entries), v.Get)
		_ = v.Close()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(key(blocks * per)); !errors.Is(err, ErrClosed) {
		t.Errorf("Get of a filtered-out key after Close: %v, want ErrClosed", err)
	}
}
