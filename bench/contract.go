package bench

import (
	"context"
	"fmt"

	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// fundContract prepares the Contract workload: it installs wtoken as
// ContractName with the issuer's key unless an earlier run did (the
// installer is the minter), then mints every payer its share, perSender
// mints per wave. It returns each payer's next nonce.
func (r *runner) fundContract(ctx context.Context, payers *accountSet) ([]uint64, error) {
	if _, err := r.c.Contract(ctx, ContractName); sdk.IsNotFound(err) {
		if len(r.cfg.ContractCode) == 0 {
			return nil, fmt.Errorf("%w: the contract workload needs the wtoken module (ContractCode)", ErrConfig)
		}
		if r.out != nil {
			fmt.Fprintf(r.out, "installing %s (%d bytes)\n", ContractName, len(r.cfg.ContractCode))
		}
		hash, err := r.c.UploadCode(ctx, r.cfg.Issuer, nil, r.cfg.ContractCode)
		if err != nil {
			return nil, err
		}
		id, err := r.c.ContractLifecycle(ctx, r.cfg.Issuer, nil, sdk.OpInstall, ContractName, hash, nil, 0)
		if err != nil {
			return nil, err
		}
		if _, err := r.c.WaitOK(ctx, id); err != nil {
			return nil, fmt.Errorf("installing %s: %w", ContractName, err)
		}
	} else if err != nil {
		return nil, err
	}

	n := len(payers.addrs)
	np := newProgress(r.out, "nonces", n)
	got, err := r.accounts(ctx, payers.addrs, np)
	np.finish()
	if err != nil {
		return nil, err
	}
	nonces := make([]uint64, n)
	for i, a := range got {
		nonces[i] = a.NextNonce
	}
	iss, err := r.accounts(ctx, []types.Address{types.AddressOf(r.cfg.Issuer.Scheme(), r.cfg.Issuer.Public().Bytes())}, nil)
	if err != nil {
		return nil, err
	}
	issuerNonce := iss[0].NextNonce

	st, err := r.c.Status(ctx)
	if err != nil {
		return nil, err
	}
	tr := &tracker{pending: map[types.Hash]struct{}{}}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	w := startWatcher(wctx, r.c, st.Height+1, tr.handle)
	defer func() { stop(); <-w.done }()
	prog := newProgress(r.out, "fund", n)
	defer prog.finish()
	tr.mu.Lock()
	tr.prog = prog
	tr.mu.Unlock()
	for lo := 0; lo < n; lo += perSender {
		hi := min(lo+perSender, n)
		mint := func(i int) ([]byte, types.Hash, int32, error) {
			args := fmt.Appendf(nil, `{"to":"%s","amount":%d}`, payers.addrs[lo+i], uint64(minBalance))
			raw, id, err := r.chain.signCall(r.cfg.Issuer, issuerNonce+uint64(lo+i), ContractName, "mint", args)
			return raw, id, 0, err
		}
		if err := r.wave(ctx, w, tr, hi-lo, mint); err != nil {
			return nil, fmt.Errorf("minting %s to payers: %w", ContractName, err)
		}
	}
	return nonces, nil
}
