package consensus

import (
	"testing"
	"time"
)

// TestLimitsLive: each live value replaces the configured one only when it
// is valid, and nil live parameters leave the configuration alone.
func TestLimitsLive(t *testing.T) {
	base := Limits{MaxTxs: 10_000, MaxBytes: 16 << 20, Interval: 100 * time.Millisecond}
	if got := base.Live(nil, 64<<20); got != base {
		t.Errorf("nil live: %+v, want %+v", got, base)
	}
	live := func(n, b int, i time.Duration) func() (int, int, time.Duration) {
		return func() (int, int, time.Duration) { return n, b, i }
	}
	for _, c := range []struct {
		name string
		n, b int
		i    time.Duration
		want Limits
	}{
		{"all valid", 500, 1 << 20, time.Second, Limits{500, 1 << 20, time.Second}},
		{"all invalid", 0, 1023, 0, base},
		{"bytes over the cap", 500, 65<<20 + 1, 11 * time.Second, Limits{500, 16 << 20, 100 * time.Millisecond}},
		{"bounds are valid", 1, 1024, time.Millisecond, Limits{1, 1024, time.Millisecond}},
		{"upper bounds", 1, 64 << 20, 10 * time.Second, Limits{1, 64 << 20, 10 * time.Second}},
	} {
		if got := base.Live(live(c.n, c.b, c.i), 64<<20); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
