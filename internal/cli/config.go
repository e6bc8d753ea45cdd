package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
)

// configView is `accord query config -o json`.
type configView struct {
	Height       uint64             `json:"height"`
	ChainID      string             `json:"chain_id"`
	Hash         string             `json:"hash"`
	Issuer       string             `json:"issuer"`
	Permissioned bool               `json:"permissioned"`
	Mode         string             `json:"mode,omitempty"`
	Orgs         []orgView          `json:"organisations"`
	Governance   string             `json:"governance,omitempty"`
	Policies     []policyView       `json:"policies"`
	Params       *apipb.ChainParams `json:"parameters"`
	Nodes        []nodeView         `json:"nodes"`
	Frozen       []string           `json:"frozen_accounts"`
	Revoked      []revokedView      `json:"revoked_serials"`
}

type orgView struct {
	ID     string   `json:"id"`
	Scheme string   `json:"scheme"`
	CAs    []caView `json:"cas"`
}

type caView struct {
	Subject  string `json:"subject"`
	Serial   string `json:"serial"`
	NotAfter string `json:"not_after"`
	CertHash string `json:"cert_hash"`
}

type policyView struct {
	Method string `json:"method"`
	Policy string `json:"policy"`
}

type nodeView struct {
	ID      string `json:"id"`
	Org     string `json:"org,omitempty"`
	Addr    string `json:"addr,omitempty"`
	Key     string `json:"key,omitempty"`
	HasCert bool   `json:"has_cert"`
}

type revokedView struct {
	Org    string `json:"org"`
	Serial string `json:"serial"`
}

func msTime(ms uint64) string { return time.UnixMilli(int64(ms)).UTC().Format(time.RFC3339) }

func viewConfig(r *apipb.GetConfigResponse) configView {
	v := configView{Height: r.Height, ChainID: r.ChainId, Hash: r.Hash, Issuer: r.Issuer, Permissioned: r.Permissioned,
		Mode: r.Mode, Governance: r.Governance, Params: r.Params,
		Orgs: []orgView{}, Policies: []policyView{}, Nodes: []nodeView{}, Frozen: []string{}, Revoked: []revokedView{}}
	if v.Params == nil {
		v.Params = &apipb.ChainParams{}
	}
	for _, o := range r.Orgs {
		ov := orgView{ID: o.Id, Scheme: o.Scheme, CAs: []caView{}}
		for _, ca := range o.Cas {
			ov.CAs = append(ov.CAs, caView{Subject: ca.Subject, Serial: ca.Serial, NotAfter: msTime(ca.NotAfter), CertHash: ca.CertHash})
		}
		v.Orgs = append(v.Orgs, ov)
	}
	for _, p := range r.Policies {
		v.Policies = append(v.Policies, policyView{p.Method, p.Policy})
	}
	for _, n := range r.Nodes {
		v.Nodes = append(v.Nodes, nodeView{n.Id, n.Org, n.Addr, n.Key, n.HasCert})
	}
	v.Frozen = append(v.Frozen, r.Frozen...)
	for _, x := range r.Revoked {
		v.Revoked = append(v.Revoked, revokedView{x.Org, x.Serial})
	}
	return v
}

func queryConfigCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Show the chain's configuration: organisations, CAs, policies, parameters, nodes, frozen accounts, revoked serials",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			r, err := c.Config(ctx)
			if err != nil {
				return err
			}
			v := viewConfig(r)
			return e.print(v, func(w io.Writer) { printConfig(w, v) })
		},
	}
}

func printConfig(w io.Writer, v configView) {
	fmt.Fprintf(w, "chain_id:   %s (height %d)\nhash:       %s\nissuer:     %s\n", v.ChainID, v.Height, v.Hash, v.Issuer)
	if !v.Permissioned {
		fmt.Fprintln(w, "an open chain: no organisations, policies or governance")
		return
	}
	fmt.Fprintf(w, "mode:       %s\ngovernance: %s\n", v.Mode, v.Governance)
	for _, o := range v.Orgs {
		fmt.Fprintf(w, "organisation %s (%s)\n", o.ID, o.Scheme)
		for _, ca := range o.CAs {
			fmt.Fprintf(w, "  ca %q serial %s until %s hash %s\n", ca.Subject, ca.Serial, ca.NotAfter, ca.CertHash)
		}
	}
	for _, p := range v.Policies {
		fmt.Fprintf(w, "policy %s: %s\n", p.Method, p.Policy)
	}
	p := v.Params
	fmt.Fprintf(w, "parameters: max_block_txs=%d max_block_bytes=%d block_interval_ms=%d (0: each node's own)\n", p.MaxBlockTxs, p.MaxBlockBytes, p.BlockIntervalMs)
	for _, n := range v.Nodes {
		fmt.Fprintf(w, "node %s org=%s addr=%s\n", n.ID, n.Org, n.Addr)
	}
	for _, a := range v.Frozen {
		fmt.Fprintf(w, "frozen %s\n", a)
	}
	for _, r := range v.Revoked {
		fmt.Fprintf(w, "revoked %s serial %s\n", r.Org, r.Serial)
	}
}

// errBadSerial is a --serial that is not a certificate serial.
var errBadSerial = errors.New("bad certificate serial")

// normalSerial reads a certificate serial as people copy it: OpenSSL's
// upper case with leading zeros ("serial=0A1F"), colon-separated bytes
// ("0a:1f"), or 0x-prefixed, and returns the lower-case hex without
// leading zeros that the chain records.
func normalSerial(s string) (string, error) {
	in := s
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "serial="), "0x")
	s = strings.ToLower(strings.ReplaceAll(s, ":", ""))
	s = strings.TrimLeft(s, "0")
	if s == "" || len(s) > 40 || strings.Trim(s, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%w %q: want a positive hex number such as 0A1F (as `openssl x509 -serial` prints it)", errBadSerial, in)
	}
	return s, nil
}

// orgID is --org given as an organisation id or as its folder.
func orgID(org string) (string, error) {
	b, err := os.ReadFile(filepath.Join(org, "ca.pem"))
	if err != nil {
		return org, nil
	}
	ca, err := identity.ParseCertPEM(b)
	if err != nil {
		return "", fmt.Errorf("--org: %w", err)
	}
	return ca.Org, nil
}

type memberView struct {
	Org      string `json:"org"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Serial   string `json:"serial"`
	Key      string `json:"key"`
	Address  string `json:"address"`
	NotAfter string `json:"not_after"`
	Status   string `json:"status"` // active, revoked, expired, or unknown_org
}

func certListCmd(e *env) *cobra.Command {
	var org string
	cmd := &cobra.Command{
		Use:   "list [--org ORG]",
		Short: "List the members whose certificates are in --keys, with serial, role, name and status on the chain",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			want := ""
			if org != "" {
				id, err := orgID(org)
				if err != nil {
					return err
				}
				want = id
			}
			if _, err := os.Stat(e.keys); err != nil {
				return fmt.Errorf("--keys: %w", err)
			}
			ks, err := keystore.Open(e.keys)
			if err != nil {
				return err
			}
			keys, err := ks.List()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), queryTimeout)
			defer cancel()
			c, err := e.client()
			if err != nil {
				return err
			}
			cfg, err := c.Config(ctx)
			if err != nil {
				return err
			}
			if !cfg.Permissioned {
				return fmt.Errorf("chain %s is open: it has no organisations or certificates", cfg.ChainId)
			}
			revoked := map[string]bool{}
			for _, r := range cfg.Revoked {
				revoked[r.Org+"/"+r.Serial] = true
			}
			orgs := map[string]bool{}
			for _, o := range cfg.Orgs {
				orgs[o.Id] = true
			}
			now := uint64(time.Now().UnixMilli())
			views := []memberView{}
			for _, k := range keys {
				der, err := ks.Cert(k.Name)
				if err != nil {
					return err
				}
				if der == nil {
					continue
				}
				cert, err := identity.ParseCert(der)
				if err != nil {
					return fmt.Errorf("%s: %w", ks.CertPath(k.Name), err)
				}
				if want != "" && cert.Org != want {
					continue
				}
				status := "active"
				switch {
				case !orgs[cert.Org]:
					status = "unknown_org"
				case revoked[cert.Org+"/"+cert.Serial]:
					status = "revoked"
				case now > cert.NotAfter:
					status = "expired"
				}
				views = append(views, memberView{Org: cert.Org, Name: cert.Name, Role: cert.Role.String(), Serial: cert.Serial,
					Key: k.Name, Address: k.Address.String(), NotAfter: msTime(cert.NotAfter), Status: status})
			}
			return e.print(views, func(w io.Writer) {
				for _, m := range views {
					fmt.Fprintf(w, "%-8s %-16s %-9s serial %-6s %-8s key %s\n", m.Org, m.Name, m.Role, m.Serial, m.Status, m.Key)
				}
			})
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "only this organisation: its id, or its folder")
	nodeFlag(cmd, e)
	return cmd
}

// certSummary names a certificate in a change by what a reader checks.
type certSummary struct {
	Org     string `json:"org"`
	Subject string `json:"subject"`
	Serial  string `json:"serial"`
	SHA256  string `json:"sha256"` // of the DER, as `openssl x509 -fingerprint -sha256` prints it, without colons
}

// summariseChange replaces the PEM certificates of an encoded change
// (ca_pem, node.cert_pem) by their summaries: a CA's PEM is kilobytes
// that nobody reads in a listing. A change it cannot read is left as is.
func summariseChange(b []byte) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	swap := func(m map[string]json.RawMessage, from, to string) bool {
		var pem string
		if json.Unmarshal(m[from], &pem) != nil || pem == "" {
			return false
		}
		c, err := identity.ParseCertPEM([]byte(pem))
		if err != nil {
			return false
		}
		sum := sha256.Sum256(c.Raw)
		m[to], _ = json.Marshal(certSummary{Org: c.Org, Subject: c.Name, Serial: c.Serial, SHA256: hex.EncodeToString(sum[:])})
		delete(m, from)
		return true
	}
	changed := swap(m, "ca_pem", "ca")
	var node map[string]json.RawMessage
	if json.Unmarshal(m["node"], &node) == nil && swap(node, "cert_pem", "cert") {
		m["node"], _ = json.Marshal(node)
		changed = true
	}
	if !changed {
		return b
	}
	out, err := json.Marshal(m)
	if err != nil {
		return b
	}
	return out
}
