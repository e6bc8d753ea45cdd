package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestStateCacheMatchesPebble commits random blocks of sets and deletes over
// a small key space, with a tiny cache so that eviction happens, while
// readers hammer Get; after every block Get (cached) must equal a snapshot
// read (uncached) for every key.
func TestStateCacheMatchesPebble(t *testing.T) {
	seed := uint64(rand.Int64())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	s, err := Open(Options{Dir: "db", FS: vfs.NewMem(), CacheBytes: 8 << 20, StateCacheEntries: 64 * 20, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.cache == nil {
		t.Fatal("cache is off")
	}
	// Every third key is too long to be kept inline, and some values are
	// too long too, so entries move between a shard's two maps.
	key := func(i int) []byte {
		if i%3 == 0 {
			return fmt.Appendf(nil, "k/%d/%s", i, bytes.Repeat([]byte{'x'}, 40))
		}
		return fmt.Appendf(nil, "k/%d", i)
	}
	value := func(i int, h uint64) []byte {
		if (i+int(h))%5 == 0 {
			return fmt.Appendf(nil, "v%d-%d/long-enough-not-inline", i, h)
		}
		return fmt.Appendf(nil, "v%d-%d", i, h)
	}
	const keys = 300
	if err := s.CommitBlock(&BlockCommit{Height: 0, Hash: testHash("g"), Tip: Tip{BlockHash: testHash("g")}}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = s.Get(key(i % keys))
			}
		}()
	}
	for h := uint64(1); h <= 200; h++ {
		c := &BlockCommit{Height: h, Hash: testHash("b", h), Block: []byte{1}}
		seen := map[int]bool{}
		for n := rng.IntN(20); n > 0; n-- {
			i := rng.IntN(keys)
			if seen[i] {
				continue
			}
			seen[i] = true
			if rng.IntN(4) == 0 {
				c.Writes = append(c.Writes, Write{Key: key(i), Delete: true})
			} else {
				c.Writes = append(c.Writes, Write{Key: key(i), Value: value(i, h)})
			}
		}
		c.Tip = Tip{Height: h, BlockHash: c.Hash}
		if err := s.CommitBlock(c); err != nil {
			t.Fatal(err)
		}
		v := s.View()
		for i := 0; i < keys; i++ {
			got, gerr := s.Get(key(i))
			want, werr := v.Get(key(i))
			if !errors.Is(gerr, werr) && !(gerr == nil && werr == nil) || !bytes.Equal(got, want) {
				t.Fatalf("seed %d, height %d, key %d: cached Get = %q, %v; pebble = %q, %v", seed, h, i, got, gerr, want, werr)
			}
		}
		v.Close()
	}
	close(stop)
	wg.Wait()
}

// TestWritesUpdateOnlyCachedKeys: a block's write of a long entry nobody
// has read leaves the cache alone (a payment's record is written once and
// rarely read), while a short one (a balance) is cached at once; once a
// read has cached a key, writes keep its entry current, across both of a
// shard's maps and deletes.
func TestWritesUpdateOnlyCachedKeys(t *testing.T) {
	s, err := Open(Options{Dir: "db", FS: vfs.NewMem(), CacheBytes: 8 << 20, StateCacheEntries: 1 << 12, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	short, long := []byte("k/short"), append([]byte("k/long/"), bytes.Repeat([]byte{'x'}, 40)...)
	bigValue := bytes.Repeat([]byte{'v'}, 40)
	commit := func(h uint64, ws ...Write) {
		t.Helper()
		hash := testHash("b", h)
		if err := s.CommitBlock(&BlockCommit{Height: h, Hash: hash, Block: []byte{1}, Writes: ws, Tip: Tip{Height: h, BlockHash: hash}}); err != nil {
			t.Fatal(err)
		}
	}
	cached := func(key []byte) ([]byte, bool, bool) {
		v, absent, ok := s.cache.get(key)
		return v, absent, ok
	}
	if err := s.CommitBlock(&BlockCommit{Height: 0, Hash: testHash("g"), Tip: Tip{BlockHash: testHash("g")}}); err != nil {
		t.Fatal(err)
	}
	commit(1, Write{Key: short, Value: []byte("1")}, Write{Key: long, Value: bigValue})
	if _, _, ok := cached(long); ok {
		t.Fatal("a long entry is cached after a write no read asked for")
	}
	if v, _, ok := cached(short); !ok || string(v) != "1" {
		t.Fatalf("cache of short = %q, %v; want 1 as written", v, ok)
	}
	if v, err := s.Get(short); err != nil || string(v) != "1" {
		t.Fatalf("Get(short) = %q, %v; want 1", v, err)
	}
	if v, err := s.Get(long); err != nil || !bytes.Equal(v, bigValue) {
		t.Fatalf("Get(long) = %q, %v", v, err)
	}
	// Cached now; the next writes must show in the cache: short's value
	// grows out of the inline map, long's is deleted.
	commit(2, Write{Key: short, Value: bigValue}, Write{Key: long, Delete: true})
	if v, _, ok := cached(short); !ok || !bytes.Equal(v, bigValue) {
		t.Fatalf("cache of short = %q, %v; want the written value", v, ok)
	}
	if _, absent, ok := cached(long); !ok || !absent {
		t.Fatalf("cache of long: absent %v, cached %v; want a cached absence", absent, ok)
	}
	commit(3, Write{Key: short, Value: []byte("3")})
	if v, _, ok := cached(short); !ok || string(v) != "3" {
		t.Fatalf("cache of short = %q, %v; want 3", v, ok)
	}
}

// TestNoncesAndBalancesFitInline: the inline map is sized for an
// account's nonce key ("a/n/" and 20 bytes) and token balance key
// ("c/token/b/" and 20 bytes) with 8-byte values, and for absences; a
// smaller inline size would send every account to the second map.
func TestNoncesAndBalancesFitInline(t *testing.T) {
	c := newStateCache(1000)
	addr := bytes.Repeat([]byte{0xab}, 20)
	for _, key := range [][]byte{append([]byte("a/n/"), addr...), append([]byte("c/token/b/"), addr...)} {
		c.set(key, []byte("12345678"), false)
		c.set(append(key, 'x'), nil, true)
		sh := c.shard(key)
		if len(sh.big) != 0 {
			t.Errorf("a %d-byte key with an 8-byte value went to the second map", len(key))
		}
		if v, _, ok := c.get(key); !ok || string(v) != "12345678" {
			t.Errorf("get(%q) = %q, %v", key, v, ok)
		}
	}
	long := bytes.Repeat([]byte{'k'}, inlineKeyMax+1)
	c.set(long, []byte("v"), false)
	if v, _, ok := c.get(long); !ok || string(v) != "v" || len(c.shard(long).big) != 1 {
		t.Errorf("a key one byte too long: get = %q, %v; second map %d entries, want 1", v, ok, len(c.shard(long).big))
	}
	nine := []byte("123456789")
	c.set(addr, nine, false)
	if v, _, ok := c.get(addr); !ok || !bytes.Equal(v, nine) || len(c.shard(addr).big) == 0 {
		t.Errorf("a 9-byte value: get = %q, %v, want it in the second map", v, ok)
	}
}
