package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The tests drive the store with a deterministic chain: everything of block h
// is a function of h, and the state after block h is a function of h alone,
// so a reopened store can be checked exhaustively against its tip.

func testHash(parts ...any) Hash {
	return sha256.Sum256(fmt.Append(nil, parts...))
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

var counterKey = []byte("counter")

// numTxs is the number of txs of block h (genesis has none).
func numTxs(h uint64) int {
	if h == 0 {
		return 0
	}
	return int(h % 4) // some blocks are empty
}

// rotKey is one of 7 keys, each rewritten every 7th block.
func rotKey(j uint64) []byte { return fmt.Appendf(nil, "rot/%d", j) }

// slideKey exists only for the tip: block h creates slide/h and deletes
// slide/h-1.
func slideKey(h uint64) []byte { return fmt.Appendf(nil, "slide/%d", h) }

func genCommit(h uint64) *BlockCommit {
	c := &BlockCommit{Height: h, Hash: testHash("block", h)}
	if h > 0 {
		c.Block = bytes.Repeat(fmt.Appendf(nil, "block-%d;", h), 1+int(h%5))
		c.Writes = append(c.Writes,
			Write{Key: rotKey(h % 7), Value: fmt.Appendf(nil, "rot-%d", h)},
			Write{Key: slideKey(h - 1), Delete: true},
		)
	}
	c.Writes = append(c.Writes,
		Write{Key: counterKey, Value: u64(h)},
		Write{Key: slideKey(h), Value: fmt.Appendf(nil, "slide-%d", h)},
	)
	for i := 0; i < numTxs(h); i++ {
		c.TxIDs = append(c.TxIDs, testHash("tx", h, i))
		c.Receipts = append(c.Receipts, fmt.Appendf(nil, "receipt-%d-%d", h, i))
	}
	c.Tip = Tip{
		Height:       h,
		Time:         1_700_000_000_000 + h*1000,
		BlockHash:    c.Hash,
		WriteSetHash: testHash("writeset", h),
		StateHash:    testHash("state", h),
	}
	return c
}

// commitRange commits genCommit(from..to) inclusive.
func commitRange(t testing.TB, s *Store, from, to uint64) {
	t.Helper()
	for h := from; h <= to; h++ {
		if err := s.CommitBlock(genCommit(h)); err != nil {
			t.Fatalf("CommitBlock(%d): %v", h, err)
		}
	}
}

func openMem(t testing.TB, fs vfs.FS) *Store {
	t.Helper()
	s, err := Open(Options{Dir: "db", FS: fs, CacheBytes: 8 << 20})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func mustGet(t testing.TB, what string, got []byte, err error, want []byte) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

func mustNotFound(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: err = %v, want ErrNotFound", what, err)
	}
}

// verifyChain checks that s holds exactly the deterministic chain up to its
// tip, which must be wantTip.
func verifyChain(t testing.TB, s *Store, wantTip uint64) {
	t.Helper()
	tip := s.Tip()
	if want := genCommit(wantTip).Tip; tip != want {
		t.Fatalf("tip = %+v, want %+v", tip, want)
	}
	for h := uint64(0); h <= tip.Height; h++ {
		c := genCommit(h)
		if c.Block == nil {
			_, err := s.BlockByHeight(h)
			mustNotFound(t, fmt.Sprintf("BlockByHeight(%d)", h), err)
		} else {
			b, err := s.BlockByHeight(h)
			mustGet(t, fmt.Sprintf("BlockByHeight(%d)", h), b, err, c.Block)
			b, height, err := s.BlockByHash(c.Hash)
			mustGet(t, fmt.Sprintf("BlockByHash(%d)", h), b, err, c.Block)
			if height != h {
				t.Fatalf("BlockByHash(%d) height = %d", h, height)
			}
		}
		rs, err := s.Receipts(h)
		if err != nil {
			t.Fatalf("Receipts(%d): %v", h, err)
		}
		if len(rs) != len(c.Receipts) {
			t.Fatalf("Receipts(%d): %d receipts, want %d", h, len(rs), len(c.Receipts))
		}
		for i, id := range c.TxIDs {
			mustGet(t, fmt.Sprintf("Receipts(%d)[%d]", h, i), rs[i], nil, c.Receipts[i])
			r, err := s.Receipt(h, uint32(i))
			mustGet(t, fmt.Sprintf("Receipt(%d,%d)", h, i), r, err, c.Receipts[i])
			gh, gi, err := s.TxLocation(id)
			if err != nil || gh != h || gi != uint32(i) {
				t.Fatalf("TxLocation(tx %d/%d) = %d, %d, %v", h, i, gh, gi, err)
			}
		}
	}
	// Nothing beyond the tip.
	next := genCommit(tip.Height + 1)
	_, err := s.BlockByHeight(next.Height)
	mustNotFound(t, "BlockByHeight(tip+1)", err)
	_, _, err = s.BlockByHash(next.Hash)
	mustNotFound(t, "BlockByHash(tip+1)", err)
	_, err = s.Receipts(next.Height)
	mustNotFound(t, "Receipts(tip+1)", err)
	for _, id := range next.TxIDs {
		_, _, err := s.TxLocation(id)
		mustNotFound(t, "TxLocation(tip+1 tx)", err)
	}
	verifyState(t, s.Get, tip.Height)
}

// verifyState checks the state read through get against the state after
// block tip.
func verifyState(t testing.TB, get func([]byte) ([]byte, error), tip uint64) {
	t.Helper()
	v, err := get(counterKey)
	mustGet(t, "counter", v, err, u64(tip))
	for j := uint64(0); j < 7; j++ {
		// Latest height h in 1..tip with h%7 == j, if any.
		var last uint64
		for h := tip; h >= 1; h-- {
			if h%7 == j {
				last = h
				break
			}
		}
		v, err := get(rotKey(j))
		if last == 0 {
			mustNotFound(t, string(rotKey(j)), err)
		} else {
			mustGet(t, string(rotKey(j)), v, err, fmt.Appendf(nil, "rot-%d", last))
		}
	}
	v, err = get(slideKey(tip))
	mustGet(t, "slide/tip", v, err, fmt.Appendf(nil, "slide-%d", tip))
	if tip > 0 {
		_, err = get(slideKey(tip - 1))
		mustNotFound(t, "slide/tip-1", err)
	}
	_, err = get(slideKey(tip + 1))
	mustNotFound(t, "slide/tip+1", err)
}
