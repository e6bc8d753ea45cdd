package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

var (
	alice = [20]byte{0xa1}
	bob   = [20]byte{0xb0}
)

// historyCommit is genCommit(h) whose every transaction names alice, and
// every odd one bob too.
func historyCommit(h uint64) *BlockCommit {
	c := genCommit(h)
	for i := range c.TxIDs {
		e := HistoryEntry{Account: alice, Index: uint32(i), TxID: c.TxIDs[i], Contract: "token", Method: "transfer", Status: uint8(i % 3)}
		c.History = append(c.History, e)
		if i%2 == 1 {
			e.Account = bob
			c.History = append(c.History, e)
		}
	}
	return c
}

// wantHistory lists account's entries of blocks 1..tip, newest first.
func wantHistory(account [20]byte, tip uint64) []HistoryItem {
	var out []HistoryItem
	for h := tip; h >= 1; h-- {
		c := historyCommit(h)
		for i := len(c.History) - 1; i >= 0; i-- {
			if e := c.History[i]; e.Account == account {
				out = append(out, HistoryItem{HistoryEntry: e, Height: h})
			}
		}
	}
	return out
}

func TestHistoryPagesNewestFirst(t *testing.T) {
	fs := vfs.NewMem()
	s := openMem(t, fs)
	if err := s.CommitBlock(genCommit(0)); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= 30; h++ {
		if err := s.CommitBlock(historyCommit(h)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *Store) {
		t.Helper()
		for _, acct := range [][20]byte{alice, bob} {
			want := wantHistory(acct, 30)
			for _, limit := range []int{1, 7, 1000} {
				var got []HistoryItem
				var cur Cursor
				for pages := 0; ; pages++ {
					items, next, err := s.History(acct, cur, limit)
					if err != nil {
						t.Fatal(err)
					}
					if len(items) > limit {
						t.Fatalf("page of %d items, limit %d", len(items), limit)
					}
					got = append(got, items...)
					if next.IsZero() {
						break
					}
					cur = next
					if pages > len(want) {
						t.Fatal("paging does not end")
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("account %x, limit %d: got %d items, want %d\n got %v\nwant %v", acct[:1], limit, len(got), len(want), got, want)
				}
			}
		}
		if items, next, err := s.History([20]byte{9}, Cursor{}, 10); err != nil || len(items) != 0 || !next.IsZero() {
			t.Fatalf("an unknown account: %v, %v, %v", items, next, err)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openMem(t, fs)
	defer s.Close()
	check(s) // the index is as durable as the blocks
}

func TestHistoryRefusesBadEntries(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	if err := s.CommitBlock(genCommit(0)); err != nil {
		t.Fatal(err)
	}
	c := historyCommit(1)
	c.History = append(c.History, HistoryEntry{Account: alice, Index: 99})
	if err := s.CommitBlock(c); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an entry past the block's transactions: %v, want ErrInvalid", err)
	}
	c = historyCommit(1)
	c.History[0].Method = string(make([]byte, 300))
	if err := s.CommitBlock(c); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a 300-byte method: %v, want ErrInvalid", err)
	}
	if _, _, err := s.History(alice, Cursor{}, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("limit 0: %v, want ErrInvalid", err)
	}
	if tip := s.Tip(); tip.Height != 0 {
		t.Fatalf("a refused commit moved the tip to %d", tip.Height)
	}
}

func TestViewScan(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	defer s.Close()
	commitRange(t, s, 0, 10)
	v := s.View()
	defer v.Close()
	var keys []string
	err := v.Scan([]byte("rot/"), []byte("rot0"), func(k, _ []byte) error {
		keys = append(keys, string(k))
		if len(keys) == 3 {
			return ErrStopScan
		}
		return nil
	})
	if err != nil || fmt.Sprint(keys) != "[rot/0 rot/1 rot/2]" {
		t.Fatalf("Scan = %v, %v; want the first three rot keys in order", keys, err)
	}
	boom := errors.New("boom")
	if err := v.Scan(nil, []byte{0xff}, func(_, _ []byte) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Scan returned %v, want the callback's error", err)
	}
}
