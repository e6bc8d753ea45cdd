//go:build !byzantine

package cli

import "github.com/spf13/cobra"

// byzantineMode stays empty: only a build with -tags byzantine has
// accord start --byzantine.
var byzantineMode string

func byzantineFlag(*cobra.Command) {}
