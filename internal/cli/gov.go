package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
)

// member is a key of the key folder with its certificate, if it has one.
type member struct {
	key  *keystore.Key
	cert []byte
}

// memberClient loads the member key name and a client of the node: what
// every signing gov and cert command starts from.
func memberClient(e *env, name string) (*member, *sdk.Client, error) {
	m, err := loadMember(e, name)
	if err != nil {
		return nil, nil, err
	}
	c, err := e.client()
	if err != nil {
		return nil, nil, err
	}
	return m, c, nil
}

func loadMember(e *env, name string) (*member, error) {
	ks, err := keystore.Open(e.keys)
	if err != nil {
		return nil, err
	}
	k, err := ks.Get(name)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	der, err := ks.Cert(name)
	if err != nil {
		return nil, err
	}
	return &member{key: k, cert: der}, nil
}

func (m *member) ref() identity.Ref {
	if m.cert != nil {
		return identity.Ref{Cert: m.cert}
	}
	return identity.Ref{Scheme: m.key.Scheme, PublicKey: m.key.Private.Public().Bytes()}
}

type govResult struct {
	TxID     string            `json:"tx_id"`
	Height   uint64            `json:"height,omitempty"`
	Status   string            `json:"status"`
	Message  string            `json:"message,omitempty"`
	ID       uint64            `json:"id,omitempty"`
	Executed bool              `json:"executed,omitempty"`
	Events   map[string]string `json:"events,omitempty"`
}

// submitGov signs, submits and waits for one gov call; a failed or
// invalid receipt is an error after printing.
func submitGov(ctx context.Context, e *env, c *sdk.Client, m *member, method string, args []byte) (*govResult, error) {
	tx, err := c.Sign(ctx, m.key.Private, sdk.Call{Contract: govcall.Name, Method: method, Args: args, Cert: m.cert})
	if err != nil {
		return nil, err
	}
	id, err := c.Submit(ctx, tx)
	if err != nil {
		return nil, err
	}
	r, err := c.Wait(ctx, id)
	if err != nil {
		return nil, err
	}
	res := &govResult{TxID: id.String(), Height: r.Height, Status: statusName(r.Receipt.Status), Message: r.Receipt.Message, Events: map[string]string{}}
	for _, ev := range r.Receipt.Events {
		var kv []string
		for _, a := range ev.Attributes {
			kv = append(kv, a.Key+"="+a.Value)
			if a.Key == "id" && (ev.Name == "proposed" || ev.Name == "voted") {
				fmt.Sscan(a.Value, &res.ID)
			}
		}
		res.Events[ev.Name] = strings.Join(kv, " ")
		res.Executed = res.Executed || ev.Name == "executed"
	}
	return res, nil
}

func printGov(e *env, res *govResult) error {
	if err := e.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "tx_id:  %s\nstatus: %s\nheight: %d\n", res.TxID, res.Status, res.Height)
		if res.ID != 0 {
			fmt.Fprintf(w, "proposal: %d\n", res.ID)
		}
		if res.Executed {
			fmt.Fprintln(w, "executed: the change applies from the next block")
		}
		if res.Message != "" {
			fmt.Fprintf(w, "reason: %s\n", res.Message)
		}
	}); err != nil {
		return err
	}
	if res.Status != "ok" {
		return fmt.Errorf("transaction %s %s: %s", res.TxID, res.Status, res.Message)
	}
	return nil
}

// parseChange reads --change (JSON of govcall.Change, any key order)
// and --ca (a file whose PEM goes into ca_pem), and encodes it canonically.
func parseChange(js, caFile string) ([]byte, error) {
	var ch govcall.Change
	d := json.NewDecoder(strings.NewReader(js))
	d.DisallowUnknownFields()
	if err := d.Decode(&ch); err != nil {
		return nil, fmt.Errorf("--change: %v (want JSON such as {\"kind\":\"freeze\",\"address\":\"...\"})", err)
	}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		ch.CAPEM = string(b)
	}
	if err := ch.Validate(); err != nil {
		return nil, err
	}
	return ch.Encode(), nil
}

// changeJSON shows an encoded change as the JSON that --change reads.
func changeJSON(b []byte) (json.RawMessage, error) {
	ch, err := govcall.DecodeChange(b)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ch)
}

func govCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "gov", Short: "Change a permissioned chain's configuration: propose, vote, show, or endorse and submit offline"}
	var (
		from, change, caFile string
		ttl, timeout         time.Duration
		vote                 bool
		id                   uint64
		ends                 []string
		full                 bool
	)
	propose := &cobra.Command{
		Use:   "propose --change JSON --from KEY",
		Short: "Propose a change; members then vote with `accord gov vote`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			payload, err := parseChange(change, caFile)
			if err != nil {
				return err
			}
			m, c, err := memberClient(e, from)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			deadline := uint64(time.Now().Add(ttl).UnixMilli())
			res, err := submitGov(ctx, e, c, m, govcall.MethodPropose, govcall.Args(govcall.ProposeArgs{Change: payload, Deadline: deadline}))
			if err != nil {
				return err
			}
			if vote && res.Status == "ok" {
				vr, err := castVote(ctx, e, c, m, res.ID)
				if err != nil {
					return err
				}
				vr.ID = res.ID
				res = vr
			}
			return printGov(e, res)
		},
	}
	propose.Flags().StringVar(&change, "change", "", `the change as JSON, e.g. {"kind":"add_org","org":"org5","scheme":"sm2"} with --ca org5/ca.pem (kinds: `+strings.Join(govcall.Kinds(), ", ")+")")
	propose.Flags().StringVar(&caFile, "ca", "", "a CA certificate file whose PEM fills ca_pem")
	propose.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the proposal stays open (at most 720h)")
	propose.Flags().BoolVar(&vote, "vote", true, "also vote for it as the proposer")
	_ = propose.MarkFlagRequired("change")

	voteCmd := &cobra.Command{
		Use:   "vote --id ID --from KEY",
		Short: "Endorse an open proposal; the vote that satisfies its policy executes it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, c, err := memberClient(e, from)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := castVote(ctx, e, c, m, id)
			if err != nil {
				return err
			}
			return printGov(e, res)
		},
	}
	voteCmd.Flags().Uint64Var(&id, "id", 0, "proposal id (required)")
	_ = voteCmd.MarkFlagRequired("id")

	show := &cobra.Command{
		Use:   "show [--id ID]",
		Short: "Show a proposal, or every proposal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			r, err := c.Proposal(ctx, id)
			if err != nil {
				return err
			}
			type view struct {
				ID       uint64          `json:"id"`
				Status   string          `json:"status"`
				Change   json.RawMessage `json:"change"`
				Deadline uint64          `json:"deadline"`
				Proposer string          `json:"proposer"`
				Votes    uint32          `json:"votes"`
				Executed uint64          `json:"executed,omitempty"`
			}
			views := []view{}
			for _, p := range r.Proposals {
				ch, err := changeJSON(p.Change)
				if err != nil {
					return fmt.Errorf("proposal %d: %w", p.Id, err)
				}
				if !full {
					ch = summariseChange(ch)
				}
				views = append(views, view{ID: p.Id, Status: p.Status, Change: ch, Deadline: p.Deadline, Proposer: p.Proposer, Votes: p.Votes, Executed: p.Executed})
			}
			var v any = views
			if id != 0 && len(views) == 1 {
				v = views[0]
			}
			return e.print(v, func(w io.Writer) {
				for _, p := range views {
					fmt.Fprintf(w, "%d  %-8s votes %d  deadline %s  %s\n", p.ID, p.Status, p.Votes,
						time.UnixMilli(int64(p.Deadline)).UTC().Format(time.RFC3339), p.Change)
				}
			})
		},
	}
	show.Flags().Uint64Var(&id, "id", 0, "proposal id (default: every proposal)")
	show.Flags().BoolVar(&full, "full", false, "show certificates in changes whole (PEM) rather than by subject, serial and hash")

	endorse := &cobra.Command{
		Use:   "endorse --change JSON [--id ID] --from KEY",
		Short: "Endorse a change offline; collect endorsements and pass them to `accord gov submit`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			payload, err := parseChange(change, caFile)
			if err != nil {
				return err
			}
			m, c, err := memberClient(e, from)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			info, err := c.Info(ctx)
			if err != nil {
				return err
			}
			picked := !cmd.Flags().Changed("id")
			if picked {
				// The first endorser picks; a random id of 63 bits is
				// fresh with overwhelming likelihood, and the chain
				// refuses one applied before.
				id = govcall.OfflineIDBase | rand.Uint64()
			} else if id < govcall.OfflineIDBase {
				return fmt.Errorf("--id %d: offline ids are at least %d; leave --id out and one is picked for you", id, uint64(govcall.OfflineIDBase))
			}
			p := &identity.Proposal{ChainID: info.ChainID, ID: id, Payload: payload}
			en, err := identity.Endorse(m.key.Private, m.ref(), p, info.Hash)
			if err != nil {
				return err
			}
			out := fmt.Sprintf("%x", identity.EncodeEndorsements([]identity.Endorsement{en}))
			if picked && !e.json() {
				// Standard output stays the endorsement alone, for scripts.
				fmt.Fprintf(e.stderr, "picked change id %d: the other endorsers and accord gov submit need --id %d\n", id, id)
			}
			return e.print(struct {
				Endorsement string `json:"endorsement"`
				ID          uint64 `json:"id"`
			}{out, id}, func(w io.Writer) { fmt.Fprintln(w, out) })
		},
	}
	submit := &cobra.Command{
		Use:   "submit --change JSON --id ID --endorsement HEX... --from KEY",
		Short: "Apply a change endorsed offline in one transaction",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			payload, err := parseChange(change, caFile)
			if err != nil {
				return err
			}
			m, err := loadMember(e, from)
			if err != nil {
				return err
			}
			var all []identity.Endorsement
			for _, h := range ends {
				var b []byte
				if _, err := fmt.Sscanf(h, "%x", &b); err != nil {
					return fmt.Errorf("--endorsement: not hex: %v", err)
				}
				es, err := identity.DecodeEndorsements(b)
				if err != nil {
					return fmt.Errorf("--endorsement: %w", err)
				}
				all = append(all, es...)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			res, err := submitGov(ctx, e, c, m, govcall.MethodSubmit, govcall.Args(govcall.SubmitArgs{
				Change: payload, ID: id, Endorsements: identity.EncodeEndorsements(all)}))
			if err != nil {
				return err
			}
			return printGov(e, res)
		},
	}
	for _, c := range []*cobra.Command{endorse, submit} {
		c.Flags().StringVar(&change, "change", "", "the change as `JSON`, e.g. {\"kind\":\"freeze\",\"address\":\"...\"} (every kind: accord gov propose --help)")
		c.Flags().StringVar(&caFile, "ca", "", "a CA certificate file whose PEM fills ca_pem")
		_ = c.MarkFlagRequired("change")
	}
	endorse.Flags().Uint64Var(&id, "id", 0, "the change's id, the same for every endorser: leave it out on the first endorsement and one is picked (at least 2^63) and printed")
	submit.Flags().Uint64Var(&id, "id", 0, "the change's id, as the endorsers used (required)")
	_ = submit.MarkFlagRequired("id")
	submit.Flags().StringSliceVar(&ends, "endorsement", nil, "an endorsement (`HEX`) printed by accord gov endorse (repeat the flag, or separate them with commas)")
	for _, c := range []*cobra.Command{propose, voteCmd, show, endorse, submit} {
		if c != show {
			c.Flags().StringVar(&from, "from", "", "name of the signing key in --keys (required)")
			_ = c.MarkFlagRequired("from")
			keysFlag(c, e)
		}
		c.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
		nodeFlag(c, e)
		cmd.AddCommand(c)
	}
	return cmd
}

// castVote endorses proposal id as m and submits the vote.
func castVote(ctx context.Context, e *env, c *sdk.Client, m *member, id uint64) (*govResult, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.Proposal(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(r.Proposals) != 1 {
		return nil, fmt.Errorf("%w: %d", govcall.ErrNoProposal, id)
	}
	pv := r.Proposals[0]
	p := &identity.Proposal{ChainID: info.ChainID, ID: pv.Id, Deadline: pv.Deadline, Payload: pv.Change}
	en, err := identity.Endorse(m.key.Private, m.ref(), p, info.Hash)
	if err != nil {
		return nil, err
	}
	return submitGov(ctx, e, c, m, govcall.MethodVote, govcall.Args(govcall.VoteArgs{ID: id, Endorsements: identity.EncodeEndorsements([]identity.Endorsement{en})}))
}

func certCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "cert", Short: "Issue and revoke an organisation's member certificates"}
	var (
		org, name, role, keyName, serial, from string
		timeout                                time.Duration
	)
	issue := &cobra.Command{
		Use:   "issue --org DIR/orgs/orgN --name NAME --role client",
		Short: "Issue a certificate with the organisation's CA (offline); the key is made in --keys if absent",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := identity.ParseRole(role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			ks, err := keystore.Open(e.keys)
			if err != nil {
				return err
			}
			if keyName == "" {
				keyName = name
			}
			if _, err := ks.Get(keyName); errors.Is(err, keystore.ErrNotFound) {
				b, err := os.ReadFile(filepath.Join(org, "ca.pem"))
				if err != nil {
					return fmt.Errorf("--org: %s is not an organisation folder made by `accord init --orgs`: %w", org, err)
				}
				ca, err := identity.ParseCertPEM(b)
				if err != nil {
					return fmt.Errorf("--org: %w", err)
				}
				if _, err := ks.New(keyName, ca.Scheme); err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			if _, err := os.Stat(ks.CertPath(keyName)); err == nil {
				return fmt.Errorf("--key %s already has a certificate (%s); revoke it first or pick another key", keyName, ks.CertPath(keyName))
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			res, err := provision.IssueCert(org, ks, keyName, name, r, time.Now())
			if errors.Is(err, provision.ErrNotOrgDir) {
				return fmt.Errorf("--org: %w; `accord init --orgs` makes organisation folders", err)
			}
			if err != nil {
				return err
			}
			return e.print(res, func(w io.Writer) {
				fmt.Fprintf(w, "issued %s certificate %q of %s\nserial:  %s\nkey:     %s\naddress: %s\ncert:    %s\n",
					res.Role, res.Name, res.Org, res.Serial, res.Key, res.Address, res.CertFile)
			})
		},
	}
	issue.Flags().StringVar(&org, "org", "", "organisation folder holding ca.pem and ca.key (required)")
	issue.Flags().StringVar(&name, "name", "", "the member's name (required)")
	issue.Flags().StringVar(&role, "role", "client", "admin, client, consensus or light")
	issue.Flags().StringVar(&keyName, "key", "", "key name in --keys (default: --name); made if absent")
	_ = issue.MarkFlagRequired("org")
	_ = issue.MarkFlagRequired("name")
	keysFlag(issue, e)

	revoke := &cobra.Command{
		Use:   "revoke --org ORG --serial HEX --from ORG-ADMIN-KEY",
		Short: "Revoke one of your organisation's certificates (an admin action; no approval needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := orgID(org)
			if err != nil {
				return err
			}
			sn, err := normalSerial(serial)
			if err != nil {
				return fmt.Errorf("--serial: %w", err)
			}
			if !identity.ValidOrgID(id) {
				return fmt.Errorf("--org %q: not an organisation id, nor a folder holding its ca.pem", org)
			}
			m, c, err := memberClient(e, from)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			res, err := submitGov(ctx, e, c, m, govcall.MethodRevoke, govcall.Args(govcall.RevokeArgs{Org: id, Serial: sn}))
			if err != nil {
				return err
			}
			return printGov(e, res)
		},
	}
	revoke.Flags().StringVar(&org, "org", "", "organisation id, or its folder (required)")
	revoke.Flags().StringVar(&serial, "serial", "", "serial of the certificate, hex; OpenSSL's form (upper case, leading zeros, colons) is accepted (required)")
	revoke.Flags().StringVar(&from, "from", "", "an admin key of the organisation (required)")
	revoke.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	for _, f := range []string{"org", "serial", "from"} {
		_ = revoke.MarkFlagRequired(f)
	}
	keysFlag(revoke, e)
	nodeFlag(revoke, e)
	var scheme string
	newCA := &cobra.Command{
		Use:   "ca --org ID --dir DIR",
		Short: "Make a CA for a new organisation (DIR/ca.pem, DIR/ca.key), to propose with `accord gov propose` (add_org)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := crypto.ParseScheme(scheme)
			if err != nil {
				return fmt.Errorf("--crypto %q: want sm2 or p256", scheme)
			}
			if err := provision.NewOrgCA(keyName, org, s, time.Now()); err != nil {
				return err
			}
			v := map[string]string{"org": org, "dir": keyName, "ca": filepath.Join(keyName, "ca.pem")}
			return e.print(v, func(w io.Writer) { fmt.Fprintf(w, "CA of %s in %s\n", org, keyName) })
		},
	}
	newCA.Flags().StringVar(&org, "org", "", "the organisation id (required)")
	newCA.Flags().StringVar(&keyName, "dir", "", "folder to create (required)")
	newCA.Flags().StringVar(&scheme, "crypto", "sm2", "CA scheme: sm2 or p256")
	_ = newCA.MarkFlagRequired("org")
	_ = newCA.MarkFlagRequired("dir")
	cmd.AddCommand(issue, revoke, newCA, certListCmd(e))
	return cmd
}
