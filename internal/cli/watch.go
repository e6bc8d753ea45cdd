package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// watchEvent is one line of `accord watch -o json`.
type watchEvent struct {
	Height     uint64            `json:"height"`
	BlockHash  string            `json:"block_hash"`
	Time       uint64            `json:"time"` // block time, unix ms
	TxID       string            `json:"tx_id"`
	Index      uint32            `json:"index"`
	Status     string            `json:"status"`
	Contract   string            `json:"contract"`
	Event      string            `json:"event"`
	Attributes map[string]string `json:"attributes"`
}

// attrText renders an event's attributes as key=value pairs in their
// order, for text output.
func attrText(attrs []*pb.Attribute) string {
	kv := make([]string, len(attrs))
	for i, a := range attrs {
		kv[i] = a.Key + "=" + a.Value
	}
	return strings.Join(kv, " ")
}

func watchCmd(e *env) *cobra.Command {
	var f sdk.EventFilter
	cmd := &cobra.Command{
		Use:   "watch [--contract C] [--event E] [--account A] [--from-height H]",
		Short: "Stream committed events as they happen, one a line; resume with --from-height",
		Long: `Stream committed events that match every filter given, one a line (-o json: one JSON object a
line), until Ctrl-C. Each line names its block's height: to resume after a stop, pass the last
height printed plus one as --from-height (blocks from there are replayed from the node's store).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Account != "" {
				a, err := types.ParseAddress(f.Account)
				if err != nil {
					return fmt.Errorf("--account: %w", err)
				}
				f.Account = a.String()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			c, err := e.client()
			if err != nil {
				return err
			}
			s, err := c.Watch(ctx, f)
			if err != nil {
				return err
			}
			defer s.Close()
			enc := json.NewEncoder(e.stdout) // one object a line: no indent
			for s.Receive() {
				m := s.Msg()
				for _, r := range m.Results {
					for _, ev := range r.Receipt.Events {
						if e.json() {
							attrs := make(map[string]string, len(ev.Attributes))
							for _, a := range ev.Attributes {
								attrs[a.Key] = a.Value
							}
							if err := enc.Encode(watchEvent{Height: m.Header.Height, BlockHash: m.Header.Hash, Time: m.Header.Time,
								TxID: r.TxId, Index: r.Index, Status: statusName(r.Receipt.Status),
								Contract: ev.Contract, Event: ev.Name, Attributes: attrs}); err != nil {
								return err
							}
							continue
						}
						fmt.Fprintf(e.stdout, "height=%d tx=%s %s.%s %s\n", m.Header.Height, r.TxId, ev.Contract, ev.Name, attrText(ev.Attributes))
					}
				}
			}
			if ctx.Err() != nil {
				return nil // Ctrl-C: a normal end
			}
			if err := s.Err(); err != nil {
				return fmt.Errorf("watching %s: %w", c.URL(), err)
			}
			return fmt.Errorf("the node at %s ended the stream; resume with --from-height", c.URL())
		},
	}
	cmd.Flags().StringVar(&f.Contract, "contract", "", "only events of this contract, e.g. token")
	cmd.Flags().StringVar(&f.Event, "event", "", "only events of this name, e.g. transfer")
	cmd.Flags().StringVar(&f.Account, "account", "", "only events of transactions this address sent, or naming it (e.g. a transfer's from or to)")
	cmd.Flags().Uint64Var(&f.FromHeight, "from-height", 0, "replay committed blocks from this height first (default: start with the next block)")
	nodeFlag(cmd, e)
	return cmd
}
