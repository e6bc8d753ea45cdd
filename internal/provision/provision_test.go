package provision

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/genesis"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
)

func initNet(t *testing.T, o Options) *Result {
	t.Helper()
	if o.Home == "" {
		o.Home = t.TempDir()
	}
	res, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestInitDefaultsAndRefusal(t *testing.T) {
	home := t.TempDir()
	res := initNet(t, Options{Home: home, Crypto: crypto.SM2})
	g, _, err := genesis.Load(filepath.Join(res.Nodes[0].Home, config.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if g.Hash != "sm3" || g.Crypto != "sm2" || g.Token.Issuer != res.Admin || g.ChainID != "accord-dev" {
		t.Fatalf("genesis for Crypto SM2: %+v", g)
	}
	if _, err := Init(Options{Home: home}); !errors.Is(err, ErrInitialised) {
		t.Fatalf("second init: %v, want ErrInitialised", err)
	}
	cfg, err := config.Load(res.Nodes[0].Home)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := cfg.SoloEngineConfig()
	if sc.Interval > 200*time.Millisecond || cfg.API != "127.0.0.1:7070" {
		t.Fatalf("default config: interval %s, api %s", sc.Interval, cfg.API)
	}
}

// TestInitRefusesBadFields checks that each bad option is refused with a
// *FieldError naming its field, not a command-line flag, and before
// anything is written.
func TestInitRefusesBadFields(t *testing.T) {
	for _, c := range []struct {
		o     Options
		field string
	}{
		{Options{}, "Options.Home"},
		{Options{Crypto: crypto.Scheme(99)}, "Options.Crypto"},
		{Options{Nodes: 65}, "Options.Nodes"},
		{Options{Nodes: -1}, "Options.Nodes"},
		{Options{BasePort: 80}, "Options.BasePort"},
		{Options{BasePort: 65500, Nodes: 4}, "Options.BasePort"},
		{Options{Orgs: 65, Crypto: crypto.SM2}, "Options.Orgs"},
		{Options{Orgs: -1}, "Options.Orgs"},
		{Options{Orgs: 2, Crypto: crypto.Ed25519}, "Options.Crypto"},
		{Options{Orgs: 2, Crypto: crypto.P256, Identity: "badge"}, "Options.Identity"},
	} {
		dir := t.TempDir()
		if c.field != "Options.Home" {
			c.o.Home = filepath.Join(dir, "net")
		}
		_, err := Init(c.o)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: %v, want a FieldError on %s", c.o, err, c.field)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.field) || strings.Contains(msg, "--") {
			t.Errorf("%+v: message %q should name %s and no flag", c.o, msg, c.field)
		}
		if _, err := os.Stat(filepath.Join(dir, "net")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%+v: refused options left %s behind (%v)", c.o, filepath.Join(dir, "net"), err)
		}
	}
	_, err := Init(Options{Home: t.TempDir(), Crypto: crypto.Scheme(99)})
	if !errors.Is(err, crypto.ErrUnknownScheme) {
		t.Errorf("unknown scheme: %v, want it to wrap crypto.ErrUnknownScheme", err)
	}
}

// TestInitOrgs makes a permissioned network of three nodes in two
// organisations and checks what its nodes will trust: each organisation's
// CA in genesis, and each node certified as a consensus member of its
// organisation, round robin, under serials that never repeat.
func TestInitOrgs(t *testing.T) {
	home := t.TempDir()
	res := initNet(t, Options{Home: home, Crypto: crypto.P256, Orgs: 2, Nodes: 3, BasePort: 20000})
	if len(res.Orgs) != 2 || res.Orgs[1].ID != "org2" || res.Orgs[1].Dir != OrgDir(home, 2) || res.NetworkDir != NetworkDir(home) {
		t.Fatalf("result: %+v", res)
	}
	g, _, err := genesis.Load(filepath.Join(res.Nodes[2].Home, config.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if g.Identity == nil || g.Identity.Mode != "cert" || len(g.Identity.Orgs) != 2 || len(g.Identity.Nodes) != 3 {
		t.Fatalf("genesis identity: %+v", g.Identity)
	}
	serials := map[string]bool{}
	for i, want := range []string{"org1", "org2", "org1"} {
		gn := g.Identity.Nodes[i]
		ks, err := keystore.Open(res.Nodes[i].Home)
		if err != nil {
			t.Fatal(err)
		}
		der, err := ks.Cert(config.NodeKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		c, err := identity.ParseCert(der)
		if err != nil {
			t.Fatal(err)
		}
		if gn.Org != want || c.Org != want || c.Role != identity.Consensus || gn.Addr != "127.0.0.1:"+[]string{"20001", "20011", "20021"}[i] {
			t.Errorf("node%d: genesis %+v, cert of %s role %s; want a consensus member of %s", i, gn, c.Org, c.Role, want)
		}
		key := c.Org + "/" + c.Serial
		if serials[key] {
			t.Errorf("node%d: serial %s repeated", i, key)
		}
		serials[key] = true
		if _, err := os.Stat(filepath.Join(res.Nodes[i].Home, config.CertFile)); err != nil {
			t.Errorf("node%d has no network certificate: %v", i, err)
		}
	}
	ks, err := keystore.Open(res.KeysDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.New("shop", crypto.P256); err != nil {
		t.Fatal(err)
	}
	ic, err := IssueCert(OrgDir(home, 1), ks, "shop", "shop", identity.Client, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ic.Org != "org1" || ic.Role != "client" || serials["org1/"+ic.Serial] {
		t.Errorf("IssueCert: %+v; want a client of org1 under a serial no node has", ic)
	}
	if _, err := IssueCert(res.KeysDir, ks, res.Orgs[0].Client, "shop", identity.Client, time.Now()); !errors.Is(err, ErrNotOrgDir) {
		t.Errorf("IssueCert from a folder without a CA: %v, want ErrNotOrgDir", err)
	}
	if err := NewOrgCA(OrgDir(home, 1), "org1", crypto.P256, time.Now()); err == nil {
		t.Error("NewOrgCA replaced organisation org1's CA")
	}
}

// TestJoiningHome makes the home of a third node for a two-node network and
// reads it back as `accord node add --home` does.
func TestJoiningHome(t *testing.T) {
	net := t.TempDir()
	initNet(t, Options{Home: net, Nodes: 2, BasePort: 21000})
	members := []config.Peer{
		{ID: 1, NodeID: "node0", API: "127.0.0.1:21000", P2P: "127.0.0.1:21001"},
		{ID: 2, NodeID: "node1", API: "127.0.0.1:21010", P2P: "127.0.0.1:21011"},
	}
	if _, _, err := NewJoiningHome(JoinOptions{Network: net, Members: members, ID: 2}); !isField(err, "JoinOptions.ID") {
		t.Fatalf("joining with a taken raft id: %v, want a FieldError on JoinOptions.ID", err)
	}
	if _, _, err := NewJoiningHome(JoinOptions{Network: net, Members: members}); !isField(err, "JoinOptions.ID") {
		t.Fatalf("joining without a raft id: %v, want a FieldError on JoinOptions.ID", err)
	}
	if _, _, err := NewJoiningHome(JoinOptions{Network: net, ID: 3}); !isField(err, "JoinOptions.Members") {
		t.Fatalf("joining without the member list: %v, want a FieldError on JoinOptions.Members", err)
	}
	if _, _, err := NewJoiningHome(JoinOptions{Network: net, Members: members, ID: 3, API: "nohost"}); !isField(err, "JoinOptions.API") {
		t.Fatalf("joining with a bad API address: %v, want a FieldError on JoinOptions.API", err)
	}
	n, self, err := NewJoiningHome(JoinOptions{Network: net, Members: members, ID: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := config.Peer{ID: 3, NodeID: "node2", API: "127.0.0.1:21020", P2P: "127.0.0.1:21021"}
	if n.Home != NodeHome(net, 2) || self != want {
		t.Fatalf("joining home %+v, self %+v; want %s, %+v", n, self, NodeHome(net, 2), want)
	}
	n2, self2, err := JoiningHome(n.Home)
	if err != nil || *n2 != *n || self2 != self {
		t.Fatalf("JoiningHome read back %+v %+v (%v), want %+v %+v", n2, self2, err, n, self)
	}
	cfg, err := config.Load(n.Home)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Raft.Join || len(cfg.Raft.Peers) != 3 {
		t.Fatalf("joining config: %+v", cfg.Raft)
	}
	if _, _, err := JoiningHome(NodeHome(net, 0)); !errors.Is(err, ErrNotJoiningHome) {
		t.Fatalf("JoiningHome of a founding node: %v, want ErrNotJoiningHome", err)
	}
}

// A joining home takes its id from the member list it is given, never from
// the folders: with node2's folder deleted and node4 (id 5) a member, id 5
// is refused and id 6 makes node5, which dials exactly the members.
func TestNewJoiningHomeFollowsTheMemberList(t *testing.T) {
	dir := t.TempDir()
	initNet(t, Options{Home: dir, Nodes: 4, BasePort: 9400})
	if err := os.RemoveAll(NodeHome(dir, 2)); err != nil {
		t.Fatal(err)
	}
	members := []config.Peer{
		{ID: 1, NodeID: "node0", P2P: "127.0.0.1:9401"}, {ID: 2, NodeID: "node1", P2P: "127.0.0.1:9411"},
		{ID: 4, NodeID: "node3", P2P: "127.0.0.1:9431"}, {ID: 5, NodeID: "node4", P2P: "127.0.0.1:9441"},
	}
	if _, _, err := NewJoiningHome(JoinOptions{Network: dir, Members: members, ID: 5}); err == nil || !strings.Contains(err.Error(), "already a member") {
		t.Fatalf("joining as id 5, node4's: %v, want a refusal", err)
	}
	home, self, err := NewJoiningHome(JoinOptions{Network: dir, Members: members, ID: 6})
	if err != nil {
		t.Fatal(err)
	}
	if self.ID != 6 || self.NodeID != "node5" || home.Home != NodeHome(dir, 5) {
		t.Fatalf("joining home %+v %+v, want node5 with id 6 in %s", home, self, NodeHome(dir, 5))
	}
	cfg, err := config.Load(home.Home)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Raft.Peers; len(got) != 5 || got[3] != members[3] || got[4] != self || !cfg.Raft.Join {
		t.Fatalf("joining config peers %+v join %v, want the members and itself, joining", got, cfg.Raft.Join)
	}
}

func isField(err error, field string) bool {
	var fe *FieldError
	return errors.As(err, &fe) && fe.Field == field
}

func TestInitBFT(t *testing.T) {
	var fe *FieldError
	if _, err := Init(Options{Home: t.TempDir(), Nodes: 3, Consensus: "bft"}); !errors.As(err, &fe) || fe.Field != "Options.Consensus" {
		t.Fatalf("bft with 3 nodes: %v", err)
	}
	if _, err := Init(Options{Home: t.TempDir(), Nodes: 4, Consensus: "pbft"}); !errors.As(err, &fe) || fe.Field != "Options.Consensus" {
		t.Fatalf("consensus pbft: %v", err)
	}
	res := initNet(t, Options{Nodes: 4, Consensus: "bft"})
	var lists [][]config.Peer
	for i, n := range res.Nodes {
		cfg, err := config.Load(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Consensus != "bft" {
			t.Fatalf("node %d: consensus %q", i, cfg.Consensus)
		}
		ks, err := keystore.Open(n.Home)
		if err != nil {
			t.Fatal(err)
		}
		nk, err := ks.Get(config.NodeKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		self := cfg.Raft.Peers[i]
		if self.ID != cfg.Raft.ID || self.PubKey == "" || !strings.EqualFold(self.PubKey, hexOf(nk.Private.Public().Bytes())) {
			t.Fatalf("node %d lists itself as %+v", i, self)
		}
		lists = append(lists, cfg.Raft.Peers)
	}
	for i := range lists {
		for j := range lists[i] {
			if lists[i][j] != lists[0][j] {
				t.Fatalf("nodes 0 and %d list different validators: %+v, %+v", i, lists[0][j], lists[i][j])
			}
		}
	}
	// Raft stays the default and lists no keys.
	raft := initNet(t, Options{Nodes: 2})
	cfg, err := config.Load(raft.Nodes[0].Home)
	if err != nil || cfg.Consensus != "raft" || cfg.Raft.Peers[0].PubKey != "" {
		t.Fatalf("default network: %+v %v", cfg, err)
	}
}

func hexOf(b []byte) string { return fmt.Sprintf("%x", b) }
