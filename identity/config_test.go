package identity

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/crypto"
	idpb "github.com/accord-chain/accord/identity/pb"
	"github.com/accord-chain/accord/types"
)

func sampleConfig(t testing.TB, s crypto.Scheme) Config {
	w := newWorld(t, s, 3)
	cfg := w.config(CertMode)
	extra, err := NewCA("org2", s, t0, 1e12, w.rnd)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Orgs[1].CAs = append(cfg.Orgs[1].CAs, extra.Cert.Raw)
	cfg.Revoked = []Revocation{{Org: "org2", Serial: "ff"}, {Org: "org1", Serial: "1a"}, {Org: "org1", Serial: "2"}}
	cfg.Frozen = []types.Address{{9}, {1}}
	cfg.Governance = Policy{Rule: Set, Orgs: []string{"org3", "org1"}, Threshold: 1, Roles: []Role{Client, Admin}}
	cfg.Methods = []MethodPolicy{
		{Method: "token.mint", Policy: Policy{Rule: Set, Orgs: []string{"org1"}}},
		{Method: "land.*", Policy: Policy{Rule: Any, Roles: []Role{Client}}},
	}
	return cfg
}

func TestConfigEncoding(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			cfg := sampleConfig(t, s)
			b, err := cfg.Encode()
			if err != nil {
				t.Fatal(err)
			}
			// The same content in another order encodes the same.
			shuffled := cfg
			shuffled.Orgs = slices.Clone(cfg.Orgs)
			slices.Reverse(shuffled.Orgs)
			shuffled.Revoked = slices.Clone(cfg.Revoked)
			slices.Reverse(shuffled.Revoked)
			b2, err := shuffled.Encode()
			if err != nil || !bytes.Equal(b, b2) {
				t.Fatalf("reordered config encodes differently: %v", err)
			}
			got, err := DecodeConfig(b)
			if err != nil {
				t.Fatal(err)
			}
			b3, _ := got.Encode()
			if !bytes.Equal(b, b3) {
				t.Fatal("Encode(DecodeConfig(b)) != b")
			}
			if got.Revoked[0] != (Revocation{Org: "org1", Serial: "2"}) || got.Revoked[1].Serial != "1a" {
				t.Errorf("revocations not in (org, numeric serial) order: %v", got.Revoked)
			}
			if _, err := NewRegistry(got, crypto.SM3, nil); err != nil {
				t.Fatalf("NewRegistry(decoded): %v", err)
			}
			var m idpb.Config
			if err := proto.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			reencode := func(change func(*idpb.Config)) []byte {
				c := proto.Clone(&m).(*idpb.Config)
				change(c)
				return types.EncodeCanonical(c)
			}
			for name, tc := range map[string]struct {
				b    []byte
				want string
			}{
				"empty":     {nil, "version 0"},
				"version":   {reencode(func(c *idpb.Config) { c.Version = 9 }), "version 9, this node knows 2"},
				"trailing":  {append(slices.Clone(b), 0), "not a valid Config"},
				"truncated": {b[:len(b)-1], "not a valid Config"},
				"unknown":   {protowire.AppendVarint(protowire.AppendTag(slices.Clone(b), 99, protowire.VarintType), 1), "fields this node does not know"},
				"nested unknown": {reencode(func(c *idpb.Config) {
					c.Orgs[0].ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 1))
				}), "fields this node does not know"},
				// Two revocations out of order: not canonical.
				"unsorted":            {reencode(func(c *idpb.Config) { c.Revoked[0], c.Revoked[1] = c.Revoked[1], c.Revoked[0] }), "not canonical"},
				"hand-made version 1": {append([]byte{1, byte(CertMode)}, b[2:]...), "not a valid Config"},
			} {
				_, err := DecodeConfig(tc.b)
				if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: DecodeConfig = %v, want ErrBadConfig saying %q", name, err, tc.want)
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	w := newWorld(t, crypto.SM2, 2)
	p256 := newWorld(t, crypto.P256, 1)
	member := w.issue("org1", "alice", Admin)
	cases := map[string]func(*Config){
		"no mode":            func(c *Config) { c.Mode = 0 },
		"no orgs":            func(c *Config) { c.Orgs = nil },
		"bad org id":         func(c *Config) { c.Orgs[0].ID = "org 1" },
		"org twice":          func(c *Config) { c.Orgs[1].ID = "org1" },
		"ed25519 org":        func(c *Config) { c.Orgs[0].Scheme = crypto.Ed25519 },
		"no CA in cert mode": func(c *Config) { c.Orgs[0].CAs = nil },
		"CA of other org":    func(c *Config) { c.Orgs[0].CAs = c.Orgs[1].CAs },
		"CA of other scheme": func(c *Config) { c.Orgs[0].CAs = [][]byte{p256.cas["org1"].Cert.Raw} },
		"member cert as CA":  func(c *Config) { c.Orgs[0].CAs = [][]byte{member.der} },
		"CA twice":           func(c *Config) { c.Orgs[0].CAs = append(c.Orgs[0].CAs, c.Orgs[0].CAs[0]) },
		"revoked unknown org": func(c *Config) {
			c.Revoked = []Revocation{{Org: "org9", Serial: "1"}}
		},
		"revoked bad serial": func(c *Config) { c.Revoked = []Revocation{{Org: "org1", Serial: "01"}} },
		"revoked twice": func(c *Config) {
			c.Revoked = []Revocation{{Org: "org1", Serial: "1"}, {Org: "org1", Serial: "1"}}
		},
		"frozen twice":    func(c *Config) { c.Frozen = []types.Address{{1}, {1}} },
		"zero governance": func(c *Config) { c.Governance = Policy{} },
		"bad method":      func(c *Config) { c.Methods = []MethodPolicy{{Method: "mint", Policy: Policy{Rule: Any}}} },
		"method twice": func(c *Config) {
			c.Methods = []MethodPolicy{{Method: "a.b", Policy: Policy{Rule: Any}}, {Method: "a.b", Policy: Policy{Rule: All}}}
		},
		"method policy unknown org": func(c *Config) {
			c.Methods = []MethodPolicy{{Method: "a.b", Policy: Policy{Rule: Set, Orgs: []string{"org7"}}}}
		},
	}
	for name, mod := range cases {
		cfg := w.config(CertMode)
		mod(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: Validate = %v, want ErrBadConfig", name, err)
		}
		if _, err := cfg.Encode(); err == nil {
			t.Errorf("%s: Encode succeeded", name)
		}
	}
	cfg := w.config(CertMode)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}
