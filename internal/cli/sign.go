package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// signedTx is the file `accord tx ... --sign-only` writes and `accord tx
// send` reads: the encoded transaction, with what it says spelled out
// for whoever carries it to the networked machine to check.
type signedTx struct {
	TxID      string          `json:"tx_id"`
	ChainID   string          `json:"chain_id"`
	Sender    string          `json:"sender"`
	Nonce     uint64          `json:"nonce"`
	ExpiresAt uint64          `json:"expires_at"`
	Contract  string          `json:"contract"`
	Method    string          `json:"method"`
	Args      json.RawMessage `json:"args,omitempty"`
	Tx        string          `json:"tx"` // the encoded transaction, hex
}

// signOnly holds the flags of signing without sending.
type signOnly struct {
	on      bool
	chainID string
	hash    string
	nonce   uint64
	ttl     time.Duration
	cmd     *cobra.Command
}

func (o *signOnly) flags(cmd *cobra.Command) {
	o.cmd = cmd
	cmd.Flags().BoolVar(&o.on, "sign-only", false, "print the signed transaction as JSON instead of sending it (send it later with accord tx send FILE); with --chain-id and --nonce no node is asked")
	cmd.Flags().StringVar(&o.chainID, "chain-id", "", "with --sign-only: the chain id (default: the node's)")
	cmd.Flags().Uint64Var(&o.nonce, "nonce", 0, "with --sign-only: the sender's next nonce, as accord query account shows it (default: the node's next_nonce)")
	cmd.Flags().StringVar(&o.hash, "hash", "", "with --sign-only and --chain-id: the chain's hash, sha256 or sm3 (default: sm3 for an sm2 key, else sha256)")
	cmd.Flags().DurationVar(&o.ttl, "ttl", sdk.DefaultTTL, "with --sign-only: how long the transaction stays valid")
}

// changed reports whether a flag of signing without sending was given.
func (o *signOnly) changed() bool {
	for _, f := range []string{"chain-id", "nonce", "hash", "ttl"} {
		if o.cmd.Flags().Changed(f) {
			return true
		}
	}
	return false
}

// sign signs call with key without sending it, asking the node only for
// what the flags do not give, and prints the signed transaction.
func (o *signOnly) sign(ctx context.Context, e *env, key *keystore.Key, call sdk.Call) error {
	if !o.on {
		return errors.New("--chain-id, --nonce, --hash and --ttl apply only with --sign-only")
	}
	info := sdk.Info{ChainID: o.chainID}
	nonce, haveNonce := o.nonce, o.cmd.Flags().Changed("nonce")
	if o.chainID != "" {
		info.Hash = crypto.SHA256
		if key.Scheme == crypto.SM2 {
			info.Hash = crypto.SM3
		}
		if o.hash != "" {
			h, err := crypto.ParseHash(o.hash)
			if err != nil {
				return fmt.Errorf("--hash: %w", err)
			}
			info.Hash = h
		}
	} else if o.hash != "" {
		return errors.New("--hash applies with --chain-id; without it the node's hash is used")
	}
	if o.chainID == "" || !haveNonce {
		c, err := e.client()
		if err != nil {
			return err
		}
		if o.chainID == "" {
			ni, err := c.Info(ctx)
			if err != nil {
				return fmt.Errorf("%w (offline, give --chain-id and --nonce)", err)
			}
			info = *ni
		}
		if !haveNonce {
			a, err := c.Account(ctx, key.Address)
			if err != nil {
				return fmt.Errorf("%w (offline, give --chain-id and --nonce)", err)
			}
			nonce = a.NextNonce
		}
	}
	if o.ttl <= 0 {
		return fmt.Errorf("--ttl %s: must be positive", o.ttl)
	}
	call.ExpiresAt = uint64(time.Now().Add(o.ttl).UnixMilli())
	tx, err := sdk.SignOffline(info, key.Private, nonce, call)
	if err != nil {
		return err
	}
	v := signedTx{TxID: tx.ID.String(), ChainID: info.ChainID, Sender: tx.Sender.String(), Nonce: nonce, ExpiresAt: call.ExpiresAt,
		Contract: call.Contract, Method: call.Method, Tx: hex.EncodeToString(tx.Raw)}
	if call.Contract == token.Name {
		if d, err := token.DescribeArgs(call.Method, call.Args); err == nil {
			v.Args, _ = json.Marshal(d)
		}
	}
	// Always JSON: it is a file for `accord tx send`, not a report.
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// errNotSignedTx is a file that is not what --sign-only writes.
var errNotSignedTx = errors.New("not a signed transaction written by --sign-only")

// parseSignedTx reads a --sign-only file: the JSON and its transaction's
// bytes. It checks the shape only; the node checks the transaction.
func parseSignedTx(b []byte) (signedTx, []byte, error) {
	var st signedTx
	if err := json.Unmarshal(b, &st); err != nil {
		return st, nil, fmt.Errorf("%w: %v", errNotSignedTx, err)
	}
	raw, err := hex.DecodeString(st.Tx)
	if err != nil || len(raw) == 0 {
		return st, nil, fmt.Errorf("%w: field tx: want the encoded transaction in hex", errNotSignedTx)
	}
	return st, raw, nil
}

func txSendCmd(e *env) *cobra.Command {
	var (
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "send FILE",
		Short: "Send a transaction signed with --sign-only (FILE, or - for standard input)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				b   []byte
				err error
			)
			if args[0] == "-" {
				b, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
			} else {
				b, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			st, raw, err := parseSignedTx(b)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			info, err := c.Info(ctx)
			if err != nil {
				return err
			}
			tx, err := types.DecodeTx(raw, info.Hash)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if tx.Body.ChainId != info.ChainID {
				return fmt.Errorf("%s: signed for chain %q, but the node at %s runs %q", args[0], tx.Body.ChainId, c.URL(), info.ChainID)
			}
			if st.TxID != "" && st.TxID != tx.ID.String() {
				return fmt.Errorf("%s: tx_id %s does not match its transaction (%s): the file was altered", args[0], st.TxID, tx.ID)
			}
			id, err := c.Submit(ctx, tx)
			if err != nil {
				return err
			}
			return finishTx(ctx, e, c, id, wait)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until committed; exit non-zero if the transaction failed")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	nodeFlag(cmd, e)
	return cmd
}

// finishTx reports a submitted transaction, after waiting for its receipt
// with wait; a failed one is an error after printing.
func finishTx(ctx context.Context, e *env, c *sdk.Client, id types.Hash, wait bool) error {
	res := txResult{TxID: id.String(), Status: "submitted"}
	if wait {
		r, err := c.Wait(ctx, id)
		if err != nil {
			return err
		}
		res.Height, res.Status, res.Message = r.Height, statusName(r.Receipt.Status), r.Receipt.Message
	}
	if err := e.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "tx_id:  %s\nstatus: %s\n", res.TxID, res.Status)
		if res.Height > 0 {
			fmt.Fprintf(w, "height: %d\n", res.Height)
		}
		if res.Message != "" {
			fmt.Fprintf(w, "reason: %s\n", res.Message)
		}
	}); err != nil {
		return err
	}
	if wait && res.Status != "ok" {
		return fmt.Errorf("transaction %s %s: %s", res.TxID, res.Status, res.Message)
	}
	return nil
}
