//go:build byzantine

package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/consensus/bft"
)

// byzantineMode is accord start --byzantine (a build with -tags byzantine).
var byzantineMode string

func byzantineFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&byzantineMode, "byzantine", "", "for tests: make this BFT validator misbehave: "+strings.Join(bft.ByzantineModes, ", "))
}
