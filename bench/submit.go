package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accord-chain/accord/sdk"
)

// Refusal reasons (the node API's SubmitResult.code) the bench treats
// specially. A full pool and a nonce too far ahead both clear as blocks
// commit, so those transactions are sent again; a duplicate is already in
// the pool, which happens only when a batch is resent after a transport
// error, so it counts as admitted.
const (
	reasonPoolFull  = "pool_full"
	reasonNonceGap  = "nonce_gap"
	reasonDuplicate = "duplicate"
)

// stream submits its share of the transactions, in order, in batches, from
// one goroutine. Its senders belong to it alone, so each sender's nonces
// arrive in order. The result fields are valid after run returns.
type stream struct {
	c        *sdk.Client
	raws     [][]byte
	sender   []int32
	txs      []int32        // indices into raws and sender, in submission order
	batch    int            // transactions per SubmitTxs call
	rate     float64        // tx/s of this stream; 0: as fast as accepted
	deadline time.Time      // zero: until every transaction is admitted
	strict   bool           // any refusal other than a retried one ends run with an error
	sent     []atomic.Int64 // if not nil, records when each transaction was sent
	hold     func() bool    // if not nil and true, sending waits for a block
	block    *signal        // fires when a block commits

	submitted *atomic.Int64 // admitted by the node, shared by all streams
	rejected  map[string]int64
	retries   int64     // refusals for a full pool or a nonce gap, sent again
	skipped   int64     // not sent because an earlier nonce of the sender was refused
	exhausted bool      // every transaction was sent before the deadline
	lastSend  time.Time // start of the last SubmitTxs call
}

func (s *stream) run(ctx context.Context) error {
	var (
		next         int     // first of txs not yet sent
		retry        []int32 // refused for a reason that clears, to send first
		dead         map[int32]bool
		failingSince time.Time
		idx          = make([]int32, 0, s.batch)
		buf          = make([][]byte, 0, s.batch)
		start        = time.Now()
	)
	s.rejected = map[string]int64{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := time.Now()
		if !s.deadline.IsZero() && !now.Before(s.deadline) {
			return nil
		}
		if next == len(s.txs) && len(retry) == 0 {
			s.exhausted = true
			return nil
		}
		wake := s.block.wait()
		if s.hold != nil && s.hold() {
			s.pause(ctx, wake, 50*time.Millisecond)
			continue
		}
		idx = idx[:0]
		if len(retry) > s.batch {
			// New transactions may follow only once every earlier refused
			// one is back in a batch: each sender's order must hold.
			idx = append(idx, retry[:s.batch]...)
			retry = retry[s.batch:]
		} else {
			idx = append(idx, retry...)
			retry = retry[:0]
			room := s.batch - len(idx)
			if s.rate > 0 {
				allowed := int(s.rate*now.Sub(start).Seconds()) - next
				if want := min(s.batch, len(s.txs)-next); len(idx) == 0 && allowed < want {
					due := start.Add(time.Duration(float64(next+want) / s.rate * float64(time.Second)))
					if !s.deadline.IsZero() && due.After(s.deadline) {
						due = s.deadline
					}
					s.pause(ctx, nil, time.Until(due))
					continue
				}
				room = min(room, max(allowed, 0))
			}
			for room > 0 && next < len(s.txs) {
				i := s.txs[next]
				next++
				if dead[s.sender[i]] {
					s.skipped++
					continue
				}
				idx = append(idx, i)
				room--
			}
		}
		if len(idx) == 0 {
			continue
		}

		buf = buf[:0]
		sentAt := time.Now()
		for _, i := range idx {
			buf = append(buf, s.raws[i])
			if s.sent != nil {
				s.sent[i].Store(sentAt.UnixNano())
			}
		}
		s.lastSend = sentAt
		res, err := s.c.SubmitBatch(ctx, buf)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if failingSince.IsZero() {
				failingSince = sentAt
			} else if time.Since(failingSince) > 5*time.Second {
				return fmt.Errorf("submitting transactions: %w", err)
			}
			retry = append(slices.Clone(idx), retry...)
			s.pause(ctx, nil, 200*time.Millisecond)
			continue
		}
		failingSince = time.Time{}
		var refused []int32
		admitted := 0
		for k, r := range res {
			i := idx[k]
			switch {
			case r.Error == "" || r.Code == reasonDuplicate:
				admitted++
			case r.Code == reasonPoolFull || r.Code == reasonNonceGap:
				refused = append(refused, i)
			default:
				if s.strict {
					return fmt.Errorf("the node refused transaction %s: %s", r.TxId, r.Error)
				}
				reason := r.Code
				if reason == "" {
					reason = "unknown"
				}
				s.rejected[reason]++
				if dead == nil {
					dead = map[int32]bool{}
				}
				dead[s.sender[i]] = true
			}
		}
		s.submitted.Add(int64(admitted))
		if len(refused) > 0 {
			s.retries += int64(len(refused))
			retry = append(refused, retry...)
			// The pool makes room when a block commits.
			s.pause(ctx, wake, 100*time.Millisecond)
		}
	}
}

// pause waits for d, wake (if not nil) or the end of ctx, whichever is
// first.
func (s *stream) pause(ctx context.Context, wake <-chan struct{}, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}

// runStreams runs the streams concurrently and returns the first error.
func runStreams(ctx context.Context, streams []*stream) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.run(ctx); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return first
}
