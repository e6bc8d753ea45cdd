package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestOptions(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if o.CacheBytes != DefaultCacheBytes || o.FS != vfs.Default || o.Logger == nil {
		t.Fatalf("defaults not applied: %+v", o)
	}
	if err := o.Validate(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate without Dir: %v, want ErrInvalid", err)
	}
	o.Dir = "x"
	if err := o.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	o.CacheBytes = -1
	if err := o.Validate(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate negative cache: %v, want ErrInvalid", err)
	}
	if _, err := Open(Options{FS: vfs.NewMem()}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Open without Dir: %v, want ErrInvalid", err)
	}
}

func TestEmptyStore(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	if tip := s.Tip(); tip != (Tip{Empty: true}) {
		t.Fatalf("empty tip = %+v", tip)
	}
	_, err := s.Get(counterKey)
	mustNotFound(t, "Get", err)
	_, err = s.BlockByHeight(0)
	mustNotFound(t, "BlockByHeight", err)
	_, _, err = s.BlockByHash(Hash{})
	mustNotFound(t, "BlockByHash", err)
	_, _, err = s.TxLocation(Hash{})
	mustNotFound(t, "TxLocation", err)
	_, err = s.Receipt(0, 0)
	mustNotFound(t, "Receipt", err)
	_, err = s.Receipts(0)
	mustNotFound(t, "Receipts", err)
	_, err = s.Meta("genesis")
	mustNotFound(t, "Meta", err)
	v := s.View()
	defer v.Close()
	if !v.Tip().Empty {
		t.Fatalf("view tip of empty store not empty")
	}
	_, err = v.Get(counterKey)
	mustNotFound(t, "View.Get", err)
}

func TestCommitAndRead(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	commitRange(t, s, 0, 30)
	verifyChain(t, s, 30)

	// Genesis without block bytes has no block record but a tip.
	_, err := s.BlockByHeight(0)
	mustNotFound(t, "BlockByHeight(0)", err)
	// A block without txs has an empty, non-nil receipt list.
	if numTxs(4) != 0 {
		t.Fatal("test assumes block 4 has no txs")
	}
	rs, err := s.Receipts(4)
	if err != nil || rs == nil || len(rs) != 0 {
		t.Fatalf("Receipts(4) = %v, %v; want empty", rs, err)
	}
	_, err = s.Receipt(4, 0)
	mustNotFound(t, "Receipt(4,0)", err)
}

func TestGenesisWithBlock(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	c := genCommit(0)
	c.Block = []byte("genesis block")
	c.TxIDs = []Hash{testHash("gtx")}
	c.Receipts = [][]byte{nil} // a nil receipt is stored as empty
	if err := s.CommitBlock(c); err != nil {
		t.Fatal(err)
	}
	b, h, err := s.BlockByHash(c.Hash)
	mustGet(t, "BlockByHash(genesis)", b, err, c.Block)
	if h != 0 {
		t.Fatalf("height = %d", h)
	}
	r, err := s.Receipt(0, 0)
	if err != nil || r == nil || len(r) != 0 {
		t.Fatalf("Receipt(0,0) = %q, %v; want empty non-nil", r, err)
	}
}

func TestValuesAreCopies(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	c := genCommit(0)
	val := []byte("value")
	c.Writes = append(c.Writes, Write{Key: []byte("k"), Value: val}, Write{Key: []byte("empty")})
	if err := s.CommitBlock(c); err != nil {
		t.Fatal(err)
	}
	// Mutating the caller's input after commit must not reach the store.
	copy(val, "XXXXX")
	v, err := s.Get([]byte("k"))
	mustGet(t, "Get(k)", v, err, []byte("value"))
	// Mutating a returned value must not reach the store either.
	copy(v, "YYYYY")
	v, err = s.Get([]byte("k"))
	mustGet(t, "Get(k) again", v, err, []byte("value"))
	// A nil Value is present and empty, not absent.
	v, err = s.Get([]byte("empty"))
	if err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Get(empty) = %q, %v; want empty non-nil", v, err)
	}
}

func TestHeightErrors(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	if err := s.CommitBlock(genCommit(1)); !errors.Is(err, ErrHeightGap) {
		t.Fatalf("first commit at 1: %v, want ErrHeightGap", err)
	}
	commitRange(t, s, 0, 3)
	for _, h := range []uint64{0, 2, 3, 5, 100} {
		c := genCommit(h)
		c.Writes = append(c.Writes, Write{Key: []byte("bad"), Value: []byte("x")})
		if err := s.CommitBlock(c); !errors.Is(err, ErrHeightGap) {
			t.Fatalf("commit at %d with tip 3: %v, want ErrHeightGap", h, err)
		}
	}
	// Nothing of the rejected commits is visible.
	_, err := s.Get([]byte("bad"))
	mustNotFound(t, "Get(bad)", err)
	verifyChain(t, s, 3)
	commitRange(t, s, 4, 4)
	verifyChain(t, s, 4)
}

func TestInvalidCommit(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	commitRange(t, s, 0, 1)
	bad := map[string]func(c *BlockCommit){
		"receipts":    func(c *BlockCommit) { c.Receipts = c.Receipts[:len(c.Receipts)-1] },
		"tip height":  func(c *BlockCommit) { c.Tip.Height++ },
		"tip hash":    func(c *BlockCommit) { c.Tip.BlockHash[0] ^= 1 },
		"nil block":   func(c *BlockCommit) { c.Block = nil },
		"nil receipt": func(c *BlockCommit) { c.Receipts = nil },
	}
	for name, mutate := range bad {
		c := genCommit(2) // has 2 txs
		mutate(c)
		if err := s.CommitBlock(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if err := s.CommitBlock(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil commit: %v, want ErrInvalid", err)
	}
	verifyChain(t, s, 1)
	// Tip.Empty in the input is ignored.
	c := genCommit(2)
	c.Tip.Empty = true
	if err := s.CommitBlock(c); err != nil {
		t.Fatal(err)
	}
	verifyChain(t, s, 2)
}

func TestView(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	commitRange(t, s, 0, 5)
	v5 := s.View()
	commitRange(t, s, 6, 9)
	v9 := s.View()
	if v5.Tip().Height != 5 || v9.Tip().Height != 9 {
		t.Fatalf("view tips %d, %d", v5.Tip().Height, v9.Tip().Height)
	}
	verifyState(t, v5.Get, 5)
	verifyState(t, v9.Get, 9)
	verifyState(t, s.Get, 9)
	if err := v5.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v5.Close(); err != nil {
		t.Fatalf("second View.Close: %v", err)
	}
	if _, err := v5.Get(counterKey); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get on closed view: %v", err)
	}
	verifyState(t, v9.Get, 9)
	v9.Close()
	// All view snapshots released: only the store's own one is open.
	s.mu.RLock()
	n := len(s.live)
	s.mu.RUnlock()
	if n != 1 {
		t.Fatalf("%d live snapshots, want 1", n)
	}
}

func TestClosed(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	commitRange(t, s, 0, 2)
	openView := s.View()
	if err := s.Close(); err != nil {
		t.Fatalf("Close with an open view: %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if tip := s.Tip(); tip.Height != 2 {
		t.Fatalf("Tip after Close = %+v", tip)
	}
	check := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	check("CommitBlock", s.CommitBlock(genCommit(3)))
	check("PutMeta", s.PutMeta("m", nil))
	_, err := s.Get(counterKey)
	check("Get", err)
	_, err = s.Meta("m")
	check("Meta", err)
	_, err = s.BlockByHeight(1)
	check("BlockByHeight", err)
	_, _, err = s.BlockByHash(genCommit(1).Hash)
	check("BlockByHash", err)
	_, _, err = s.TxLocation(genCommit(1).TxIDs[0])
	check("TxLocation", err)
	_, err = s.Receipt(1, 0)
	check("Receipt", err)
	_, err = s.Receipts(1)
	check("Receipts", err)
	_, err = openView.Get(counterKey)
	check("View.Get (opened before Close)", err)
	if err := openView.Close(); err != nil {
		t.Errorf("View.Close after store Close: %v", err)
	}
	v := s.View()
	if v.Tip().Height != 2 {
		t.Errorf("View after Close tip = %+v", v.Tip())
	}
	_, err = v.Get(counterKey)
	check("View.Get (opened after Close)", err)
	v.Close()
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	commitRange(t, s, 0, 20)
	if err := s.PutMeta("genesis", []byte("doc")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	verifyChain(t, s, 20)
	m, err := s.Meta("genesis")
	mustGet(t, "Meta", m, err, []byte("doc"))
	if err := s.CommitBlock(genCommit(20)); !errors.Is(err, ErrHeightGap) {
		t.Fatalf("recommitting the tip after reopen: %v", err)
	}
	commitRange(t, s, 21, 25)
	verifyChain(t, s, 25)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s2, err := Open(Options{Dir: dir}); err == nil {
		s2.Close()
		t.Fatal("second Open of the same directory succeeded")
	}
}

func TestMeta(t *testing.T) {
	fs := vfs.NewMem()
	s := openMem(t, fs)
	if err := s.PutMeta("", []byte("x")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty name: %v", err)
	}
	// Meta works before genesis and does not touch the tip.
	if err := s.PutMeta("genesis", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if !s.Tip().Empty {
		t.Fatal("PutMeta changed the tip")
	}
	m, err := s.Meta("genesis")
	mustGet(t, "Meta", m, err, []byte("v1"))
	commitRange(t, s, 0, 2)
	if err := s.PutMeta("genesis", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMeta("other", nil); err != nil {
		t.Fatal(err)
	}
	m, err = s.Meta("genesis")
	mustGet(t, "Meta", m, err, []byte("v2"))
	m, err = s.Meta("other")
	if err != nil || m == nil || len(m) != 0 {
		t.Fatalf("Meta(other) = %q, %v", m, err)
	}
	// Meta is not state.
	_, err = s.Get([]byte("genesis"))
	mustNotFound(t, "Get(genesis)", err)
	verifyChain(t, s, 2)
	s.Close()
	s = openMem(t, fs)
	defer s.Close()
	m, err = s.Meta("genesis")
	mustGet(t, "Meta after reopen", m, err, []byte("v2"))
}

// rawDB opens the pebble DB under a (closed) store directly, to damage it.
func rawDB(t *testing.T, fs vfs.FS) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: pebbleLogger{l: quietLogger{}}, FormatMajorVersion: pebble.FormatValueSeparation})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestOpenDamaged(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(db *pebble.DB) error
		wantErr error
	}{
		{"corrupt tip value", func(db *pebble.DB) error {
			return db.Set(keyTip, []byte("garbage"), pebble.Sync)
		}, ErrCorrupt},
		{"tip without block", func(db *pebble.DB) error {
			return db.Delete(blockKey(3), pebble.Sync)
		}, ErrCorrupt},
		{"blocks without tip", func(db *pebble.DB) error {
			return db.Delete(keyTip, pebble.Sync)
		}, ErrCorrupt},
		{"newer format version", func(db *pebble.DB) error {
			return db.Set(keyVersion, u64(formatVersion+1), pebble.Sync)
		}, ErrVersion},
		{"bad format version", func(db *pebble.DB) error {
			return db.Set(keyVersion, []byte{1}, pebble.Sync)
		}, ErrCorrupt},
		{"foreign db", func(db *pebble.DB) error {
			return db.Delete(keyVersion, pebble.Sync)
		}, ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			s := openMem(t, fs)
			commitRange(t, s, 0, 3)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db := rawDB(t, fs)
			if err := tc.damage(db); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			s, err := Open(Options{Dir: "db", FS: fs})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Open: %v, want %v", err, tc.wantErr)
			}
			t.Logf("Open: %v", err)
		})
	}
}

func TestCorruptIndexValues(t *testing.T) {
	fs := vfs.NewMem()
	s := openMem(t, fs)
	commitRange(t, s, 0, 3)
	s.Close()
	db := rawDB(t, fs)
	c := genCommit(3)
	_ = db.Set(hashKey(c.Hash), []byte{1, 2}, nil)
	_ = db.Set(txKey(c.TxIDs[0]), []byte{1, 2}, nil)
	_ = db.Set(hashKey(testHash("dangling")), u64(99), nil)
	_ = db.Set(receiptKey(2, 7), []byte("stray"), nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s = openMem(t, fs)
	defer s.Close()
	if _, _, err := s.BlockByHash(c.Hash); !errors.Is(err, ErrCorrupt) {
		t.Errorf("BlockByHash with bad index value: %v", err)
	}
	if _, _, err := s.BlockByHash(testHash("dangling")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("BlockByHash with dangling index: %v", err)
	}
	if _, _, err := s.TxLocation(c.TxIDs[0]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("TxLocation with bad value: %v", err)
	}
	if _, err := s.Receipts(2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Receipts with a gap: %v", err)
	}
}

// TestConcurrentReads runs readers against a committing writer and checks
// that every read is consistent with the tip it is read at.
func TestConcurrentReads(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	commitRange(t, s, 0, 0)
	const blocks = 150
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				// A View's state always matches its tip exactly.
				v := s.View()
				got, err := v.Get(counterKey)
				h := v.Tip().Height
				v.Close()
				if err != nil || !bytes.Equal(got, u64(h)) {
					errc <- fmt.Errorf("view at %d: counter %x, %v", h, got, err)
					return
				}
				// Store reads are never ahead of Tip() (nothing undurable
				// leaks) and never behind a tip read before them.
				before := s.Tip().Height
				got, err = s.Get(counterKey)
				after := s.Tip().Height
				if err != nil || len(got) != 8 {
					errc <- fmt.Errorf("Get: %x, %v", got, err)
					return
				}
				if c := be64(got); c < before || c > after {
					errc <- fmt.Errorf("Get counter %d outside tips [%d, %d]", c, before, after)
					return
				}
				if b, err := s.BlockByHeight(after + 1); !errors.Is(err, ErrNotFound) {
					// after+1 may have been committed meanwhile; only a block
					// above the current tip is an error.
					if s.Tip().Height < after+1 {
						errc <- fmt.Errorf("block %d visible above tip: %q, %v", after+1, b, err)
						return
					}
				}
			}
		}()
	}
	commitRange(t, s, 1, blocks)
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	verifyChain(t, s, blocks)
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// TestCrashCloneSynced simulates power loss with pebble's crashable MemFS,
// which drops everything not fsynced: every acknowledged block must survive.
func TestCrashCloneSynced(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := openMem(t, fs)
	for h := uint64(0); h <= 40; h++ {
		commitRange(t, s, h, h)
		if h%10 == 0 {
			crashed := fs.CrashClone(vfs.CrashCloneCfg{})
			s2 := openMem(t, crashed)
			verifyChain(t, s2, h)
			s2.Close()
		}
	}
	s.Close()
}

// TestGetAllocs guards the hot path: a state read allocates only the
// returned copy. (Reads that reach an sstable cost pebble v2.1.7 one more
// 16-byte allocation internally, the same for a plain pebble DB.Get.)
func TestGetAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	commitRange(t, s, 0, 3)
	key := []byte("a state key longer than the usual thirty-two bytes, to be sure")
	c := genCommit(4)
	c.Writes = append(c.Writes, Write{Key: key, Value: make([]byte, 100)})
	if err := s.CommitBlock(c); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"present": func() { _, _ = s.Get(key) },
		"absent":  func() { _, _ = s.Get([]byte("absent")) },
	} {
		want := 1.0
		if name == "absent" {
			want = 0
		}
		if n := testing.AllocsPerRun(1000, f); n > want {
			t.Errorf("Get %s: %v allocs per call, want %v", name, n, want)
		}
	}
	v := s.View()
	defer v.Close()
	if n := testing.AllocsPerRun(1000, func() { _, _ = v.Get(key) }); n > 1 {
		t.Errorf("View.Get: %v allocs per call, want 1", n)
	}
}
