package clock

import (
	"sync"
	"time"
)

// Fake is a clock that moves only when Advance is called. Timers and
// tickers fire (without blocking, like the real ones) when Advance passes
// their deadline. It is safe for concurrent use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeTimer
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now implements Clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d and fires what falls due.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	for _, t := range f.waiters {
		for t.active && !t.at.After(f.now) {
			select {
			case t.c <- t.at:
			default:
			}
			if t.every <= 0 {
				t.active = false
				break
			}
			t.at = t.at.Add(t.every)
		}
	}
}

// Waiters is how many timers and tickers are armed: a test waits for the
// code under test to arm one before it advances the clock.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.waiters {
		if t.active {
			n++
		}
	}
	return n
}

// NewTimer implements Clock.
func (f *Fake) NewTimer(d time.Duration) Timer { return f.add(d, 0) }

// NewTicker implements Clock.
func (f *Fake) NewTicker(d time.Duration) Ticker { return fakeTicker{f.add(d, d)} }

type fakeTicker struct{ t *fakeTimer }

func (k fakeTicker) C() <-chan time.Time { return k.t.c }
func (k fakeTicker) Stop()               { k.t.Stop() }

func (f *Fake) add(d, every time.Duration) *fakeTimer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, c: make(chan time.Time, 1), at: f.now.Add(d), every: every, active: true}
	f.waiters = append(f.waiters, t)
	return t
}

type fakeTimer struct {
	f      *Fake
	c      chan time.Time
	at     time.Time
	every  time.Duration
	active bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.active
	t.at, t.active = t.f.now.Add(d), true
	return was
}

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.active
	t.active = false
	return was
}
