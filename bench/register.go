package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// merchantIDs names the payments workload's merchants: bench-SEED-K, so
// that runs with one seed share them.
func merchantIDs(seed uint64, n int) []string {
	ids := make([]string, n)
	for k := range ids {
		ids[k] = "bench-" + strconv.FormatUint(seed, 10) + "-" + strconv.Itoa(k)
	}
	return ids
}

// register makes sure every merchant of the payments workload is
// registered to its owner: the issuer adds the missing ones, perSender at
// a time. When the last one is registered, an earlier run of the seed
// registered them all.
func (r *runner) register(ctx context.Context, ids []string, owners []types.Address) error {
	if _, err := r.c.Merchant(ctx, ids[len(ids)-1]); err == nil {
		logf(r.out, "the %d merchants of seed %d are registered already", len(ids), r.cfg.Seed)
		return nil
	} else if !sdk.IsNotFound(err) {
		return err
	}
	missing, err := r.unregistered(ctx, ids)
	if err != nil {
		return err
	}
	issuer := types.AddressOf(r.cfg.Issuer.Scheme(), r.cfg.Issuer.Public().Bytes())
	got, err := r.accounts(ctx, []types.Address{issuer}, nil)
	if err != nil {
		return err
	}
	nonce := got[0].NextNonce
	st, err := r.c.Status(ctx)
	if err != nil {
		return err
	}
	tr := &tracker{pending: map[types.Hash]struct{}{}}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w := startWatcher(wctx, r.c, st.Height+1, tr.handle)
	defer func() { stop(); <-w.done }()
	prog := newProgress(r.out, "merchants", len(missing))
	defer prog.finish()
	tr.prog = prog
	for lo := 0; lo < len(missing); lo += perSender {
		part := missing[lo:min(lo+perSender, len(missing))]
		add := func(i int) ([]byte, types.Hash, int32, error) {
			k := part[i]
			raw, id, err := r.chain.signCall(r.cfg.Issuer, nonce+uint64(lo+i), paycall.Name, paycall.MethodAddMerchant,
				paycall.AddMerchant(ids[k], ids[k], owners[k]))
			return raw, id, 0, err
		}
		if err := r.wave(ctx, w, tr, len(part), add); err != nil {
			return fmt.Errorf("registering merchants: %w", err)
		}
	}
	return nil
}

// unregistered returns the indices of the ids no merchant has.
func (r *runner) unregistered(ctx context.Context, ids []string) ([]int, error) {
	found := make([]bool, len(ids))
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range min(8, len(ids)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				_, err := r.c.Merchant(ctx, ids[i])
				switch {
				case err == nil:
					found[i] = true
				case !sdk.IsNotFound(err):
					once.Do(func() { first = fmt.Errorf("reading merchant %s: %w", ids[i], err) })
					next.Store(int64(len(ids)))
					return
				}
			}
		})
	}
	wg.Wait()
	var missing []int
	for i, ok := range found {
		if !ok {
			missing = append(missing, i)
		}
	}
	return missing, first
}
