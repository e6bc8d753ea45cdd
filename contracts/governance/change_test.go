package governance

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// newCA makes a P-256 CA of org (P-256 keys are the cheapest to make).
func newCA(t *testing.T, org string) *identity.CA {
	t.Helper()
	ca, err := identity.NewCA(org, crypto.P256, t0, 365*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// consortium is a certificate-mode state of orgs org1..orgN with one CA
// each, a method policy naming org1, a validator of org2 and a revocation
// of org2.
type consortium struct {
	cas   map[string]*identity.CA
	state State
}

func newConsortium(t *testing.T, n int) *consortium {
	t.Helper()
	c := &consortium{cas: map[string]*identity.CA{}}
	cfg := identity.Config{Mode: identity.CertMode}
	for i := 1; i <= n; i++ {
		id := "org" + string(rune('0'+i))
		c.cas[id] = newCA(t, id)
		cfg.Orgs = append(cfg.Orgs, identity.Org{ID: id, Scheme: crypto.P256, CAs: [][]byte{c.cas[id].Cert.Raw}})
	}
	mint, err := identity.ParsePolicy("SET(1 of org1; admin)")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Methods = []identity.MethodPolicy{{Method: "token.mint", Policy: mint}}
	if n >= 2 {
		cfg.Revoked = []identity.Revocation{{Org: "org2", Serial: "7"}}
	}
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c.state = State{Config: cfg, Nodes: []Node{{ID: "node1", Org: "org1"}, {ID: "node2", Org: "org2"}}}
	return c
}

func (c *consortium) org(id string) *identity.Org {
	for i := range c.state.Config.Orgs {
		if c.state.Config.Orgs[i].ID == id {
			return &c.state.Config.Orgs[i]
		}
	}
	return nil
}

// apply applies ch and fails the test if it is refused.
func (c *consortium) apply(t *testing.T, ch Change) {
	t.Helper()
	if err := c.state.Apply(&ch); err != nil {
		t.Fatalf("%s: %v, want it applied", jsonOf(ch), err)
	}
	if _, err := c.state.Config.Encode(); err != nil {
		t.Fatalf("%s: applied, but the configuration does not encode: %v", jsonOf(ch), err)
	}
}

// refuse checks that ch is refused with ErrBadChange and a message
// containing want, and that the state did not change at all.
func (c *consortium) refuse(t *testing.T, ch Change, want string) {
	t.Helper()
	before := c.state.clone()
	before.Config.Orgs = deepOrgs(before.Config.Orgs)
	err := c.state.Apply(&ch)
	if err == nil {
		t.Fatalf("%s: applied, want it refused with %q", jsonOf(ch), want)
	}
	if !errors.Is(err, ErrBadChange) || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: %v, want ErrBadChange containing %q", jsonOf(ch), err, want)
	}
	if !reflect.DeepEqual(before, c.state) {
		t.Fatalf("%s: refused (%v), but the state changed", jsonOf(ch), err)
	}
}

func jsonOf(ch Change) string {
	b, _ := json.Marshal(ch)
	return string(b)
}

func deepOrgs(orgs []identity.Org) []identity.Org {
	out := slices.Clone(orgs)
	for i := range out {
		out[i].CAs = slices.Clone(out[i].CAs)
	}
	return out
}

func TestApplyAddOrg(t *testing.T) {
	c := newConsortium(t, 3)
	ca4 := newCA(t, "org4")
	c.apply(t, Change{Kind: KindAddOrg, Org: "org4", Scheme: "p256", CAPEM: string(ca4.Cert.PEM())})
	if o := c.org("org4"); o == nil || o.Scheme != crypto.P256 || len(o.CAs) != 1 {
		t.Fatalf("org4 after add_org: %+v", o)
	}
	c.refuse(t, Change{Kind: KindAddOrg, Org: "org4", Scheme: "p256", CAPEM: string(ca4.Cert.PEM())}, "org4 already exists")
	c.refuse(t, Change{Kind: KindAddOrg, Org: "org5", Scheme: "p256", CAPEM: string(ca4.Cert.PEM())}, "not a p256 CA certificate of org5")
	c.refuse(t, Change{Kind: KindAddOrg, Org: "org5", Scheme: "rsa", CAPEM: string(ca4.Cert.PEM())}, "scheme")
	c.refuse(t, Change{Kind: KindAddOrg, Org: "org5", Scheme: "p256", CAPEM: "not a certificate"}, "ca_pem")
}

func TestApplyRemoveOrg(t *testing.T) {
	c := newConsortium(t, 3)
	c.apply(t, Change{Kind: KindRemoveOrg, Org: "org2"})
	if c.org("org2") != nil {
		t.Fatal("org2 still listed after remove_org")
	}
	if len(c.state.Config.Revoked) != 0 {
		t.Fatalf("org2's revocations kept: %v", c.state.Config.Revoked)
	}
	if len(c.state.Nodes) != 1 || c.state.Nodes[0].ID != "node1" {
		t.Fatalf("validators after removing org2: %v, want node1 alone", c.state.Nodes)
	}
	c.refuse(t, Change{Kind: KindRemoveOrg, Org: "org9"}, `unknown organisation "org9"`)
	// token.mint's policy names org1: remove the policy first.
	c.refuse(t, Change{Kind: KindRemoveOrg, Org: "org1"}, "method token.mint")
	c.apply(t, Change{Kind: KindRemoveOrg, Org: "org3"})
	c.refuse(t, Change{Kind: KindRemoveOrg, Org: "org1"}, "org1 is the last organisation")
}

func TestApplyAddAndRemoveCA(t *testing.T) {
	c := newConsortium(t, 2)
	next := newCA(t, "org1")
	c.apply(t, Change{Kind: KindAddCA, Org: "org1", CAPEM: string(next.Cert.PEM())})
	if n := len(c.org("org1").CAs); n != 2 {
		t.Fatalf("org1 lists %d CAs after add_ca, want 2", n)
	}
	c.refuse(t, Change{Kind: KindAddCA, Org: "org1", CAPEM: string(next.Cert.PEM())}, "org1 already trusts this CA")
	c.refuse(t, Change{Kind: KindAddCA, Org: "org9", CAPEM: string(next.Cert.PEM())}, `unknown organisation "org9"`)
	c.refuse(t, Change{Kind: KindAddCA, Org: "org2", CAPEM: string(next.Cert.PEM())}, "not a p256 CA certificate of org2")
	c.refuse(t, Change{Kind: KindAddCA, Org: "org2", CAPEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "ca_pem")

	// Rotation: the old CA goes, the new one stays.
	old := c.cas["org1"]
	c.apply(t, Change{Kind: KindRemoveCA, Org: "org1", CAPEM: string(old.Cert.PEM())})
	if o := c.org("org1"); len(o.CAs) != 1 || !slices.Equal(o.CAs[0], next.Cert.Raw) {
		t.Fatal("org1 after remove_ca does not list exactly its new CA")
	}
	c.refuse(t, Change{Kind: KindRemoveCA, Org: "org1", CAPEM: string(old.Cert.PEM())}, "org1 does not list this CA")
	c.refuse(t, Change{Kind: KindRemoveCA, Org: "org1", CAPEM: string(next.Cert.PEM())}, "org1 lists no CA certificate")
	c.refuse(t, Change{Kind: KindRemoveCA, Org: "org9", CAPEM: string(next.Cert.PEM())}, `unknown organisation "org9"`)
}

func TestApplyAddCAUpToTheLimit(t *testing.T) {
	c := newConsortium(t, 1)
	for range identity.MaxCAs - 1 {
		c.apply(t, Change{Kind: KindAddCA, Org: "org1", CAPEM: string(newCA(t, "org1").Cert.PEM())})
	}
	c.refuse(t, Change{Kind: KindAddCA, Org: "org1", CAPEM: string(newCA(t, "org1").Cert.PEM())}, "at most 8 allowed")
}

func TestApplySetPolicy(t *testing.T) {
	c := newConsortium(t, 3)
	policy := func(method string) string {
		for _, m := range c.state.Config.Methods {
			if m.Method == method {
				return m.Policy.String()
			}
		}
		return ""
	}
	c.apply(t, Change{Kind: KindSetPolicy, Method: "gov.add_org", Policy: "ALL(admin)"})
	if got := policy("gov.add_org"); got != "ALL(admin)" {
		t.Fatalf("gov.add_org policy %q after set_policy, want ALL(admin)", got)
	}
	c.apply(t, Change{Kind: KindSetPolicy, Method: "token.mint", Policy: "SET(2 of org1,org2; admin)"})
	if got := policy("token.mint"); got != "SET(2 of org1,org2; admin)" {
		t.Fatalf("token.mint policy %q after replacing it", got)
	}
	c.apply(t, Change{Kind: KindSetPolicy, Method: "gov.add_org"})
	if got := policy("gov.add_org"); got != "" || len(c.state.Config.Methods) != 1 {
		t.Fatalf("gov.add_org policy %q after removing it; methods %v", got, c.state.Config.Methods)
	}
	c.refuse(t, Change{Kind: KindSetPolicy, Method: "token.mint", Policy: "MOST(admin)"}, "rule")
	c.refuse(t, Change{Kind: KindSetPolicy, Method: "token.mint", Policy: "SET(1 of org9; admin)"}, `unknown organisation "org9"`)
	c.refuse(t, Change{Kind: KindSetPolicy, Method: "token.mint", Policy: "SET(4 of org1,org2,org3; admin)"}, "threshold")
	c.refuse(t, Change{Kind: KindSetPolicy, Method: "not a method", Policy: "ANY(admin)"}, "want contract.method")
}

func TestApplySetGovernance(t *testing.T) {
	c := newConsortium(t, 3)
	c.apply(t, Change{Kind: KindSetGovernance, Policy: "SET(2 of org1,org2,org3; admin)"})
	if got := c.state.Config.Governance.String(); got != "SET(2 of org1,org2,org3; admin)" {
		t.Fatalf("governance %q after set_governance", got)
	}
	// The governance policy names org3 now: it cannot leave first.
	c.refuse(t, Change{Kind: KindRemoveOrg, Org: "org3"}, "governance")
	c.refuse(t, Change{Kind: KindSetGovernance, Policy: "SET(1 of org4; admin)"}, `unknown organisation "org4"`)
	c.refuse(t, Change{Kind: KindSetGovernance, Policy: "ALL(owner)"}, "role")
	c.refuse(t, Change{Kind: KindSetGovernance}, "policy is required")
}

func TestApplySetParams(t *testing.T) {
	c := newConsortium(t, 1)
	want := Params{MaxBlockTxs: 2, MaxBlockBytes: 1 << 20, BlockIntervalMs: 250}
	c.apply(t, Change{Kind: KindSetParams, Params: &want})
	if c.state.Params != want {
		t.Fatalf("params %+v after set_params, want %+v", c.state.Params, want)
	}
	c.apply(t, Change{Kind: KindSetParams, Params: &Params{}})
	if c.state.Params != (Params{}) {
		t.Fatalf("params %+v after resetting them, want the node defaults (zero)", c.state.Params)
	}
	for _, tc := range []struct {
		p    Params
		want string
	}{
		{Params{BlockIntervalMs: 20_000}, "block_interval_ms 20000"},
		{Params{MaxBlockBytes: 100}, "max_block_bytes 100"},
		{Params{MaxBlockBytes: 128 << 20}, "max_block_bytes"},
		{Params{MaxBlockTxs: 2_000_000}, "max_block_txs"},
	} {
		c.refuse(t, Change{Kind: KindSetParams, Params: &tc.p}, tc.want)
		if _, err := govcall.DecodeChange((&Change{Kind: KindSetParams, Params: &tc.p}).Encode()); !errors.Is(err, ErrBadParams) {
			t.Fatalf("decoding set_params %+v: %v, want ErrBadParams", tc.p, err)
		}
	}
	c.refuse(t, Change{Kind: KindSetParams}, "params is required")
}

func TestApplyAddAndRemoveNode(t *testing.T) {
	c := newConsortium(t, 2)
	c.apply(t, Change{Kind: KindAddNode, Node: &Node{ID: "node0", Org: "org2", Addr: "10.0.0.9:7071"}})
	var ids []string
	for _, n := range c.state.Nodes {
		ids = append(ids, n.ID)
	}
	if !slices.Equal(ids, []string{"node0", "node1", "node2"}) {
		t.Fatalf("validators %v after add_node, want node0, node1, node2 (sorted)", ids)
	}
	c.refuse(t, Change{Kind: KindAddNode, Node: &Node{ID: "node1", Org: "org1"}}, "node node1 already exists")
	c.refuse(t, Change{Kind: KindAddNode, Node: &Node{ID: "node9", Org: "org9"}}, `unknown organisation "org9"`)
	c.refuse(t, Change{Kind: KindAddNode, Node: &Node{ID: "../node"}}, "node id")

	c.apply(t, Change{Kind: KindRemoveNode, Node: &Node{ID: "node1"}})
	if len(c.state.Nodes) != 2 || slices.ContainsFunc(c.state.Nodes, func(n Node) bool { return n.ID == "node1" }) {
		t.Fatalf("validators %v after removing node1", c.state.Nodes)
	}
	c.refuse(t, Change{Kind: KindRemoveNode, Node: &Node{ID: "node1"}}, "no node node1")
}

// TestApplyLeavesAFailedStateAlone: a change that passes its own checks
// but leads to an invalid configuration changes nothing, even in the lists
// it edits in place.
func TestApplyLeavesAFailedStateAlone(t *testing.T) {
	c := newConsortium(t, 2)
	c.refuse(t, Change{Kind: KindSetPolicy, Method: "token.burn", Policy: "SET(1 of org3; admin)"}, "unknown organisation")
	c.apply(t, Change{Kind: KindSetPolicy, Method: "token.burn", Policy: "SET(1 of org2; admin)"})
	c.refuse(t, Change{Kind: KindRemoveOrg, Org: "org2"}, "method token.burn")
	if len(c.state.Nodes) != 2 || len(c.state.Config.Revoked) != 1 {
		t.Fatalf("a refused remove_org removed nodes or revocations: %v %v", c.state.Nodes, c.state.Config.Revoked)
	}
}

func TestGenesisRefusesBadParams(t *testing.T) {
	c := newConsortium(t, 1)
	s := c.state
	s.Params = Params{MaxBlockBytes: 10}
	if _, err := Genesis(s, nil); !errors.Is(err, ErrBadParams) {
		t.Fatalf("genesis with max_block_bytes 10: %v, want ErrBadParams", err)
	}
	s.Params = Params{MaxBlockTxs: 2, BlockIntervalMs: 50}
	if _, err := Genesis(s, nil); err != nil {
		t.Fatalf("genesis with valid params: %v", err)
	}
}
