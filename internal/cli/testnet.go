package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/node"
)

// testnetStartTimeout bounds how long testnet waits for every node's API.
const testnetStartTimeout = 2 * time.Minute

func testnetCmd(e *env) *cobra.Command {
	var (
		o       provision.Options
		scheme  string
		workers int
	)
	cmd := &cobra.Command{
		Use:   "testnet --nodes N --home DIR",
		Short: "Run a local Raft network: initialise DIR if needed, start every node as a child process, stop them all on Ctrl-C",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !provision.Initialised(o.Home) {
				if scheme == "" {
					scheme = "ed25519"
					if o.Orgs > 0 {
						scheme = "sm2"
					}
				}
				s, err := crypto.ParseScheme(scheme)
				if err != nil {
					return fmt.Errorf("--crypto %q: want ed25519, sm2 or p256", scheme)
				}
				o.Crypto = s
				if o.Nodes < 2 {
					return fmt.Errorf("--nodes %d: a testnet needs at least 2 nodes (accord dev runs one)", o.Nodes)
				}
				if _, err := initNetwork(o); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "initialised a %d-node network in %s\n", o.Nodes, o.Home)
			}
			homes, skipped, err := networkHomes(o.Home)
			if err != nil {
				return err
			}
			for _, h := range skipped {
				fmt.Fprintf(e.stderr, "not starting %s: removed from the cluster (see %s)\n", h, filepath.Join(h, node.RemovedFile))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if workers < 0 {
				// The nodes share this machine: each gets its share of
				// the cores rather than all of them, so that N nodes do
				// not each spread work over every core at once.
				workers = max(1, runtime.NumCPU()/len(homes))
			}
			return runTestnet(ctx, e, o.Home, homes, workers)
		},
	}
	cmd.Flags().IntVar(&workers, "workers", -1, "cores each node verifies and executes on (default: this machine's cores divided among the nodes, at least 1)")
	cmd.Flags().StringVar(&o.Home, "home", "", "network folder (required); created with --nodes nodes if it holds none")
	cmd.Flags().IntVar(&o.Nodes, "nodes", 4, "number of nodes when creating the network")
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "accord-dev", "chain id when creating the network")
	cmd.Flags().StringVar(&scheme, "crypto", "", "signature scheme of the keys when creating the network (default ed25519; sm2 with --orgs)")
	cmd.Flags().IntVar(&o.Orgs, "orgs", 0, "when creating the network: a permissioned chain of this many organisations (see accord init --orgs)")
	cmd.Flags().StringVar(&o.Consensus, "consensus", "raft", "engine of a network of several nodes: raft, or bft (byzantine-fault-tolerant, 4 nodes or more)")
	cmd.Flags().IntVar(&o.BasePort, "base-port", 7070, "API port of node 0 when creating the network; node i uses base-port+10*i, its p2p port the next one")
	_ = cmd.MarkFlagRequired("home")
	return cmd
}

// networkHomes lists the node homes of a network folder (nodeK folders
// with a config, in order of K; a missing K is no end, since a folder may
// have been deleted), leaving out those of nodes the network removed, which
// must never start again; it names those in skipped.
func networkHomes(dir string) (homes, skipped []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var ks []int
	for _, de := range entries {
		k, err := strconv.Atoi(strings.TrimPrefix(de.Name(), "node"))
		if !de.IsDir() || !strings.HasPrefix(de.Name(), "node") || err != nil || k < 0 || provision.NodeHome(dir, k) != filepath.Join(dir, de.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, de.Name(), config.File)); err == nil {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	for _, k := range ks {
		h := provision.NodeHome(dir, k)
		if node.CheckNotRemoved(h) != nil {
			skipped = append(skipped, h)
			continue
		}
		homes = append(homes, h)
	}
	if len(homes) == 0 {
		return nil, skipped, fmt.Errorf("%s holds no node homes that may start", dir)
	}
	return homes, skipped, nil
}

// child is one node process of a testnet.
type child struct {
	home string
	api  string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

// runTestnet starts a child process per node home, reports their APIs,
// and on ctx's end stops them: SIGTERM, then SIGKILL after a grace period.
func runTestnet(ctx context.Context, e *env, dir string, homes []string, workers int) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program to start nodes with: %w", err)
	}
	var children []*child
	defer func() { stopChildren(e, children) }()
	for _, home := range homes {
		cfg, err := config.Load(home)
		if err != nil {
			return err
		}
		logPath := filepath.Join(home, "node.log")
		lf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		c := &child{home: home, api: "http://" + cfg.API, log: lf, done: make(chan error, 1)}
		c.cmd = exec.Command(self, "start", "--home", home, "--workers", strconv.Itoa(workers))
		c.cmd.Stdout, c.cmd.Stderr = lf, lf
		// Own process group: a Ctrl-C reaches testnet, which stops the
		// nodes in order, rather than every node at once.
		c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := c.cmd.Start(); err != nil {
			lf.Close()
			return fmt.Errorf("starting the node in %s: %w", home, err)
		}
		go func() { c.done <- c.cmd.Wait() }()
		children = append(children, c)
	}
	if err := waitAPIs(ctx, children); err != nil {
		return err
	}
	results := make([]any, len(children))
	for i, c := range children {
		results[i] = map[string]string{"home": c.home, "api": c.api, "log": filepath.Join(c.home, "node.log")}
	}
	if err := e.print(map[string]any{"network": dir, "workers": workers, "nodes": results}, func(w io.Writer) {
		fmt.Fprintf(w, "Accord testnet of %d nodes running (%s), %d worker(s) each\n", len(children), dir, workers)
		for _, c := range children {
			fmt.Fprintf(w, "  %s  API %s  log %s\n", filepath.Base(c.home), c.api, filepath.Join(c.home, "node.log"))
		}
		fmt.Fprintln(w, "Press Ctrl-C to stop every node.")
	}); err != nil {
		return err
	}
	// Run until Ctrl-C; a node that exits on its own is reported, and the
	// others keep running (a testnet is for trying faults too).
	exited := make(chan int, len(children))
	for i, c := range children {
		go func() {
			select {
			case err := <-c.done:
				c.done <- err // keep it for stopChildren
				exited <- i
			case <-ctx.Done():
			}
		}()
	}
	alive := len(children)
	for alive > 0 {
		select {
		case <-ctx.Done():
			fmt.Fprintln(e.stderr, "stopping the testnet")
			return nil
		case i := <-exited:
			alive--
			fmt.Fprintf(e.stderr, "%s exited: %v (see %s)\n", filepath.Base(children[i].home), exitText(children[i]), filepath.Join(children[i].home, "node.log"))
		}
	}
	return errors.New("every node exited")
}

func exitText(c *child) string {
	if c.cmd.ProcessState == nil {
		return "running"
	}
	return c.cmd.ProcessState.String()
}

// waitAPIs waits until every child answers /healthz, or one exits.
func waitAPIs(ctx context.Context, children []*child) error {
	ctx, cancel := context.WithTimeout(ctx, testnetStartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var wg sync.WaitGroup
	errs := make([]error, len(children))
	for i, c := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := client.Get(c.api + "/healthz")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return
					}
				}
				select {
				case err := <-c.done:
					c.done <- err
					errs[i] = fmt.Errorf("node in %s exited while starting (%v); see its node.log", c.home, err)
					return
				case <-ctx.Done():
					errs[i] = fmt.Errorf("node in %s: API %s not up after %s; see its node.log", c.home, c.api, testnetStartTimeout)
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the first; the others are in their logs
		}
	}
	return nil
}

// stopChildren sends SIGTERM to every running child, waits for them, and
// kills any that has not stopped after a grace period.
func stopChildren(e *env, children []*child) {
	const grace = 20 * time.Second
	for _, c := range children {
		if c.cmd.Process != nil && c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(grace)
	for _, c := range children {
		select {
		case <-c.done:
		case <-time.After(time.Until(deadline)):
			fmt.Fprintf(e.stderr, "%s did not stop in %s; killing it\n", filepath.Base(c.home), grace)
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		c.log.Close()
	}
}
