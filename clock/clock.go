// Package clock is the wall clock as a value the caller passes in. Every
// read of the time that can decide a verdict (a certificate's validity, a
// signed change's age) or a block (its time, when the leader cuts it) goes
// through a Clock, so that production wires Real and tests drive a Fake.
// It owns no policy: what a time means is the caller's business.
package clock

import "time"

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that fires every d (d > 0).
	NewTicker(d time.Duration) Ticker
}

// Timer is time.Timer behind an interface.
type Timer interface {
	C() <-chan time.Time
	// Reset makes the timer fire d from now; see time.Timer.Reset.
	Reset(d time.Duration) bool
	Stop() bool
}

// Ticker is time.Ticker behind an interface.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Real is the system clock.
var Real Clock = real{}

type real struct{}

func (real) Now() time.Time                    { return time.Now() }
func (real) NewTimer(d time.Duration) Timer    { return realTimer{time.NewTimer(d)} }
func (real) NewTicker(d time.Duration) Ticker  { return realTicker{time.NewTicker(d)} }
func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
func (t realTimer) Stop() bool                 { return t.t.Stop() }
func (t realTicker) C() <-chan time.Time       { return t.t.C }
func (t realTicker) Stop()                     { t.t.Stop() }

type realTimer struct{ t *time.Timer }

type realTicker struct{ t *time.Ticker }

// Since is the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// Sleep waits d on c, or until done is closed; it reports whether the
// full d passed.
func Sleep(c Clock, d time.Duration, done <-chan struct{}) bool {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-done:
		return false
	}
}
