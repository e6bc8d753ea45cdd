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
