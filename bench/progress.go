package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// liveLine redraws line() on w every quarter second until stop is called,
// which draws it a last time and ends the line. A nil w draws nothing.
func liveLine(w io.Writer, line func() string) (stop func()) {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprint(w, "\r"+line())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			fmt.Fprintln(w, "\r"+line())
		})
	}
}

// progress is a bar of work done out of a total, drawn with liveLine.
type progress struct {
	total int64
	done  atomic.Int64
	stop  func()
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{total: int64(total)}
	start := time.Now()
	p.stop = liveLine(w, func() string {
		const width = 30
		d := min(p.done.Load(), p.total)
		frac := 1.0
		if p.total > 0 {
			frac = float64(d) / float64(p.total)
		}
		bar := strings.Repeat("#", int(frac*width)) + strings.Repeat(".", width-int(frac*width))
		return fmt.Sprintf("%-9s [%s] %d/%d %3.0f%% %5.1fs", label, bar, d, p.total, 100*frac, time.Since(start).Seconds())
	})
	return p
}

func (p *progress) add(n int) { p.done.Add(int64(n)) }

// finish draws the final state and ends the line.
func (p *progress) finish() { p.stop() }

// logf writes one line to w, if w is not nil.
func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// parallel calls fn on chunks [lo, hi) of [0, n) from one goroutine per core
// and adds each finished chunk to prog. It stops at the first error or when
// ctx ends.
func parallel(ctx context.Context, n int, prog *progress, fn func(lo, hi int) error) error {
	const chunk = 256
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	fail := func(err error) { errOnce.Do(func() { first = err }) }
	workers := min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
				hi := min(lo+chunk, n)
				if err := fn(lo, hi); err != nil {
					fail(err)
					next.Store(int64(n)) // stop the others early
					return
				}
				if prog != nil {
					prog.add(hi - lo)
				}
			}
		}()
	}
	wg.Wait()
	return first
}
