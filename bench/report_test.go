package bench

import (
	"math"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1)
	}
	four := []int64{10, 20, 30, 40}
	for _, tc := range []struct {
		vals []int64
		p    float64
		want int64
	}{
		{hundred, 50, 50},
		{hundred, 90, 90},
		{hundred, 99, 99},
		{hundred, 99.9, 100},
		{hundred, 100, 100},
		{hundred, 0.5, 1},
		{four, 50, 20}, // rank ceil(2) = 2
		{four, 51, 30}, // rank ceil(2.04) = 3
		{four, 90, 40}, // rank ceil(3.6) = 4
		{four, 25, 10},
		{[]int64{7}, 99, 7},
		{nil, 50, 0},
	} {
		if got := percentile(tc.vals, tc.p); got != tc.want {
			t.Errorf("percentile(%d values, %g) = %d, want %d", len(tc.vals), tc.p, got, tc.want)
		}
	}
}

func TestSteadyWindow(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	end := at(4)
	blocks := []seenBlock{{at(1), 100}, {at(2), 200}, {at(3), 300}, {at(4), 50}, {at(5), 999}}
	// The first block is the ramp-up; the one after end is the drain.
	w, n, tps := steady(blocks, start, end)
	if w != 3 || n != 550 || math.Abs(tps-550.0/3) > 1e-9 {
		t.Fatalf("steady window = %gs, %d txs, %g tx/s; want 3s, 550 txs, %g tx/s", w, n, tps, 550.0/3)
	}
	// With one block there is no steady part: count it over the whole time.
	w, n, tps = steady(blocks[:1], start, end)
	if w != 4 || n != 100 || tps != 25 {
		t.Fatalf("one block: %gs, %d txs, %g tx/s; want 4s, 100 txs, 25 tx/s", w, n, tps)
	}
	if w, n, tps = steady(nil, start, end); n != 0 || tps != 0 || w != 4 {
		t.Fatalf("no blocks: %gs, %d txs, %g tx/s", w, n, tps)
	}
}
