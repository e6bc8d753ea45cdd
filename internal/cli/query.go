package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

const queryTimeout = 15 * time.Second

func queryCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "query", Short: "Read accounts, transactions and blocks"}
	account := &cobra.Command{
		Use:   "account ADDR",
		Short: "Show an account's balance and nonce",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := types.ParseAddress(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			a, err := c.Account(ctx, addr)
			if err != nil {
				return err
			}
			v := struct {
				Address   string `json:"address"`
				Balance   uint64 `json:"balance"`
				Nonce     uint64 `json:"nonce"`
				NextNonce uint64 `json:"next_nonce"`
				Height    uint64 `json:"height"`
			}{a.Address, a.Balance, a.Nonce, a.NextNonce, a.Height}
			return e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "address: %s\nbalance: %d\nnonce:   %d\n", v.Address, v.Balance, v.Nonce)
			})
		},
	}
	tx := &cobra.Command{
		Use:   "tx ID",
		Short: "Show a committed transaction with its receipt",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := types.ParseHash(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			r, err := c.Tx(ctx, id)
			if err != nil {
				return err
			}
			v := txJSON(r)
			return e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "tx_id:    %s\nheight:   %d\nindex:    %d\nstatus:   %s\nsender:   %s\nnonce:    %d\ncall:     %s.%s %s\n",
					v.TxID, v.Height, v.Index, v.Status, v.Sender, v.Nonce, v.Contract, v.Method, v.Args)
				if v.Message != "" {
					fmt.Fprintf(w, "reason:   %s\n", v.Message)
				}
				for _, ev := range r.Receipt.Events {
					fmt.Fprintf(w, "event:    %s.%s %s\n", ev.Contract, ev.Name, attrText(ev.Attributes))
				}
			})
		},
	}
	block := &cobra.Command{
		Use:   "block HEIGHT|latest",
		Short: "Show a block's header and transaction ids",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var height uint64
			if args[0] != "latest" {
				h, err := strconv.ParseUint(args[0], 10, 64)
				if err != nil || h == 0 {
					return fmt.Errorf("block %q: want a height of 1 or more, or latest", args[0])
				}
				height = h
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			b, err := c.Block(ctx, height)
			if err != nil {
				return err
			}
			v := blockJSON(b)
			return e.print(v, func(w io.Writer) {
				h := b.Header
				fmt.Fprintf(w, "height:         %d\nhash:           %s\ntime:           %s\nprev_hash:      %s\ntx_root:        %s\nwrite_set_hash: %s\nstate_hash:     %s\ntxs:            %d\n",
					h.Height, h.Hash, time.UnixMilli(int64(h.Time)).UTC().Format(time.RFC3339Nano), h.PrevHash, h.TxRoot, h.WriteSetHash, h.StateHash, h.TxCount)
				for i, id := range b.TxIds {
					fmt.Fprintf(w, "  %s %s\n", id, statusName(b.Receipts[i].Status))
				}
			})
		},
	}
	for _, c := range []*cobra.Command{account, tx, block, queryConfigCmd(e), queryTxsCmd(e), queryEvidenceCmd(e)} {
		nodeFlag(c, e)
		cmd.AddCommand(c)
	}
	return cmd
}

func statusCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the node's chain id, height and hashes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			s, err := c.Status(ctx)
			if err != nil {
				return err
			}
			type peer struct {
				NodeID    string `json:"node_id"`
				Address   string `json:"address"`
				Connected bool   `json:"connected"`
				Height    uint64 `json:"height"`
				LastError string `json:"last_error,omitempty"`
			}
			type validator struct {
				NodeID        string `json:"node_id"`
				LastSeenRound uint64 `json:"last_seen_round"`
			}
			v := struct {
				ChainID       string      `json:"chain_id"`
				Height        uint64      `json:"height"`
				LastBlockHash string      `json:"last_block_hash"`
				StateHash     string      `json:"state_hash"`
				WriteSetHash  string      `json:"write_set_hash"`
				Hash          string      `json:"hash"`
				NodeID        string      `json:"node_id"`
				Consensus     string      `json:"consensus"`
				Leader        string      `json:"leader"`
				Term          uint64      `json:"term,omitempty"`
				Round         uint64      `json:"round,omitempty"`      // bft
				Validators    []validator `json:"validators,omitempty"` // bft
				Peers         []peer      `json:"peers"`
				PoolSize      uint64      `json:"pool_size"`
				Issuer        string      `json:"issuer"`
			}{ChainID: s.ChainId, Height: s.Height, LastBlockHash: s.LastBlockHash, StateHash: s.StateHash,
				WriteSetHash: s.WriteSetHash, Hash: s.Hash, NodeID: s.NodeId, Consensus: s.Consensus,
				Leader: s.Leader, Term: s.Term, Peers: []peer{}, PoolSize: s.PoolSize, Issuer: s.Issuer}
			if v.Consensus == "solo" {
				v.Leader = v.NodeID // a single node orders its own blocks
			}
			for _, p := range s.Peers {
				v.Peers = append(v.Peers, peer{p.NodeId, p.Address, p.Connected, p.Height, p.LastError})
			}
			v.Round = s.Round
			for _, x := range s.Validators {
				v.Validators = append(v.Validators, validator{x.NodeId, x.LastSeenRound})
			}
			return e.print(v, func(w io.Writer) {
				leader := v.Leader
				if leader == "" {
					leader = "(none: no quorum)"
				}
				fmt.Fprintf(w, "chain_id:        %s\nheight:          %d\nlast_block_hash: %s\nstate_hash:      %s\nnode_id:         %s\nconsensus:       %s\nleader:          %s\npool_size:       %d\n",
					v.ChainID, v.Height, v.LastBlockHash, v.StateHash, v.NodeID, v.Consensus, leader, v.PoolSize)
				if v.Consensus == "bft" {
					fmt.Fprintf(w, "round:           %d\n", v.Round)
					for _, x := range v.Validators {
						fmt.Fprintf(w, "validator:       %s  last seen round %d\n", x.NodeID, x.LastSeenRound)
					}
				}
				for _, p := range v.Peers {
					state := "connected"
					if !p.Connected {
						state = "disconnected"
						if p.LastError != "" {
							state += " (" + p.LastError + ")"
						}
					}
					fmt.Fprintf(w, "peer:            %s  %s  height %d  %s\n", p.NodeID, p.Address, p.Height, state)
				}
			})
		},
	}
	nodeFlag(cmd, e)
	return cmd
}

type eventJSON struct {
	Contract   string            `json:"contract"`
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes"`
}

type txView struct {
	TxID      string          `json:"tx_id"`
	Height    uint64          `json:"height"`
	Index     uint32          `json:"index"`
	BlockHash string          `json:"block_hash"`
	Status    string          `json:"status"`
	Message   string          `json:"message,omitempty"`
	Sender    string          `json:"sender"`
	Scheme    string          `json:"scheme"`
	Nonce     uint64          `json:"nonce"`
	ExpiresAt uint64          `json:"expires_at"`
	Contract  string          `json:"contract"`
	Method    string          `json:"method"`
	Args      json.RawMessage `json:"args,omitempty"`
	Events    []eventJSON     `json:"events"`
}

func txJSON(r *apipb.GetTxResponse) txView {
	v := txView{
		TxID: r.Tx.TxId, Height: r.Height, Index: r.Index, BlockHash: r.BlockHash,
		Status: statusName(r.Receipt.Status), Message: r.Receipt.Message,
		Sender: r.Tx.Sender, Scheme: r.Tx.Scheme, Nonce: r.Tx.Nonce, ExpiresAt: r.Tx.ExpiresAt,
		Contract: r.Tx.Contract, Method: r.Tx.Method, Events: events(r.Receipt.Events),
	}
	if r.Tx.ArgsJson != "" {
		v.Args = json.RawMessage(r.Tx.ArgsJson)
	}
	return v
}

func events(evs []*pb.Event) []eventJSON {
	out := make([]eventJSON, 0, len(evs))
	for _, ev := range evs {
		attrs := make(map[string]string, len(ev.Attributes))
		for _, a := range ev.Attributes {
			attrs[a.Key] = a.Value
		}
		out = append(out, eventJSON{Contract: ev.Contract, Name: ev.Name, Attributes: attrs})
	}
	return out
}

type blockTx struct {
	TxID    string `json:"tx_id"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

func blockJSON(b *apipb.GetBlockResponse) any {
	txs := make([]blockTx, len(b.TxIds))
	for i, id := range b.TxIds {
		txs[i] = blockTx{TxID: id, Status: statusName(b.Receipts[i].Status), Message: b.Receipts[i].Message}
	}
	return struct {
		*apipb.HeaderView
		Txs []blockTx `json:"txs"`
	}{b.Header, txs}
}

// queryEvidenceCmd reads the equivocations a BFT node has seen.
func queryEvidenceCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "evidence",
		Short: "Show the equivocations a BFT node has seen: two conflicting signed messages of one validator for one round",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			ev, err := c.Evidence(ctx)
			if err != nil {
				return err
			}
			if ev == nil {
				ev = []sdk.Evidence{}
			}
			return e.print(map[string]any{"evidence": ev}, func(w io.Writer) {
				if len(ev) == 0 {
					fmt.Fprintln(w, "no evidence")
				}
				for _, x := range ev {
					fmt.Fprintf(w, "validator %s equivocated in round %d\n", x.Validator, x.Round)
				}
			})
		},
	}
}
