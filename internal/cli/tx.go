package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

type txResult struct {
	TxID    string `json:"tx_id"`
	Height  uint64 `json:"height,omitempty"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

func txCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Sign and submit transactions"}
	cmd.AddCommand(
		tokenTxCmd(e, tokencall.MethodMint, "Mint new units to an address (issuer only)"),
		tokenTxCmd(e, tokencall.MethodTransfer, "Transfer units to an address"),
		tokenTxCmd(e, tokencall.MethodBurn, "Burn units from the issuer's own balance (issuer only)"),
		txSendCmd(e),
	)
	return cmd
}

func tokenTxCmd(e *env, method, short string) *cobra.Command {
	var (
		from, to, amount string
		wait             bool
		timeout          time.Duration
		so               signOnly
	)
	cmd := &cobra.Command{
		Use:   method,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := parseAmount(amount)
			if err != nil {
				return err
			}
			var args []byte
			switch method {
			case tokencall.MethodBurn:
				args = tokencall.Burn(n)
			default:
				if to == "" {
					return fmt.Errorf("--to is required")
				}
				addr, err := types.ParseAddress(to)
				if err != nil {
					return fmt.Errorf("--to: %w", err)
				}
				if method == tokencall.MethodMint {
					args = tokencall.Mint(addr, n)
				} else {
					args = tokencall.Transfer(addr, n)
				}
			}
			ks, err := keystore.Open(e.keys)
			if err != nil {
				return err
			}
			key, err := ks.Get(from)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			cert, err := ks.Cert(from) // a member of a permissioned chain signs as its certificate
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			call := sdk.Call{Contract: tokencall.Name, Method: method, Args: args, Cert: cert}
			if so.on && wait {
				return fmt.Errorf("--wait waits for a sent transaction: with --sign-only, wait when sending it (accord tx send FILE --wait)")
			}
			if so.on || so.changed() {
				return so.sign(ctx, e, key, call)
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			tx, err := c.Sign(ctx, key.Private, call)
			if err != nil {
				return err
			}
			id, err := c.Submit(ctx, tx)
			if err != nil {
				return err
			}
			return finishTx(ctx, e, c, id, wait)
		},
	}
	def := ""
	if method != tokencall.MethodTransfer {
		def = "admin"
	}
	cmd.Flags().StringVar(&from, "from", def, "name of the signing key in --keys")
	if method != tokencall.MethodBurn {
		cmd.Flags().StringVar(&to, "to", "", "recipient address (40 hex digits)")
	}
	cmd.Flags().StringVar(&amount, "amount", "", "amount in whole units (required)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until committed; exit non-zero if the transaction failed")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	so.flags(cmd)
	_ = cmd.MarkFlagRequired("amount")
	if method == tokencall.MethodTransfer {
		_ = cmd.MarkFlagRequired("from")
	}
	nodeFlag(cmd, e)
	keysFlag(cmd, e)
	return cmd
}

// statusName is the receipt status as scripts see it: ok, failed or invalid.
func statusName(s pb.TxStatus) string {
	switch s {
	case pb.TxStatus_TX_STATUS_OK:
		return "ok"
	case pb.TxStatus_TX_STATUS_FAILED:
		return "failed"
	case pb.TxStatus_TX_STATUS_INVALID:
		return "invalid"
	}
	return s.String()
}
