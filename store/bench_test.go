package store

import (
	"bytes"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// openBench opens a store in a temporary directory, closed when the
// benchmark ends, with its genesis committed.
func openBench(b *testing.B, noSync bool) *Store {
	b.Helper()
	s, err := Open(Options{Dir: b.TempDir(), NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if err := s.CommitBlock(genCommit(0)); err != nil {
		b.Fatal(err)
	}
	return s
}

// incompressible returns 16 MiB of random bytes: blocks, receipts and
// signatures do not compress, so the benchmarks' stand-ins for them must
// not either. Slices of the first 8 MiB are up to 8 MiB long.
func incompressible() []byte {
	random := make([]byte, 16<<20)
	_, _ = crand.Read(random)
	return random
}

// benchCommit is a block of 1000 state writes (32-byte keys, 100-byte values,
// like account records), 100 txs with 64-byte receipts and a 16 KiB block.
func benchCommit(h uint64) *BlockCommit {
	c := &BlockCommit{Height: h, Block: make([]byte, 16<<10), Hash: testHash("bench", h)}
	for i := 0; i < 1000; i++ {
		k := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
		v := make([]byte, 100)
		binary.BigEndian.PutUint64(v, h)
		c.Writes = append(c.Writes, Write{Key: k[:], Value: v})
	}
	for i := 0; i < 100; i++ {
		c.TxIDs = append(c.TxIDs, testHash("benchtx", h, i))
		c.Receipts = append(c.Receipts, make([]byte, 64))
	}
	c.Tip = Tip{Height: h, BlockHash: c.Hash}
	return c
}

func BenchmarkCommitBlock(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		name := "sync"
		if noSync {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) {
			s := openBench(b, noSync)
			c := benchCommit(1)
			b.ReportAllocs()
			b.SetBytes(int64(commitSize(c)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h := uint64(i + 1)
				// Same keys every block (overwrites), new tx ids and height.
				c.Height, c.Tip.Height = h, h
				for j := range c.TxIDs {
					binary.BigEndian.PutUint64(c.TxIDs[j][:], h)
					binary.BigEndian.PutUint32(c.TxIDs[j][8:], uint32(j))
				}
				if err := s.CommitBlock(c); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*len(c.Writes))/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

// BenchmarkGet reads random keys of 100k present state keys, after flushing
// them to sstables (the block cache is warm: the data set fits).
func BenchmarkGet(b *testing.B) {
	const keys = 100_000
	s := openBench(b, true)
	key := func(i int) []byte { return fmt.Appendf(nil, "acct/%08d", i) }
	for h := uint64(1); h <= keys/1000; h++ {
		c := &BlockCommit{Height: h, Block: []byte("b"), Hash: testHash(h)}
		c.Tip = Tip{Height: h, BlockHash: c.Hash}
		for i := int(h-1) * 1000; i < int(h)*1000; i++ {
			c.Writes = append(c.Writes, Write{Key: key(i), Value: make([]byte, 100)})
		}
		if err := s.CommitBlock(c); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	ks := make([][]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range ks {
		ks[i] = key(rng.IntN(keys))
	}
	absent := make([][]byte, len(ks))
	for i := range absent {
		absent[i] = fmt.Appendf(nil, "none/%08d", i)
	}

	b.Run("present", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := s.Get(ks[i%len(ks)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("absent", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := s.Get(absent[i%len(absent)]); err != ErrNotFound {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(ks))
			for pb.Next() {
				if _, err := s.Get(ks[i%len(ks)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		v := s.View()
		defer v.Close()
		for i := 0; i < b.N; i++ {
			if _, err := v.Get(ks[i%len(ks)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStateCache reads the state cache alone, as a node with 100,000
// or a million accounts does: an entry for each account's nonce and
// balance key (24 or 30 bytes) with an 8-byte value, read in random order,
// so that most lookups miss the CPU's caches. Each key is built in a
// reused buffer before its lookup, as the executor builds its keys.
func BenchmarkStateCache(b *testing.B) {
	for _, accounts := range []int{10_000, 100_000, 1 << 20} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) { benchStateCache(b, accounts) })
	}
}

func benchStateCache(b *testing.B, accounts int) {
	c := newStateCache(3 * accounts) // room to spare: no shard evicts
	key := func(buf []byte, i int) []byte {
		buf = buf[:0]
		if i%2 == 0 {
			buf = append(buf, "a/n/"...)
		} else {
			buf = append(buf, "c/token/b/"...)
		}
		return fmt.Appendf(buf, "%020d", i/2)
	}
	buf := make([]byte, 0, 64)
	v := make([]byte, 8)
	for i := range 2 * accounts {
		c.set(key(buf, i), v, false)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := c.get(key(buf, rng.IntN(2*accounts))); !ok {
			b.Fatal("miss")
		}
	}
}

// BenchmarkGetAbsentCold reads keys that were never written, each once, from
// a store shaped like a node's after funding a million accounts: a balance
// for each, written in blocks of 10,000 transfers that also carry their
// tx ids, receipts and block bytes, so that the data spans memtables, L0
// and lower levels. Each read is the first nonce read of a new sender.
// With the key filter the read never reaches pebble; "pebble" turns the
// filter off to show what it saves.
func BenchmarkGetAbsentCold(b *testing.B) {
	const accounts, per = 1 << 20, 10_000
	s := openBench(b, true)
	random := incompressible()
	bal := func(i int) []byte { return fmt.Appendf(nil, "c/token/b/%020d", i) }
	for h := uint64(1); h <= accounts/per+1; h++ {
		c := &BlockCommit{Height: h, Hash: testHash(h), Block: random[int(h*7919)%(8<<20):][:250*per]}
		c.Tip = Tip{Height: h, BlockHash: c.Hash}
		for i := int(h-1) * per; i < min(int(h)*per, accounts); i++ {
			c.Writes = append(c.Writes, Write{Key: bal(i), Value: make([]byte, 8)})
			c.TxIDs = append(c.TxIDs, sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i))))
			c.Receipts = append(c.Receipts, random[i%(8<<20):][:40])
		}
		if err := s.CommitBlock(c); err != nil {
			b.Fatal(err)
		}
	}
	filter := s.keys
	for _, mode := range []string{"filter", "pebble"} {
		b.Run(mode, func(b *testing.B) {
			s.keys = filter
			if mode == "pebble" {
				s.keys = nil
			}
			defer func() { s.keys = filter }()
			buf := make([]byte, 0, 64)
			i := 0
			for b.Loop() {
				// A fresh key every time, as each new sender's nonce is.
				buf = fmt.Appendf(buf[:0], "a/n/%s/%020d", mode, i)
				i++
				if _, err := s.Get(buf); err != ErrNotFound {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCommitTransfers commits blocks shaped like a busy node's: 2,400
// transfers, each with a random tx id, a receipt, and three state writes
// (random keys, sorted, as the executor hands them over), with no fsync, so
// that the time is the batch's building and its insertion into the
// memtable. Run with -benchtime 400x or more, so that the memtable holds
// about a million entries, as it does under load.
func BenchmarkCommitTransfers(b *testing.B) {
	s := openBench(b, true)
	const txs = 2400
	rng := rand.New(rand.NewPCG(3, 4))
	block := make([]byte, 250*txs)
	receipt := make([]byte, 40)
	v8 := make([]byte, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		h := uint64(i + 1)
		c := &BlockCommit{Height: h, Hash: testHash("transfers", h), Block: block}
		c.Tip = Tip{Height: h, BlockHash: c.Hash}
		for range txs {
			var id Hash
			binary.BigEndian.PutUint64(id[:], rng.Uint64())
			binary.BigEndian.PutUint64(id[8:], rng.Uint64())
			c.TxIDs = append(c.TxIDs, id)
			c.Receipts = append(c.Receipts, receipt)
			for range 3 {
				c.Writes = append(c.Writes, Write{Key: fmt.Appendf(nil, "c/token/b/%020d", rng.Uint64()), Value: v8})
			}
		}
		slices.SortFunc(c.Writes, func(a, b Write) int { return bytes.Compare(a.Key, b.Key) })
		b.StartTimer()
		if err := s.CommitBlock(c); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*txs)/b.Elapsed().Seconds(), "txs/s")
}
