// Package cli implements the accord command line. Every command that prints
// data takes -o json; errors print one line on stderr and exit non-zero.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
)

// DefaultNode is the API URL of the dev node.
const DefaultNode = "http://127.0.0.1:7070"

// Environment variables that stand in for flags a user would otherwise
// repeat on every command; a flag given on the command line wins.
const (
	EnvNode = "ACCORD_NODE" // --node of every command whose default is DefaultNode
	EnvKeys = "ACCORD_KEYS" // --keys
)

// DefaultHome is where `accord dev` keeps its chain: $ACCORD_HOME, or
// ~/.accord/dev.
func DefaultHome() string {
	if h := os.Getenv("ACCORD_HOME"); h != "" {
		return h
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".accord", "dev")
	}
	return filepath.Join(home, ".accord", "dev")
}

// errSilent marks an error already reported to the user.
var errSilent = errors.New("")

// Run executes the command line args and returns the exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	return RunContext(context.Background(), args, stdout, stderr)
}

// RunContext is Run with a context whose end stops a running node or
// stream, as a signal would.
func RunContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errSilent) {
			msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
			fmt.Fprintln(stderr, "error: "+msg)
		}
		return 1
	}
	return 0
}

type env struct {
	stdout, stderr io.Writer
	output         string
	node           string
	keys           string
	tlsCA          string // --tls-ca
	as             string // --as
}

func (e *env) json() bool { return e.output == "json" }

// print writes v as JSON with -o json, otherwise as text via the text func.
func (e *env) print(v any, text func(w io.Writer)) error {
	if e.json() {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(e.stdout)
	return nil
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	e := &env{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "accord",
		Short: "Accord: a permissioned blockchain for consortium ledgers",
		Long: `Accord: a permissioned blockchain for consortium ledgers.

Environment: ` + EnvNode + ` replaces the default of --node, and ` + EnvKeys + ` of --keys (a flag on the
command line wins); ACCORD_HOME is where accord dev keeps its chain (default ~/.accord/dev).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if e.output != "text" && e.output != "json" {
				return fmt.Errorf("-o %q: want text or json", e.output)
			}
			if (e.tlsCA != "" || e.as != "") && cmd.Flags().Lookup("node") == nil {
				return fmt.Errorf("--tls-ca and --as apply to commands that take --node; %q does not", cmd.CommandPath())
			}
			e.applyEnv(cmd)
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVarP(&e.output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&e.tlsCA, "tls-ca", "", "PEM file of the CA that signs the node's API certificate (NET/network/ca.pem), for an https:// --node")
	root.PersistentFlags().StringVar(&e.as, "as", "", "prove to an https:// node that serves members only that you are the member of key `KEY` in --keys (KEY.pem beside it)")
	root.AddCommand(
		initCmd(e), startCmd(e), devCmd(e),
		keysCmd(e), txCmd(e), queryCmd(e), statusCmd(e),
		benchCmd(e), testnetCmd(e), nodeCmd(e),
		govCmd(e), certCmd(e), watchCmd(e),
		contractCmd(e),
	)
	return root
}

// nodeFlag adds --node, and --keys for the key of --as.
func nodeFlag(cmd *cobra.Command, e *env) {
	cmd.Flags().StringVar(&e.node, "node", DefaultNode, "node API URL: http://HOST:PORT, or https:// with --tls-ca and --as; $"+EnvNode+", when set, replaces the default")
	keysFlag(cmd, e)
}

func keysFlag(cmd *cobra.Command, e *env) {
	if cmd.Flags().Lookup("keys") != nil {
		return
	}
	cmd.Flags().StringVar(&e.keys, "keys", filepath.Join(DefaultHome(), "keys"), "key folder; $"+EnvKeys+", when set, replaces the default")
}

// applyEnv fills --node and --keys from the environment where cmd takes
// them and the command line did not give them. Only a --node whose default
// is DefaultNode takes $ACCORD_NODE: commands that pick their node another
// way (node add: the network's node0) keep their own default.
func (e *env) applyEnv(cmd *cobra.Command) {
	if f := cmd.Flags().Lookup("node"); f != nil && !f.Changed && f.DefValue == DefaultNode {
		if v := os.Getenv(EnvNode); v != "" {
			e.node = v
		}
	}
	if f := cmd.Flags().Lookup("keys"); f != nil && !f.Changed {
		if v := os.Getenv(EnvKeys); v != "" {
			e.keys = v
		}
	}
}

// client returns the SDK client of --node: over TLS trusting --tls-ca,
// proving membership as --as, when they are given.
func (e *env) client() (*sdk.Client, error) {
	var opts []sdk.Option
	if e.tlsCA != "" {
		pem, err := os.ReadFile(e.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		opts = append(opts, sdk.WithTLS(pem))
	}
	if e.as != "" {
		ks, err := keystore.Open(e.keys)
		if err != nil {
			return nil, err
		}
		k, err := ks.Get(e.as)
		if err != nil {
			return nil, fmt.Errorf("--as: %w", err)
		}
		der, err := ks.Cert(e.as)
		if err != nil {
			return nil, fmt.Errorf("--as: %w", err)
		}
		if der == nil {
			return nil, fmt.Errorf("--as %s: no certificate %s: a member proves itself with its certificate (accord cert issue makes one)", e.as, ks.CertPath(e.as))
		}
		opts = append(opts, sdk.WithMember(k.Private, der))
	}
	if len(opts) > 0 && !strings.HasPrefix(e.node, "https://") {
		return nil, fmt.Errorf("--tls-ca and --as need an https:// --node, not %s", e.node)
	}
	return sdk.New(e.node, opts...), nil
}

// parseAmount reads a positive whole number of token units.
func parseAmount(s string) (uint64, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("--amount %q: must not be negative", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("--amount %q: larger than %d", s, uint64(1<<64-1))
		}
		return 0, fmt.Errorf("--amount %q: want a whole number of units, e.g. 100", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("--amount must be greater than zero")
	}
	return n, nil
}
