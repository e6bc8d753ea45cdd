//go:build unix

package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStoreLoad replays, at the node's pace, what a transfer workload
// writes, and reports the CPU time the store takes for it: pebble's
// commits, flushes and compactions. First "funding" credits every account
// in blocks of 10,000 transfers (as fast as the store commits); then the
// measured window commits a block of 2,400 transfers every 100 ms, 24,000 a
// second, for 60 seconds. Each transfer writes the sender's nonce and
// balance and the receiver's balance, a random 32-byte tx id, a 40-byte
// receipt and 250 bytes of block (random bytes, as signatures and keys do
// not compress).
//
// cpu-s/window is the process's CPU time during the window (user plus
// system), most of it pebble's background work; the generator's own share
// is the same at every account count. comp-GB is what compactions wrote
// over the whole run. It is slow (a minute and more per account count) and
// meant to be run by hand:
//
//	go test ./store -run '^$' -bench StoreLoad -benchtime 1x
func BenchmarkStoreLoad(b *testing.B) {
	for _, accounts := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			for range b.N {
				storeLoad(b, accounts, 600)
			}
		})
	}
}

func storeLoad(b *testing.B, accounts, windowBlocks int) {
	s := openBench(b, false)
	defer s.Close() // before the next iteration opens another
	random := incompressible()
	addr := func(i uint64) []byte {
		h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, i))
		return h[:20]
	}
	bal := func(a []byte) []byte { return append([]byte("c/token/b/"), a...) }
	nonce := func(a []byte) []byte { return append([]byte("a/n/"), a...) }
	v8 := make([]byte, 8)
	var h, txs uint64
	commit := func(n int, writes []Write) {
		h++
		c := &BlockCommit{Height: h, Hash: testHash("load", h), Writes: writes,
			Block: random[int(h*7919)%(8<<20):][:250*n]}
		c.Tip = Tip{Height: h, BlockHash: c.Hash}
		for range n {
			txs++
			c.TxIDs = append(c.TxIDs, sha256.Sum256(binary.BigEndian.AppendUint64([]byte("tx"), txs)))
			c.Receipts = append(c.Receipts, random[int(txs*31)%(8<<20):][:40])
		}
		if err := s.CommitBlock(c); err != nil {
			b.Fatal(err)
		}
	}

	// Funding: 1,000 distributors pay every account once.
	for i := 0; i < accounts; i += 10_000 {
		var w []Write
		for j := i; j < min(i+10_000, accounts); j++ {
			w = append(w, Write{Key: bal(addr(uint64(j))), Value: v8})
		}
		for d := range uint64(1000) {
			a := addr(1<<40 + d)
			w = append(w, Write{Key: bal(a), Value: v8}, Write{Key: nonce(a), Value: v8})
		}
		commit(min(10_000, accounts-i), w)
	}

	rng := uint64(0x9e3779b97f4a7c15)
	next := func() uint64 {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return rng % uint64(accounts)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range windowBlocks {
		<-tick.C
		w := make([]Write, 0, 3*2400)
		for range 2400 {
			from, to := addr(next()), addr(next())
			w = append(w, Write{Key: nonce(from), Value: v8}, Write{Key: bal(from), Value: v8}, Write{Key: bal(to), Value: v8})
		}
		commit(2400, w)
	}
	b.StopTimer()
	b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s/window")
	m := s.db.Metrics()
	var written uint64
	for _, l := range m.Levels {
		written += l.TableBytesCompacted
	}
	b.ReportMetric(float64(written)/1e9, "comp-GB")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
