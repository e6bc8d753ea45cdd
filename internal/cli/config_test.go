package cli

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
)

func TestNormalSerial(t *testing.T) {
	for in, want := range map[string]string{"0A1F": "a1f", "0a:1f": "a1f", "serial=04": "4", "0x10": "10", "ff": "ff", " 04 ": "4"} {
		if got, err := normalSerial(in); err != nil || got != want {
			t.Errorf("normalSerial(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "00", "xyz", "-4", "0g"} {
		if got, err := normalSerial(in); !errors.Is(err, errBadSerial) {
			t.Errorf("normalSerial(%q) = %q, %v; want errBadSerial", in, got, err)
		}
	}
}

// TestQueryConfigAndCertList: a permissioned chain's configuration as
// `query config -o json` shows it; `cert list` shows members with their
// status; `cert revoke` takes a serial as OpenSSL prints it, and the
// revocation shows in both.
func TestQueryConfigAndCertList(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	net := filepath.Join(t.TempDir(), "net")
	var res struct {
		KeysDir string `json:"keys_dir"`
		Nodes   []struct{ Home string }
	}
	if err := json.Unmarshal([]byte(ok(t, "init", "--home", net, "--orgs", "2", "-o", "json")), &res); err != nil {
		t.Fatal(err)
	}
	url := startNode(t, res.Nodes[0].Home)
	k := []string{"--keys", res.KeysDir, "--node", url}

	var cfg configView
	if err := json.Unmarshal([]byte(ok(t, "query", "config", "--node", url, "-o", "json")), &cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.Permissioned || cfg.Mode != "cert" || len(cfg.Orgs) != 2 || cfg.Orgs[0].ID != "org1" || len(cfg.Orgs[0].CAs) != 1 ||
		cfg.Orgs[0].CAs[0].Serial != "1" || cfg.Governance == "" || len(cfg.Revoked) != 0 || len(cfg.Frozen) != 0 {
		t.Fatalf("query config: %+v, want two organisations with a CA each, cert mode, nothing revoked or frozen", cfg)
	}
	var mint string
	for _, p := range cfg.Policies {
		if p.Method == "token.mint" {
			mint = p.Policy
		}
	}
	if mint != "SET(1 of org1; admin)" {
		t.Fatalf("query config: policy of token.mint %q, want org1's admins (policies %+v)", mint, cfg.Policies)
	}

	org2 := filepath.Join(net, "orgs", "org2")
	ok(t, "cert", "issue", "--org", org2, "--name", "shop", "--keys", res.KeysDir)
	list := func() map[string]memberView {
		var ms []memberView
		if err := json.Unmarshal([]byte(ok(t, append([]string{"cert", "list", "--org", "org2", "-o", "json"}, k...)...)), &ms); err != nil {
			t.Fatal(err)
		}
		byName := map[string]memberView{}
		for _, m := range ms {
			if m.Org != "org2" {
				t.Fatalf("cert list --org org2 listed %+v", m)
			}
			byName[m.Name] = m
		}
		return byName
	}
	before := list()
	if m := before["shop"]; m.Serial != "4" || m.Role != "client" || m.Status != "active" || len(before) != 3 {
		t.Fatalf("cert list --org org2: %+v, want admin, client and shop (serial 4, active)", before)
	}
	// OpenSSL prints serial 4 as 04.
	ok(t, append([]string{"cert", "revoke", "--org", org2, "--serial", "04", "--from", "org2-admin"}, k...)...)
	after := list()
	if after["shop"].Status != "revoked" || after[before["shop"].Name].Serial != "4" {
		t.Fatalf("cert list after revoking serial 04: %+v, want shop revoked", after)
	}
	for name, m := range after {
		if name != "shop" && m.Status != "active" {
			t.Fatalf("cert list after revoking shop: %s is %s, want active", name, m.Status)
		}
	}
	if err := json.Unmarshal([]byte(ok(t, "query", "config", "--node", url, "-o", "json")), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Revoked) != 1 || cfg.Revoked[0] != (revokedView{"org2", "4"}) {
		t.Fatalf("query config after the revocation: revoked %+v, want org2 serial 4", cfg.Revoked)
	}
	wantError(t, "bad certificate serial", append([]string{"cert", "revoke", "--org", "org2", "--serial", "zz", "--from", "org2-admin"}, k...)...)
}
