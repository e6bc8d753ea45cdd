package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/sdk"
)

// signal wakes every goroutine waiting on it each time it fires.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next fire.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
	s.mu.Unlock()
}

// watcher follows committed blocks with their transaction results, from a
// given height on, and hands each block to handle on one goroutine, with
// the time it arrived. If the node drops the subscription (the watcher
// fell behind) or the stream breaks, it resubscribes from the next height,
// so no block is missed or seen twice.
type watcher struct {
	c      *sdk.Client
	next   uint64
	handle func(arrived time.Time, m *apipb.SubscribeResponse)
	block  signal // fires after each handled block
	done   chan struct{}
	err    error // valid after done is closed
}

func startWatcher(ctx context.Context, c *sdk.Client, from uint64, handle func(time.Time, *apipb.SubscribeResponse)) *watcher {
	w := &watcher{c: c, next: from, handle: handle, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.err = w.run(ctx)
	}()
	return w
}

func (w *watcher) run(ctx context.Context) error {
	const maxFailures = 5
	failures := 0
	for {
		s, err := w.c.Subscribe(ctx, w.next, true)
		if err == nil {
			for s.Receive() {
				m := s.Msg()
				arrived := time.Now()
				if h := m.GetHeader().GetHeight(); h >= w.next {
					w.handle(arrived, m)
					w.next = h + 1
					failures = 0
					w.block.fire()
				}
			}
			err = s.Err()
			s.Close()
			if err == nil {
				err = errors.New("the node ended the stream")
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if failures++; failures >= maxFailures {
			return fmt.Errorf("following committed blocks from height %d: %w", w.next, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Duration(failures) * 100 * time.Millisecond):
		}
	}
}
