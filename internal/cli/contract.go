package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/contracts/usercontract"
	"github.com/accord-chain/accord/contracts/usercontract/usercall"
	"github.com/accord-chain/accord/internal/wasmbuild"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
	typespb "github.com/accord-chain/accord/types/pb"
)

func contractCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "contract", Short: "Build, install, call and query user contracts (WebAssembly, written in Go)"}
	cmd.AddCommand(contractBuildCmd(e),
		contractLifecycleCmd(e, sdk.OpInstall, "install NAME FILE.wasm", "Upload a contract and install it under NAME (calls its init export)"),
		contractLifecycleCmd(e, sdk.OpUpgrade, "upgrade NAME FILE.wasm", "Replace a contract's code, keeping its state (calls its upgrade export)"),
		contractLifecycleCmd(e, sdk.OpFreeze, "freeze NAME", "Refuse a contract's calls until it is unfrozen"),
		contractLifecycleCmd(e, sdk.OpUnfreeze, "unfreeze NAME", "Let a frozen contract take calls again"),
		contractLifecycleCmd(e, sdk.OpRevoke, "revoke NAME", "Refuse a contract's calls for good"),
		contractCallCmd(e), contractQueryCmd(e), contractListCmd(e), contractShowCmd(e), contractSetParamsCmd(e))
	return cmd
}

func contractSetParamsCmd(e *env) *cobra.Command {
	var (
		from    string
		wait    bool
		timeout time.Duration
	)
	p := usercontract.DefaultParams()
	mem, depth := uint64(p.MemoryLimitPages), uint64(p.MaxCallDepth)
	cmd := &cobra.Command{
		Use:   "set-params --from ISSUER",
		Short: "Set an open chain's user-contract limits and gas schedule (every value; the defaults unless given)",
		Long: `Set an open chain's user-contract limits and gas schedule: every value at once, each flag's
default being the chain's default. Only the token issuer may. On a permissioned chain they are
chain parameters: accord gov propose --change '{"kind":"set_params","params":{"contract_tx_gas":...}}'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if mem > usercall.MaxMemoryPages || depth > usercall.MaxCallDepth {
				return fmt.Errorf("--memory-pages at most %d, --call-depth at most %d", usercall.MaxMemoryPages, usercall.MaxCallDepth)
			}
			p.MemoryLimitPages, p.MaxCallDepth = uint32(mem), uint32(depth)
			if err := p.Validate(); err != nil {
				return err
			}
			m, c, err := memberClient(e, from)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			tx, err := c.Sign(ctx, m.key.Private, sdk.Call{Contract: usercall.Name, Method: usercall.MethodSetParams, Args: p.Encode(), Cert: m.cert})
			if err != nil {
				return err
			}
			id, err := c.Submit(ctx, tx)
			if err != nil {
				return err
			}
			if !wait {
				return printContractTx(e, id, nil)
			}
			r, err := c.Wait(ctx, id)
			if err != nil {
				return err
			}
			return printContractTx(e, id, r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "admin", "the token issuer's key in --keys")
	f.Uint64Var(&mem, "memory-pages", mem, "a contract's memory limit, 64 KiB pages")
	f.Uint64Var(&depth, "call-depth", depth, "the deepest nesting of a contract's function calls")
	f.Uint64Var(&p.TxGasDefault, "tx-gas", p.TxGasDefault, "the gas limit of a transaction that names none")
	f.Uint64Var(&p.TxGasMax, "tx-gas-max", p.TxGasMax, "the most gas a transaction may name")
	f.Uint64Var(&p.BlockGasLimit, "block-gas", p.BlockGasLimit, "a block's gas limit")
	f.Uint64Var(&p.Gas.Instr, "gas-instr", p.Gas.Instr, "gas per instruction")
	f.Uint64Var(&p.Gas.Page, "gas-page", p.Gas.Page, "gas per page of memory growth")
	f.Uint64Var(&p.Gas.Byte, "gas-byte", p.Gas.Byte, "gas per 4 bytes of memory.copy and memory.fill")
	f.Uint64Var(&p.Gas.HostCall, "gas-host-call", p.Gas.HostCall, "gas per host function call")
	f.Uint64Var(&p.Gas.HostByte, "gas-host-byte", p.Gas.HostByte, "gas per byte a host function reads or writes")
	f.Uint64Var(&p.Gas.StateWrite, "gas-state-write", p.Gas.StateWrite, "gas per state put or delete, on top")
	f.Uint64Var(&p.Gas.HashByte, "gas-hash-byte", p.Gas.HashByte, "gas per byte hashed, on top")
	f.Uint64Var(&p.Gas.Verify, "gas-verify", p.Gas.Verify, "gas per signature verification")
	f.Uint64Var(&p.Gas.RangeEntry, "gas-range-entry", p.Gas.RangeEntry, "gas per entry a range read returns")
	f.Uint64Var(&p.Gas.CallBase, "gas-call-base", p.Gas.CallBase, "gas charged once per contract call, nested calls included")
	f.BoolVar(&wait, "wait", false, "wait until committed; exit non-zero if it failed")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	nodeFlag(cmd, e)
	return cmd
}

func contractBuildCmd(e *env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build DIR -o FILE.wasm",
		Short: "Build a contract package with the installed Go (GOOS=wasip1 GOARCH=wasm, a reactor)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("-o FILE.wasm is required")
			}
			dir := args[0]
			if !strings.HasPrefix(dir, ".") && !strings.HasPrefix(dir, "/") {
				dir = "./" + dir // a directory, not an import path
			}
			if err := wasmbuild.Build(dir, out); err != nil {
				return err
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "built %s (%d bytes)\n", out, st.Size())
			return nil
		},
	}
	// -o is the root's output format; build's output file shadows it.
	cmd.Flags().StringVarP(&out, "output", "o", "", "the module to write (FILE.wasm)")
	return cmd
}

type contractTx struct {
	TxID    string            `json:"tx_id"`
	Height  uint64            `json:"height,omitempty"`
	Status  string            `json:"status"`
	Message string            `json:"message,omitempty"`
	GasUsed uint64            `json:"gas_used"`
	Result  json.RawMessage   `json:"result,omitempty"`
	Events  []json.RawMessage `json:"events"`
}

// jsonOrString is b itself when it is JSON, else b as a JSON string.
func jsonOrString(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	s, _ := json.Marshal(string(b))
	return s
}

// contractEventJSON shows an event; a user contract's data attribute as JSON.
func contractEventJSON(ev *typespb.Event) json.RawMessage {
	m := map[string]any{"contract": ev.Contract, "name": ev.Name}
	attrs := map[string]string{}
	for _, a := range ev.Attributes {
		if a.Key == "data" {
			m["data"] = jsonOrString([]byte(a.Value))
		} else {
			attrs[a.Key] = a.Value
		}
	}
	if len(attrs) > 0 {
		m["attributes"] = attrs
	}
	b, _ := json.Marshal(m)
	return b
}

func printContractTx(e *env, id types.Hash, r *apipb.GetTxResponse) error {
	res := contractTx{TxID: id.String(), Status: "submitted", Events: []json.RawMessage{}}
	if r != nil {
		res.Height, res.Status, res.Message = r.Height, statusName(r.Receipt.Status), r.Receipt.Message
		res.GasUsed, res.Result = r.Receipt.GasUsed, jsonOrString(r.Receipt.Result)
		for _, ev := range r.Receipt.Events {
			res.Events = append(res.Events, contractEventJSON(ev))
		}
	}
	if err := e.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "tx_id:    %s\nstatus:   %s\n", res.TxID, res.Status)
		if r != nil {
			fmt.Fprintf(w, "height:   %d\ngas_used: %d\n", res.Height, res.GasUsed)
		}
		if res.Result != nil {
			fmt.Fprintf(w, "result:   %s\n", res.Result)
		}
		for _, ev := range res.Events {
			fmt.Fprintf(w, "event:    %s\n", ev)
		}
		if res.Message != "" {
			fmt.Fprintf(w, "reason:   %s\n", res.Message)
		}
	}); err != nil {
		return err
	}
	if r != nil && res.Status != "ok" {
		return fmt.Errorf("transaction %s %s: %s", res.TxID, res.Status, res.Message)
	}
	return nil
}

func contractLifecycleCmd(e *env, op sdk.ContractOp, use, short string) *cobra.Command {
	var (
		from, initArgs string
		gas            uint64
		wait           bool
		timeout, ttl   time.Duration
	)
	withCode := op == sdk.OpInstall || op == sdk.OpUpgrade
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.

On an open chain the token issuer's key decides (--from). On a permissioned chain this
proposes a governance change (kind "contract", pinning the code hash) and votes for it as
--from, an organisation admin; the other organisations vote with accord gov vote --id ID, and
the vote that satisfies the policy (gov.contract if configured, else the governance policy,
MAJORITY(admin) by default) applies it.`,
		Args: cobra.ExactArgs(map[bool]int{true: 2, false: 1}[withCode]),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadMember(e, from)
			if err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			var hash [32]byte
			if withCode {
				code, err := os.ReadFile(args[1])
				if err != nil {
					return err
				}
				if hash, err = c.UploadCode(ctx, m.key.Private, m.cert, code); err != nil {
					return err
				}
			}
			cfg, err := c.Config(ctx)
			if err != nil {
				return err
			}
			if cfg.Permissioned {
				// A governance change pinning the code hash: proposed (and
				// voted for) by this member; others vote with accord gov vote.
				cc := govcall.ContractChange{Op: string(op), Name: args[0], Args: initArgs}
				if withCode {
					cc.CodeHash = hex.EncodeToString(hash[:])
				}
				ch := govcall.Change{Kind: govcall.KindContract, Contract: &cc}
				if err := ch.Validate(); err != nil {
					return err
				}
				deadline := uint64(time.Now().Add(ttl).UnixMilli())
				res, err := submitGov(ctx, e, c, m, govcall.MethodPropose, govcall.Args(govcall.ProposeArgs{Change: ch.Encode(), Deadline: deadline}))
				if err != nil {
					return err
				}
				if res.Status == "ok" {
					vr, err := castVote(ctx, e, c, m, res.ID)
					if err != nil {
						return err
					}
					vr.ID = res.ID
					res = vr
				}
				return printGov(e, res)
			}
			id, err := c.ContractLifecycle(ctx, m.key.Private, m.cert, op, args[0], hash, []byte(initArgs), gas)
			if err != nil {
				return err
			}
			if !wait {
				return printContractTx(e, id, nil)
			}
			r, err := c.Wait(ctx, id)
			if err != nil {
				return err
			}
			return printContractTx(e, id, r)
		},
	}
	cmd.Flags().StringVar(&from, "from", "admin", "name of the signing key in --keys (the token issuer on an open chain)")
	if withCode {
		cmd.Flags().StringVar(&initArgs, "args", "", "JSON arguments of the contract's "+map[bool]string{true: "init", false: "upgrade"}[op == sdk.OpInstall]+" export")
		cmd.Flags().Uint64Var(&gas, "gas", 0, "gas limit of that export (0: the chain's default)")
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until committed; exit non-zero if it failed")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up after this long")
	cmd.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "permissioned chain: how long the proposal stays open (at most 720h)")
	nodeFlag(cmd, e)
	return cmd
}

func contractCallCmd(e *env) *cobra.Command {
	var (
		from, args string
		gas        uint64
		wait       bool
		timeout    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "call NAME METHOD --args JSON --from KEY",
		Short: "Call a contract method in a transaction",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, a []string) error {
			if from == "" {
				return fmt.Errorf("--from is required")
			}
			m, err := loadMember(e, from)
			if err != nil {
				return err
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			id, err := c.CallContract(ctx, m.key.Private, m.cert, a[0], a[1], []byte(args), gas)
			if err != nil {
				return err
			}
			if !wait {
				return printContractTx(e, id, nil)
			}
			r, err := c.Wait(ctx, id)
			if err != nil {
				return err
			}
			return printContractTx(e, id, r)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "name of the signing key in --keys (required)")
	cmd.Flags().StringVar(&args, "args", "", "the method's arguments, JSON")
	cmd.Flags().Uint64Var(&gas, "gas", 0, "gas limit (0: the chain's default)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until committed and print the result; exit non-zero if it failed")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	nodeFlag(cmd, e)
	return cmd
}

func contractQueryCmd(e *env) *cobra.Command {
	var (
		args    string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "query NAME METHOD --args JSON",
		Short: "Run a read-only call on committed state, without a transaction",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			r, err := c.QueryContract(ctx, a[0], a[1], []byte(args))
			if err != nil {
				return err
			}
			out := struct {
				Height  uint64          `json:"height"`
				Result  json.RawMessage `json:"result"`
				GasUsed uint64          `json:"gas_used"`
			}{r.Height, jsonOrString(r.Result), r.GasUsed}
			if out.Result == nil {
				out.Result = json.RawMessage("null")
			}
			return e.print(out, func(w io.Writer) { fmt.Fprintf(w, "%s\n", out.Result) })
		},
	}
	cmd.Flags().StringVar(&args, "args", "", "the method's arguments, JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	nodeFlag(cmd, e)
	return cmd
}

func contractListCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the installed contracts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			r, err := c.Contracts(cmd.Context())
			if err != nil {
				return err
			}
			list := []map[string]any{}
			for _, v := range r.Contracts {
				list = append(list, contractJSON(v))
			}
			return e.print(list, func(w io.Writer) {
				for _, v := range r.Contracts {
					fmt.Fprintf(w, "%-24s v%-4d %-8s %s\n", v.Name, v.Version, v.Status, v.CodeHash)
				}
			})
		},
	}
	nodeFlag(cmd, e)
	return cmd
}

func contractJSON(v *apipb.ContractView) map[string]any {
	return map[string]any{"name": v.Name, "version": v.Version, "code_hash": v.CodeHash, "status": v.Status, "address": v.Address}
}

func contractShowCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an installed contract: name, version, code hash, status, address",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			v, err := c.Contract(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.print(contractJSON(v), func(w io.Writer) {
				fmt.Fprintf(w, "name:      %s\nversion:   %d\ncode_hash: %s\nstatus:    %s\naddress:   %s\n", v.Name, v.Version, v.CodeHash, v.Status, v.Address)
			})
		},
	}
	nodeFlag(cmd, e)
	return cmd
}
