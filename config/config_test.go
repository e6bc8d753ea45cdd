package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigRejectsUnknownFieldsAndBadValues(t *testing.T) {
	home := t.TempDir()
	for _, body := range []string{
		`{"api":"127.0.0.1:1","consensus":"solo","blok_interval":"1s"}`,
		`{"api":"127.0.0.1:1","consensus":"pbft"}`,
		`{"api":"127.0.0.1:1","solo":{"block_interval":"soon"}}`,
		`{"api":"127.0.0.1:1","solo":{"block_interval":"1h"}}`,
		`{"api":"127.0.0.1:1","pool":{"max_txs":-1}}`,
	} {
		if err := os.WriteFile(filepath.Join(home, File), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(home); err == nil {
			t.Errorf("config %s accepted", body)
		}
	}
}

// FuzzParseConfig: any bytes give a config that validates, or an error;
// never a panic.
func FuzzParseConfig(f *testing.F) {
	b, _ := json.Marshal(Default())
	f.Add(b)
	f.Add([]byte(`{"api":"127.0.0.1:1","solo":{"block_interval":"5ms","max_block_txs":3}}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil && c.Validate() != nil {
			t.Fatal("Parse returned an invalid config without an error")
		}
	})
}

func TestAPITLSConfigValidation(t *testing.T) {
	for _, c := range []string{
		`{"api_tls":{"client_auth":"everyone"}}`,
		`{"api_tls":{"cert":"a.pem"}}`,
		`{"api_tls":{"ca":"a.pem"}}`,
	} {
		if _, err := Parse([]byte(c)); err == nil {
			t.Errorf("Parse(%s) accepted it", c)
		}
	}
	c, err := Parse([]byte(`{"api_tls":{"client_auth":"member"}}`))
	if err != nil || c.APITLS.ClientAuth != ClientAuthMember {
		t.Fatalf("api_tls with client_auth member: %+v, %v", c.APITLS, err)
	}
}

func TestConfigBFT(t *testing.T) {
	peers := `"peers":[{"id":1,"node_id":"a","p2p":"127.0.0.1:1","api":"127.0.0.1:2","pub_key":"00ff"},` +
		`{"id":2,"node_id":"b","p2p":"127.0.0.1:3","api":"127.0.0.1:4","pub_key":"11ee"}]`
	good := `{"api":"127.0.0.1:7070","consensus":"bft","raft":{"id":1,` + peers + `},"bft":{"tick_interval":"50ms","round_ticks":12}}`
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.BFT.RoundTicks != 12 || c.P2P.Listen != "127.0.0.1:1" || !c.Networked() {
		t.Fatalf("parsed %+v", c)
	}
	// A validator added later lists the genesis validators, without itself.
	joining := strings.Replace(good, `"raft":{"id":1,`, `"p2p":{"listen":"127.0.0.1:9"},"raft":{"id":3,"join":true,`, 1)
	if c, err := Parse([]byte(joining)); err != nil || !c.Raft.Join {
		t.Errorf("a joining bft node: %+v, %v", c, err)
	}
	for name, tc := range map[string]struct{ cfg, want string }{
		"no key":       {strings.Replace(good, `"pub_key":"11ee"`, `"pub_key":""`, 1), "pub_key"},
		"bad key":      {strings.Replace(good, `"pub_key":"11ee"`, `"pub_key":"xyz"`, 1), "pub_key"},
		"bad tick":     {strings.Replace(good, `"50ms"`, `"50"`, 1), "bft.tick_interval"},
		"bad ticks":    {strings.Replace(good, `"round_ticks":12`, `"round_ticks":-1`, 1), "round_ticks"},
		"no raft":      {`{"consensus":"bft"}`, "raft.id"},
		"unknown kind": {strings.Replace(good, `"bft",`, `"pbft",`, 1), "solo, raft or bft"},
	} {
		if _, err := Parse([]byte(tc.cfg)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, tc.want)
		}
	}
}
