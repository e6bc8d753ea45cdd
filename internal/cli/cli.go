// Package cli implements the accord command line. Every command that prints
// data takes -o json; errors print one line on stderr and exit non-zero.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// DefaultNode is the API URL of the dev node.
const DefaultNode = "http://127.0.0.1:7070"

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
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
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
		Use:           "accord",
		Short:         "Accord: a permissioned blockchain for consortium ledgers",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if e.output != "text" && e.output != "json" {
				return fmt.Errorf("-o %q: want text or json", e.output)
			}
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVarP(&e.output, "output", "o", "text", "output format: text or json")
	root.AddCommand(
		initCmd(e), startCmd(e), devCmd(e),
		keysCmd(e), txCmd(e), queryCmd(e), statusCmd(e),
		benchCmd(e), testnetCmd(e), nodeCmd(e),
		govCmd(e), certCmd(e),
	)
	return root
}

func nodeFlag(cmd *cobra.Command, e *env) {
	cmd.Flags().StringVar(&e.node, "node", DefaultNode, "node API URL")
}

func keysFlag(cmd *cobra.Command, e *env) {
	cmd.Flags().StringVar(&e.keys, "keys", filepath.Join(DefaultHome(), "keys"), "key folder")
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
