package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus/bft"
	"github.com/accord-chain/accord/consensus/raft"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/node"
)

func initCmd(e *env) *cobra.Command {
	var (
		o      provision.Options
		scheme string
	)
	cmd := &cobra.Command{
		Use:   "init --home DIR",
		Short: "Create a chain: config, genesis, node keys and an issuer key named admin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Orgs > 0 && !cmd.Flags().Changed("crypto") {
				scheme = "sm2" // organisations' CAs are SM2 or P-256
			}
			s, err := crypto.ParseScheme(scheme)
			if err != nil {
				return fmt.Errorf("--crypto %q: want ed25519, sm2 or p256", scheme)
			}
			o.Crypto = s
			res, err := initNetwork(o)
			if err != nil {
				return err
			}
			return e.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "chain %s initialised\n", res.ChainID)
				if len(res.Orgs) == 0 {
					fmt.Fprintf(w, "admin (issuer): %s\n", res.Admin)
				} else {
					// On a permissioned chain policies decide who mints,
					// and the admin key is not a member.
					fmt.Fprintf(w, "admin: %s (signs node membership changes; it cannot mint: token.mint needs an admin of %s, e.g. --from %s)\n",
						res.Admin, res.Orgs[0].ID, res.Orgs[0].Admin)
				}
				fmt.Fprintf(w, "keys: %s\n", res.KeysDir)
				for _, org := range res.Orgs {
					fmt.Fprintf(w, "organisation %s: %s  keys %s, %s\n", org.ID, org.Dir, org.Admin, org.Client)
				}
				for _, n := range res.Nodes {
					fmt.Fprintf(w, "node: %s  api %s\n", n.Home, n.API)
				}
				if len(res.Nodes) > 0 {
					fmt.Fprintf(w, "start with: accord start --home %s\n", res.Nodes[0].Home)
				}
			})
		},
	}
	cmd.Flags().StringVar(&o.Home, "home", "", "folder to create the chain in (required)")
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "accord-dev", "chain id")
	cmd.Flags().StringVar(&scheme, "crypto", "ed25519", "signature scheme of the keys: ed25519, sm2 or p256 (sm2 also picks the sm3 chain hash)")
	cmd.Flags().IntVar(&o.Nodes, "nodes", 1, "number of nodes")
	cmd.Flags().IntVar(&o.BasePort, "base-port", 7070, "API port of node 0; node i uses base-port+10*i")
	cmd.Flags().IntVar(&o.Orgs, "orgs", 0, "make a permissioned chain of this many organisations, each with a CA, an admin and a client (default: an open chain)")
	cmd.Flags().StringVar(&o.Consensus, "consensus", "raft", "engine of a network of several nodes: raft, or bft (byzantine-fault-tolerant, 4 nodes or more)")
	cmd.Flags().StringVar(&o.Identity, "identity", "cert", "with --orgs: cert (transactions carry certificates) or key (admins register keys)")
	_ = cmd.MarkFlagRequired("home")
	return cmd
}

// workersFlag adds --workers, which overrides how many cores verify
// signatures and execute blocks (to measure the gain of parallelism).
func workersFlag(cmd *cobra.Command, workers *int) {
	cmd.Flags().IntVar(workers, "workers", -1, "cores for signature verification and execution (0: all; 1: sequential); default: the config's")
}

func startCmd(e *env) *cobra.Command {
	var (
		home    string
		workers int
	)
	cmd := &cobra.Command{
		Use:   "start --home NODE_HOME",
		Short: "Run a node in the foreground until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNode(cmd.Context(), e, home, workers, "", nil)
		},
	}
	cmd.Flags().StringVar(&home, "home", "", "node home, e.g. DIR/node0 (required)")
	workersFlag(cmd, &workers)
	byzantineFlag(cmd)
	_ = cmd.MarkFlagRequired("home")
	return cmd
}

func devCmd(e *env) *cobra.Command {
	var (
		home     string
		workers  int
		basePort int
		api      string
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a single-node chain on embedded storage, creating it on first use",
		Long: `Run a single-node chain on embedded storage, creating it on first use. Its API listens on
127.0.0.1:7070 unless --base-port or --api says otherwise (a single node has no node-to-node port).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("base-port") && cmd.Flags().Changed("api") {
				return fmt.Errorf("--base-port and --api both set the API address: give one")
			}
			if cmd.Flags().Changed("base-port") && (basePort < 1024 || basePort > 65535) {
				return fmt.Errorf("--base-port %d: want a port from 1024 to 65535", basePort)
			}
			if !provision.Initialised(home) {
				if _, err := provision.Init(provision.Options{Home: home, BasePort: basePort}); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "initialised a new dev chain in %s\n", home)
			}
			// The flags apply to this run as well as to a new chain, so
			// that a chain made on a port now taken can still start.
			listen := api
			if cmd.Flags().Changed("base-port") {
				listen = "127.0.0.1:" + strconv.Itoa(basePort)
			}
			keys := provision.KeysDir(home)
			return runNode(cmd.Context(), e, provision.NodeHome(home, 0), workers, listen, func(api string) {
				fmt.Fprintf(e.stdout, "Accord dev node running\n  API:       http://%s\n  admin key: %s (name: admin)\n  data:      %s\nPress Ctrl-C to stop.\n",
					api, filepath.Join(keys, provision.AdminKey+".json"), provision.NodeHome(home, 0))
			})
		},
	}
	cmd.Flags().StringVar(&home, "home", DefaultHome(), "chain folder")
	cmd.Flags().IntVar(&basePort, "base-port", 7070, "API port (127.0.0.1), for a new chain and for this run")
	cmd.Flags().StringVar(&api, "api", "", "API listen address HOST:PORT for this run (default: the chain's config, 127.0.0.1:7070 when made by dev)")
	workersFlag(cmd, &workers)
	return cmd
}

// runNode opens a node home and runs it until a signal arrives or ctx
// ends; api, when not empty, replaces the config's API address.
func runNode(ctx context.Context, e *env, home string, workers int, api string, ready func(api string)) error {
	if err := node.CheckNotRemoved(home); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	adjust := func(c *config.Node) {
		if workers >= 0 {
			c.ExecutionWorkers, c.Pool.Workers = workers, workers
		}
		if api != "" {
			c.API = api
		}
		c.Byzantine = byzantineMode
	}
	n, err := node.OpenWith(home, log, adjust)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	runErr := n.Run(ctx, ready)
	if errors.Is(runErr, raft.ErrRemoved) || errors.Is(runErr, bft.ErrRemoved) {
		// Never again under this id: accord start and accord testnet
		// refuse the home from now on.
		if err := node.MarkRemoved(home, runErr); err != nil {
			log.Warn("could not mark the home as removed", "err", err)
		}
	}
	if err := n.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		log.Info("node stopped cleanly")
	}
	return runErr
}
