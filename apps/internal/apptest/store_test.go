package apptest

import (
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestScanMatchesAMap checks the store's range reads, which merge the
// call's writes into the committed keys, against a plain map: random
// writes and deletes in calls that succeed or fail, random bounds and
// limits.
func TestScanMatchesAMap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := NewStore("self")
		committed := map[string][]byte{}
		key := rapid.SampledFrom([]string{"", "a", "a\x00", "a\x00b", "ab", "b", "b\x00", "c", "cc", "d"})
		for range rapid.IntRange(1, 8).Draw(rt, "calls") {
			s.begin(Party{})
			view := maps.Clone(committed)
			for range rapid.IntRange(0, 10).Draw(rt, "ops") {
				k := key.Draw(rt, "key")
				if rapid.Bool().Draw(rt, "put") {
					v := []byte(rapid.String().Draw(rt, "value"))
					s.put(k, v)
					view[k] = v
				} else {
					s.del(k)
					delete(view, k)
				}
				start, end := key.Draw(rt, "start"), key.Draw(rt, "end")
				limit := rapid.IntRange(1, 5).Draw(rt, "limit")
				var want []string
				for _, k := range slices.Sorted(maps.Keys(view)) {
					if k >= start && (end == "" || k < end) {
						want = append(want, k)
					}
				}
				more := len(want) > limit
				if more {
					want = want[:limit]
				}
				got, gotMore := s.scan(start, end, limit)
				var keys []string
				for _, e := range got {
					keys = append(keys, e.Key)
					if string(e.Value) != string(view[e.Key]) {
						rt.Fatalf("scan value of %q = %q; want %q", e.Key, e.Value, view[e.Key])
					}
				}
				if !slices.Equal(keys, want) || gotMore != more {
					rt.Fatalf("scan [%q, %q) limit %d = %q more %v; want %q more %v", start, end, limit, keys, gotMore, want, more)
				}
			}
			ok := rapid.Bool().Draw(rt, "ok")
			s.end(ok)
			if ok {
				committed = view
			}
			if len(s.vals) != len(committed) {
				rt.Fatalf("%d keys committed; want %d", len(s.vals), len(committed))
			}
		}
	})
}
