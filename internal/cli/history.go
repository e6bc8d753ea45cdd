package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/types"
)

type accountTxJSON struct {
	TxID     string `json:"tx_id"`
	Height   uint64 `json:"height"`
	Index    uint32 `json:"index"`
	Contract string `json:"contract"`
	Method   string `json:"method"`
	Status   string `json:"status"`
}

// queryTxsCmd is accord query txs: an account's history, newest first.
func queryTxsCmd(e *env) *cobra.Command {
	var (
		account, before string
		limit           uint32
	)
	cmd := &cobra.Command{
		Use:   "txs",
		Short: "List an account's transactions, newest first (page with --before NEXT)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := types.ParseAddress(account)
			if err != nil {
				return fmt.Errorf("--account: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			r, err := c.AccountTxs(ctx, addr, limit, before)
			if err != nil {
				return err
			}
			v := struct {
				Txs  []accountTxJSON `json:"txs"`
				Next string          `json:"next"`
			}{Txs: []accountTxJSON{}, Next: r.Next}
			for _, t := range r.Txs {
				v.Txs = append(v.Txs, accountTxJSON{t.TxId, t.Height, t.Index, t.Contract, t.Method, t.Status})
			}
			return e.print(v, func(w io.Writer) {
				for _, t := range v.Txs {
					fmt.Fprintf(w, "%8d.%-4d %s %-7s %s.%s\n", t.Height, t.Index, t.TxID, t.Status, t.Contract, t.Method)
				}
				if v.Next != "" {
					fmt.Fprintf(w, "more: --before %s\n", v.Next)
				}
			})
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "the account's address (required)")
	cmd.Flags().Uint32Var(&limit, "limit", 0, "at most this many (default 50, at most 1000)")
	cmd.Flags().StringVar(&before, "before", "", "list what is older than this cursor (a previous answer's next)")
	_ = cmd.MarkFlagRequired("account")
	return cmd
}
