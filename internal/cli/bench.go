package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/accord-chain/accord/internal/wasmbuild"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/bench"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/keystore"
)

func benchCmd(e *env) *cobra.Command {
	var (
		cfg      bench.Config
		from     string
		scheme   string
		wasmFile string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure committed transactions per second and commit latency of a node",
		Long: `Derive payer accounts from --seed, fund them from the issuer key, pre-sign
token transfers, submit them for --duration and count what commits, from
committed blocks. Progress goes to stderr; the report to stdout.

Workloads: uniform (a random payer pays a random other payer), merchants
(a random payer pays a merchant drawn with Zipf exponent --zipf, rank 1 the
hottest) and contract (uniform, through the wtoken contract, which it installs
as bench-wtoken and mints the payers from; --wasm names the module). With --rate 0 the bench pre-signs --max-txs transactions, by default
60,000 per second of --duration (at most 2,000,000), and submits them as fast
as the node accepts, keeping at most --max-pending uncommitted. See
docs/benchmarks.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if e.tlsCA != "" || e.as != "" {
				return errors.New("bench measures a node over plain HTTP: --tls-ca and --as are not supported; bench a node without api_tls")
			}
			s, err := crypto.ParseScheme(scheme)
			if err != nil {
				return fmt.Errorf("--crypto %q: want ed25519, sm2 or p256", scheme)
			}
			ks, err := keystore.Open(e.keys)
			if err != nil {
				return err
			}
			key, err := ks.Get(from)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			cfg.Crypto, cfg.Node, cfg.Issuer = s, e.node, key.Private
			if cfg.Workload == bench.Contract {
				if cfg.ContractCode, err = wtokenCode(wasmFile); err != nil {
					return err
				}
			}
			// Validate before Run fills defaults, so that an explicit zero
			// (--accounts 0, --zipf 0) is an error rather than a default.
			if err := cfg.Validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := bench.Run(ctx, cfg, e.stderr)
			if err != nil {
				if ctx.Err() != nil && cmd.Context().Err() == nil {
					return fmt.Errorf("interrupted: %w", context.Canceled)
				}
				return err
			}
			return e.print(rep, func(w io.Writer) { rep.WriteText(w) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "admin", "name of the issuer's key in --keys; it funds the payers")
	f.StringVar(&cfg.Workload, "workload", bench.Uniform, "uniform, merchants or contract")
	f.StringVar(&wasmFile, "wasm", "", "contract workload: the wtoken module (default: build examples/contracts/wtoken with the installed Go, from the repository)")
	f.IntVar(&cfg.Accounts, "accounts", 10_000, "number of payer accounts")
	f.IntVar(&cfg.Merchants, "merchants", 5_000, "number of merchants (merchants workload)")
	f.Float64Var(&cfg.Zipf, "zipf", 1.2, "Zipf exponent of merchant popularity, > 1 (merchants workload)")
	f.StringVar(&scheme, "crypto", "ed25519", "signature scheme of the payers: ed25519, sm2 or p256")
	f.Float64Var(&cfg.Rate, "rate", 0, "offered load in tx/s; 0: as fast as the node accepts")
	f.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, "length of the measured window")
	f.IntVar(&cfg.Batch, "batch", 500, "transactions per SubmitTxs call")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the keys and the workload")
	f.IntVar(&cfg.MaxTxs, "max-txs", 0, "transactions to pre-sign (with --rate, at most); 0: rate×duration, or with --rate 0 60,000 per second of duration up to 2,000,000")
	f.IntVar(&cfg.MaxPending, "max-pending", 50_000, "most transactions submitted but not yet committed; -1: only the node's pool limits it")
	f.IntVar(&cfg.Submitters, "submitters", 4, "concurrent SubmitTxs callers")
	f.DurationVar(&cfg.Drain, "drain", bench.DefaultDrain, "how long to keep counting commits after the window")
	nodeFlag(cmd, e)
	keysFlag(cmd, e)
	return cmd
}

// wtokenCode reads the wtoken module from file, or builds it from the
// repository's examples/contracts/wtoken.
func wtokenCode(file string) ([]byte, error) {
	if file != "" {
		return os.ReadFile(file)
	}
	dir, err := os.MkdirTemp("", "accord-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "wtoken.wasm")
	if err := wasmbuild.Build("./examples/contracts/wtoken", out); err != nil {
		return nil, fmt.Errorf("%w (run from the repository, or pass --wasm FILE)", err)
	}
	return os.ReadFile(out)
}
