package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Funding limits.
const (
	// perSender is the most funding transactions one sender has waiting at
	// a time, under the node's window of 1024 pending nonces per sender.
	perSender = 1000
	// maxDistributors bounds the issuer's mints to one window too.
	maxDistributors = 1000
	// minBalance is what a payer must hold to afford its transfers.
	minBalance = MaxPerPayer * maxAmount
	// fundStall is how long funding may go without a commit before it is
	// declared stuck.
	fundStall = 30 * time.Second
)

// fund makes sure every payer can pay its share of the workload and returns
// each payer's next nonce. The issuer mints to distributor keys, which
// transfer to the payers; no sender ever has more than perSender
// transactions in the pool, and each wave waits for its commits.
//
// On a chain where these payers are new (the usual case), their nonces are
// 0 and nothing is read per payer. If an earlier run with the same seed
// left a trace (its first distributor, or a sample of payers, has a nonce
// or a balance), every payer's nonce and balance is read, and only the
// payers short of funds are funded.
func (r *runner) fund(ctx context.Context, payers *accountSet) ([]uint64, error) {
	n := len(payers.addrs)
	nonces := make([]uint64, n)
	// Any run that used these payers first funded them through distributor
	// 0 of the same seed; a sample of payers backs that up.
	d0, err := deriveKey(crypto.Ed25519, r.cfg.Seed, roleDistributor, 0)
	if err != nil {
		return nil, err
	}
	probe := []types.Address{types.AddressOf(crypto.Ed25519, d0.Public().Bytes())}
	for i := range min(n, 64) {
		probe = append(probe, payers.addrs[i*n/min(n, 64)])
	}
	got, err := r.accounts(ctx, probe, nil)
	if err != nil {
		return nil, err
	}
	fresh := true
	for _, a := range got {
		fresh = fresh && a.NextNonce == 0 && a.Balance == 0
	}
	need := make([]int32, 0, n)
	if fresh {
		for i := range n {
			need = append(need, int32(i))
		}
	} else {
		logf(r.out, "payers of seed %d have been used on this chain before: reading their nonces and balances", r.cfg.Seed)
		prog := newProgress(r.out, "accounts", n)
		got, err = r.accounts(ctx, payers.addrs, prog)
		prog.finish()
		if err != nil {
			return nil, err
		}
		for i, a := range got {
			nonces[i] = a.NextNonce
			if a.Balance < minBalance {
				need = append(need, int32(i))
			}
		}
	}
	if len(need) == 0 {
		logf(r.out, "every payer is funded already")
		return nonces, nil
	}
	return nonces, r.distribute(ctx, payers.addrs, need)
}

// distribute funds the payers need (indices into addrs) with FundAmount
// each.
func (r *runner) distribute(ctx context.Context, addrs []types.Address, need []int32) error {
	d := min(maxDistributors, (len(need)+perSender-1)/perSender)
	share := (len(need) + d - 1) / d
	dist, err := deriveKeys(ctx, crypto.Ed25519, r.cfg.Seed, roleDistributor, d, nil)
	if err != nil {
		return err
	}
	issuerAddr := types.AddressOf(r.cfg.Issuer.Scheme(), r.cfg.Issuer.Public().Bytes())
	got, err := r.accounts(ctx, append([]types.Address{issuerAddr}, dist.addrs...), nil)
	if err != nil {
		return err
	}
	issuerNonce, distNonce := got[0].NextNonce, make([]uint64, d)
	for i := range distNonce {
		distNonce[i] = got[1+i].NextNonce
	}
	shareOf := func(k int) []int32 { return need[min(k*share, len(need)):min((k+1)*share, len(need))] }

	st, err := r.c.Status(ctx)
	if err != nil {
		return err
	}
	tr := &tracker{pending: map[types.Hash]struct{}{}}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w := startWatcher(wctx, r.c, st.Height+1, tr.handle)
	defer func() { stop(); <-w.done }()

	// Wave 0: the issuer mints each distributor's share.
	mint := func(k int) ([]byte, types.Hash, int32, error) {
		amount := uint64(len(shareOf(k))) * FundAmount
		raw, id, err := r.chain.sign(r.cfg.Issuer, issuerNonce+uint64(k), tokencall.MethodMint, tokencall.Mint(dist.addrs[k], amount))
		return raw, id, 0, err
	}
	if err := r.wave(ctx, w, tr, d, mint); err != nil {
		return fmt.Errorf("minting to %d distributors: %w", d, err)
	}

	// Waves 1..: each distributor pays up to perSender of its payers, the
	// distributors taking turns so that every slice keeps all of them busy.
	prog := newProgress(r.out, "fund", len(need))
	defer prog.finish()
	tr.mu.Lock()
	tr.prog = prog
	tr.mu.Unlock()
	type job struct {
		dist  int32
		payer int32
		nonce uint64
	}
	var jobs []job
	for wave := 0; wave*perSender < share; wave++ {
		jobs = jobs[:0]
		for j := wave * perSender; j < min((wave+1)*perSender, share); j++ {
			for k := range d {
				if part := shareOf(k); j < len(part) {
					jobs = append(jobs, job{int32(k), part[j], distNonce[k] + uint64(j)})
				}
			}
		}
		pay := func(i int) ([]byte, types.Hash, int32, error) {
			jb := jobs[i]
			raw, id, err := r.chain.sign(dist.keys[jb.dist], jb.nonce, tokencall.MethodTransfer, tokencall.Transfer(addrs[jb.payer], FundAmount))
			return raw, id, jb.dist, err
		}
		if err := r.wave(ctx, w, tr, len(jobs), pay); err != nil {
			return fmt.Errorf("funding payers: %w", err)
		}
	}
	return nil
}

// fundSlice is how many funding transactions are signed while the ones
// before them are submitted.
const fundSlice = 25_000

// wave signs transactions [0, n) with sign, which also names each one's
// sender (an index of the wave's own choosing), and submits them in that
// order, signing the next slice while one is submitted. It then waits
// until all have committed successfully.
func (r *runner) wave(ctx context.Context, w *watcher, tr *tracker, n int, sign func(i int) ([]byte, types.Hash, int32, error)) error {
	type slice struct {
		raws   [][]byte
		ids    []types.Hash
		sender []int32
		err    error
	}
	ctx, cancel := context.WithCancel(ctx)
	signed := make(chan *slice, 1)
	defer func() {
		cancel()
		for range signed { // let the signer stop before returning
		}
	}()
	go func() {
		defer close(signed)
		for lo := 0; lo < n; lo += fundSlice {
			m := min(fundSlice, n-lo)
			s := &slice{raws: make([][]byte, m), ids: make([]types.Hash, m), sender: make([]int32, m)}
			s.err = parallel(ctx, m, nil, func(a, b int) error {
				for i := a; i < b; i++ {
					var err error
					if s.raws[i], s.ids[i], s.sender[i], err = sign(lo + i); err != nil {
						return err
					}
				}
				return nil
			})
			select {
			case signed <- s:
			case <-ctx.Done():
				return
			}
			if s.err != nil {
				return
			}
		}
	}()

	var submitted atomic.Int64
	var hold func() bool
	if limit := int64(r.cfg.MaxPending); limit > 0 {
		// Refusing a full pool's transactions still costs the node their
		// decoding, so keep the pool from filling up.
		base := tr.committed()
		hold = func() bool { return submitted.Load()-int64(tr.committed()-base) >= limit }
	}
	for s := range signed {
		if s.err != nil {
			return s.err
		}
		tr.add(s.ids)
		var streams []*stream
		for _, part := range split(s.sender, r.cfg.Submitters) {
			if len(part) == 0 {
				continue
			}
			streams = append(streams, &stream{
				c: r.c, raws: s.raws, sender: s.sender, txs: part, batch: r.cfg.Batch,
				strict: true, hold: hold, block: &w.block, submitted: &submitted,
			})
		}
		if err := runStreams(ctx, streams); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	last, lastDone := time.Now(), tr.committed()
	for {
		wake := w.block.wait()
		pending, err := tr.state()
		if err != nil {
			return err
		}
		if pending == 0 {
			return nil
		}
		if done := tr.committed(); done != lastDone {
			last, lastDone = time.Now(), done
		} else if time.Since(last) > fundStall {
			return fmt.Errorf("%d funding transactions not committed after %s without progress; is the node producing blocks?", pending, fundStall)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.done:
			if w.err != nil {
				return w.err
			}
			return ctx.Err()
		case <-wake:
		case <-time.After(time.Second):
		}
	}
}

// tracker holds funding transactions not yet seen committed.
type tracker struct {
	mu      sync.Mutex
	pending map[types.Hash]struct{}
	done    int
	failure error
	prog    *progress
}

func (t *tracker) add(ids []types.Hash) {
	t.mu.Lock()
	for _, id := range ids {
		t.pending[id] = struct{}{}
	}
	t.mu.Unlock()
}

func (t *tracker) handle(_ time.Time, m *apipb.SubscribeResponse) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, res := range m.Results {
		id, err := types.ParseHash(res.TxId)
		if err != nil {
			continue
		}
		if _, ok := t.pending[id]; !ok {
			continue
		}
		delete(t.pending, id)
		n++
		if rc := res.GetReceipt(); rc.GetStatus() != pb.TxStatus_TX_STATUS_OK && t.failure == nil {
			t.failure = fmt.Errorf("funding transaction %s failed in block %d: %s %s", id, m.GetHeader().GetHeight(), rc.GetStatus(), rc.GetMessage())
		}
	}
	t.done += n
	if t.prog != nil {
		// The mints are not counted: the bar counts funded payers.
		t.prog.add(n)
	}
}

func (t *tracker) state() (pending int, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending), t.failure
}

func (t *tracker) committed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.done
}

// accounts reads accounts from a few goroutines, in order of addrs.
func (r *runner) accounts(ctx context.Context, addrs []types.Address, prog *progress) ([]*apipb.GetAccountResponse, error) {
	out := make([]*apipb.GetAccountResponse, len(addrs))
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range min(8, len(addrs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(addrs) {
					return
				}
				a, err := r.c.Account(ctx, addrs[i])
				if err != nil {
					once.Do(func() { first = fmt.Errorf("reading account %s: %w", addrs[i], err) })
					next.Store(int64(len(addrs)))
					return
				}
				out[i] = a
				if prog != nil {
					prog.add(1)
				}
			}
		}()
	}
	wg.Wait()
	return out, first
}
