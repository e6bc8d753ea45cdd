package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

func payCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "pay", Short: "Merchant payments: merchants, payment requests, payments, refunds, statements"}
	merchant := &cobra.Command{Use: "merchant", Short: "Register and read merchants"}
	merchant.AddCommand(merchantAddCmd(e), merchantShowCmd(e), merchantListCmd(e))
	cmd.AddCommand(merchant, payRequestCmd(e), payCancelCmd(e), payPayCmd(e), payRefundCmd(e), payStatementCmd(e))
	return cmd
}

// payTx holds the flags every pay transaction takes.
type payTx struct {
	from    string
	wait    bool
	timeout time.Duration
}

func (p *payTx) flags(cmd *cobra.Command, e *env, fromHelp string) {
	cmd.Flags().StringVar(&p.from, "from", "", fromHelp)
	cmd.Flags().BoolVar(&p.wait, "wait", false, "wait until committed; exit non-zero if the transaction failed")
	cmd.Flags().DurationVar(&p.timeout, "timeout", 30*time.Second, "give up after this long")
	_ = cmd.MarkFlagRequired("from")
	nodeFlag(cmd, e)
}

// sent is a pay transaction after submission: what every pay command
// prints, plus its own fields.
type sent struct {
	TxID    string `json:"tx_id"`
	Height  uint64 `json:"height,omitempty"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// send signs a call of the pay contract with --from, submits it and, with
// --wait, waits for its receipt.
func (p *payTx) send(ctx context.Context, e *env, c *sdk.Client, method string, args []byte) (types.Hash, sent, error) {
	ks, err := keystore.Open(e.keys)
	if err != nil {
		return types.Hash{}, sent{}, err
	}
	key, err := ks.Get(p.from)
	if err != nil {
		return types.Hash{}, sent{}, fmt.Errorf("--from: %w", err)
	}
	cert, err := ks.Cert(p.from)
	if err != nil {
		return types.Hash{}, sent{}, err
	}
	tx, err := c.Sign(ctx, key.Private, sdk.Call{Contract: paycall.Name, Method: method, Args: args, Cert: cert})
	if err != nil {
		return types.Hash{}, sent{}, err
	}
	id, err := c.Submit(ctx, tx)
	if err != nil {
		return types.Hash{}, sent{}, err
	}
	s := sent{TxID: id.String(), Status: "submitted"}
	if p.wait {
		r, err := c.Wait(ctx, id)
		if err != nil {
			return id, s, err
		}
		s.Height, s.Status, s.Message = r.Height, statusName(r.Receipt.Status), r.Receipt.Message
	}
	return id, s, nil
}

// failed is the error of a waited-for transaction that did not succeed.
func (s sent) failed() error {
	if s.Status == "ok" || s.Status == "submitted" {
		return nil
	}
	return fmt.Errorf("transaction %s %s: %s", s.TxID, s.Status, s.Message)
}

func (s sent) text(w io.Writer) {
	fmt.Fprintf(w, "tx_id:   %s\nstatus:  %s\n", s.TxID, s.Status)
	if s.Height > 0 {
		fmt.Fprintf(w, "height:  %d\n", s.Height)
	}
	if s.Message != "" {
		fmt.Fprintf(w, "reason:  %s\n", s.Message)
	}
}

func merchantAddCmd(e *env) *cobra.Command {
	var (
		id, name, owner string
		p               payTx
	)
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Register a merchant and the account that receives its payments (the token issuer on an open chain; pay.add_merchant's policy on a permissioned one)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := paycall.CheckID(id); err != nil {
				return fmt.Errorf("--id: %w", err)
			}
			addr, err := types.ParseAddress(owner)
			if err != nil {
				return fmt.Errorf("--owner: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			_, s, err := p.send(ctx, e, c, paycall.MethodAddMerchant, paycall.AddMerchant(id, name, addr))
			if err != nil {
				return err
			}
			if err := e.print(s, s.text); err != nil {
				return err
			}
			return s.failed()
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "merchant id: 1 to 64 letters, digits, '.', '_' or '-' (required)")
	cmd.Flags().StringVar(&name, "name", "", "merchant name, at most 128 bytes")
	cmd.Flags().StringVar(&owner, "owner", "", "address that receives the merchant's payments and may request and refund them (required)")
	_ = cmd.MarkFlagRequired("id")
	_ = cmd.MarkFlagRequired("owner")
	p.flags(cmd, e, "name of the signing key in --keys: the issuer, or an admin the policy allows (required)")
	return cmd
}

func merchantShowCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show M",
		Short: "Show a merchant",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			m, err := c.Merchant(ctx, args[0])
			if err != nil {
				return err
			}
			v := merchantOut(m)
			return e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "id:             %s\nname:           %s\nowner:          %s\ncreated_height: %d\n", v.ID, v.Name, v.Owner, v.CreatedHeight)
			})
		},
	}
	nodeFlag(cmd, e)
	return cmd
}

type merchantJSON struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Owner         string `json:"owner"`
	CreatedHeight uint64 `json:"created_height"`
}

func merchantOut(m *apipb.Merchant) merchantJSON {
	return merchantJSON{m.Id, m.Name, m.Owner, m.CreatedHeight}
}

func merchantListCmd(e *env) *cobra.Command {
	var (
		limit uint32
		after string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List merchants in id order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			r, err := c.Merchants(ctx, limit, after)
			if err != nil {
				return err
			}
			v := struct {
				Merchants []merchantJSON `json:"merchants"`
				Next      string         `json:"next"`
			}{Merchants: []merchantJSON{}, Next: r.Next}
			for _, m := range r.Merchants {
				v.Merchants = append(v.Merchants, merchantOut(m))
			}
			return e.print(v, func(w io.Writer) {
				for _, m := range v.Merchants {
					fmt.Fprintf(w, "%-20s %s  %s\n", m.ID, m.Owner, m.Name)
				}
				if v.Next != "" {
					fmt.Fprintf(w, "more: --after %s\n", v.Next)
				}
			})
		},
	}
	cmd.Flags().Uint32Var(&limit, "limit", 0, "at most this many (default 100, at most 1000)")
	cmd.Flags().StringVar(&after, "after", "", "list the ids after this one (a previous answer's next)")
	nodeFlag(cmd, e)
	return cmd
}

func payRequestCmd(e *env) *cobra.Command {
	var (
		merchant, amount, memo, qr string
		expires                    time.Duration
		p                          payTx
	)
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Record a payment request and print its id and payment URI (--qr: as a QR code)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := parseAmount(amount)
			if err != nil {
				return err
			}
			if err := paycall.CheckID(merchant); err != nil {
				return fmt.Errorf("--merchant: %w", err)
			}
			if expires < 0 {
				return fmt.Errorf("--expires %s: must not be negative", expires)
			}
			var at uint64
			if expires > 0 {
				at = uint64(time.Now().Add(expires).UnixMilli())
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			info, err := c.Info(ctx)
			if err != nil {
				return err
			}
			id, s, err := p.send(ctx, e, c, paycall.MethodRequest, paycall.Request(merchant, n, at, memo))
			if err != nil {
				return err
			}
			uri := paycall.URI{Chain: info.ChainID, Merchant: merchant, Request: id, Amount: n}.String()
			if qr != "" && s.failed() == nil {
				if err := writeQR(qr, uri); err != nil {
					return err
				}
			}
			v := struct {
				ID string `json:"id"`
				sent
				Merchant  string `json:"merchant"`
				Amount    uint64 `json:"amount"`
				ExpiresAt uint64 `json:"expires_at"`
				URI       string `json:"uri"`
				QR        string `json:"qr,omitempty"`
			}{id.String(), s, merchant, n, at, uri, qr}
			if err := e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "id:      %s\nuri:     %s\n", v.ID, v.URI)
				if qr != "" {
					fmt.Fprintf(w, "qr:      %s\n", qr)
				}
				s.text(w)
			}); err != nil {
				return err
			}
			return s.failed()
		},
	}
	cmd.Flags().StringVar(&merchant, "merchant", "", "merchant id (required)")
	cmd.Flags().StringVar(&amount, "amount", "", "amount in whole units (required)")
	cmd.Flags().DurationVar(&expires, "expires", 0, "the request expires this long from now (e.g. 15m); 0 never")
	cmd.Flags().StringVar(&memo, "memo", "", "a note for the payer, at most 256 bytes")
	cmd.Flags().StringVar(&qr, "qr", "", "also write the payment URI as a QR code to this PNG file")
	_ = cmd.MarkFlagRequired("merchant")
	_ = cmd.MarkFlagRequired("amount")
	p.flags(cmd, e, "name of the merchant owner's key in --keys (required)")
	return cmd
}

func payCancelCmd(e *env) *cobra.Command {
	var (
		request string
		p       payTx
	)
	cmd := &cobra.Command{
		Use:   "cancel",
		Short: "Cancel an open payment request, so that paying it fails with cancelled (merchant owner only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rid, err := types.ParseHash(request)
			if err != nil {
				return fmt.Errorf("--request: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			_, s, err := p.send(ctx, e, c, paycall.MethodCancel, paycall.Cancel(rid))
			if err != nil {
				return err
			}
			if err := e.print(s, s.text); err != nil {
				return err
			}
			return s.failed()
		},
	}
	cmd.Flags().StringVar(&request, "request", "", "the payment request's id (required)")
	_ = cmd.MarkFlagRequired("request")
	p.flags(cmd, e, "name of the merchant owner's key in --keys (required)")
	return cmd
}

func payPayCmd(e *env) *cobra.Command {
	var (
		request, merchant, amount string
		p                         payTx
	)
	cmd := &cobra.Command{
		Use:   "pay",
		Short: "Pay a payment request once (--request), or a merchant without one (--merchant and --amount)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (request == "") == (merchant == "") {
				return errors.New("give --request ID, or --merchant M with --amount N")
			}
			var n uint64
			if amount != "" {
				var err error
				if n, err = parseAmount(amount); err != nil {
					return err
				}
			} else if request == "" {
				return errors.New("--merchant needs --amount")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			var rid types.Hash
			if request != "" {
				if rid, err = types.ParseHash(request); err != nil {
					return fmt.Errorf("--request: %w", err)
				}
				r, err := c.PaymentRequest(ctx, rid)
				if err != nil {
					return err
				}
				merchant = r.Merchant
				if n == 0 {
					n = r.Amount
				}
			}
			// The owner lets the node schedule the payment beside others to
			// the same merchant; the contract checks it.
			m, err := c.Merchant(ctx, merchant)
			if err != nil {
				return err
			}
			owner, err := types.ParseAddress(m.Owner)
			if err != nil {
				return err
			}
			id, s, err := p.send(ctx, e, c, paycall.MethodPay, paycall.Pay(rid, merchant, n, owner))
			if err != nil {
				return err
			}
			v := struct {
				ID string `json:"id"`
				sent
				Merchant string `json:"merchant"`
				Amount   uint64 `json:"amount"`
				Request  string `json:"request,omitempty"`
			}{id.String(), s, merchant, n, request}
			if err := e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "id:      %s\nmerchant: %s\namount:  %d\n", v.ID, merchant, n)
				s.text(w)
			}); err != nil {
				return err
			}
			return s.failed()
		},
	}
	cmd.Flags().StringVar(&request, "request", "", "the payment request's id")
	cmd.Flags().StringVar(&merchant, "merchant", "", "merchant id, to pay without a request")
	cmd.Flags().StringVar(&amount, "amount", "", "amount in whole units (with --merchant; with --request it must equal the request's)")
	p.flags(cmd, e, "name of the payer's key in --keys (required)")
	return cmd
}

func payRefundCmd(e *env) *cobra.Command {
	var (
		payment, amount string
		p               payTx
	)
	cmd := &cobra.Command{
		Use:   "refund",
		Short: "Refund part or all of a payment, never more in total than was paid (merchant owner only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pid, err := types.ParseHash(payment)
			if err != nil {
				return fmt.Errorf("--payment: %w", err)
			}
			n, err := parseAmount(amount)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), p.timeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			// The refund names where the payment is recorded, read
			// from the chain.
			at, err := c.PaymentPlace(ctx, pid)
			if err != nil {
				return err
			}
			id, s, err := p.send(ctx, e, c, paycall.MethodRefund, paycall.Refund(pid, at, n))
			if err != nil {
				return err
			}
			v := struct {
				ID string `json:"id"`
				sent
				Payment string `json:"payment"`
				Amount  uint64 `json:"amount"`
			}{id.String(), s, payment, n}
			if err := e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "id:      %s\npayment: %s\namount:  %d\n", v.ID, payment, n)
				s.text(w)
			}); err != nil {
				return err
			}
			return s.failed()
		},
	}
	cmd.Flags().StringVar(&payment, "payment", "", "the payment's id (required)")
	cmd.Flags().StringVar(&amount, "amount", "", "amount in whole units (required)")
	_ = cmd.MarkFlagRequired("payment")
	_ = cmd.MarkFlagRequired("amount")
	p.flags(cmd, e, "name of the merchant owner's key in --keys (required)")
	return cmd
}

type totalsJSON struct {
	Count uint64 `json:"count"`
	Sum   uint64 `json:"sum"`
}

type entryJSON struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Amount  uint64 `json:"amount"`
	Height  uint64 `json:"height"`
	Index   uint32 `json:"index"`
	Payment string `json:"payment,omitempty"`
}

func payStatementCmd(e *env) *cobra.Command {
	var (
		merchant, day string
		list          bool
	)
	cmd := &cobra.Command{
		Use:   "statement",
		Short: "Show a merchant's statement of one UTC day: payments, refunds, net and the Merkle root of the day's ids",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := paycall.ParseDay(day); err != nil {
				return fmt.Errorf("--day: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			st, err := c.Statement(ctx, merchant, day, list)
			if err != nil {
				return err
			}
			v := struct {
				Merchant   string      `json:"merchant"`
				Day        string      `json:"day"`
				Payments   totalsJSON  `json:"payments"`
				Refunds    totalsJSON  `json:"refunds"`
				Net        int64       `json:"net"`
				MerkleRoot string      `json:"merkle_root"`
				Height     uint64      `json:"height"`
				Entries    []entryJSON `json:"entries,omitempty"`
			}{st.Merchant, st.Day, totalsJSON{st.Payments.GetCount(), st.Payments.GetSum()}, totalsJSON{st.Refunds.GetCount(), st.Refunds.GetSum()},
				st.Net, st.MerkleRoot, st.Height, nil}
			if list {
				v.Entries = []entryJSON{}
				for _, en := range st.Entries {
					v.Entries = append(v.Entries, entryJSON{en.Kind, en.Id, en.Amount, en.Height, en.Index, en.Payment})
				}
			}
			return e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "merchant:    %s\nday:         %s\npayments:    %d, sum %d\nrefunds:     %d, sum %d\nnet:         %d\nmerkle_root: %s\n",
					v.Merchant, v.Day, v.Payments.Count, v.Payments.Sum, v.Refunds.Count, v.Refunds.Sum, v.Net, v.MerkleRoot)
				for _, en := range v.Entries {
					fmt.Fprintf(w, "  %-7s %s %d (block %d, tx %d)\n", en.Kind, en.ID, en.Amount, en.Height, en.Index)
				}
			})
		},
	}
	cmd.Flags().StringVar(&merchant, "merchant", "", "merchant id (required)")
	cmd.Flags().StringVar(&day, "day", "", "the UTC day, YYYY-MM-DD (required)")
	cmd.Flags().BoolVar(&list, "list", false, "add the day's payments and refunds")
	_ = cmd.MarkFlagRequired("merchant")
	_ = cmd.MarkFlagRequired("day")
	nodeFlag(cmd, e)
	return cmd
}
