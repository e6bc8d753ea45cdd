package identity

import (
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

func TestVerifyCert(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			w := newWorld(t, s, 2)
			nb, na := t0.Add(time.Hour), t0.Add(2*time.Hour)
			alice := w.issueAt("org1", "alice", Client, s, nb, na)
			ed := w.issueAt("org1", "ed", Admin, crypto.Ed25519, nb, na)
			revoked := w.issueAt("org1", "mallory", Client, s, nb, na)

			// A CA for org1 that the configuration does not list.
			rogue, err := NewCA("org1", s, t0, time.Hour*24, w.rnd)
			if err != nil {
				t.Fatal(err)
			}
			rk := w.key(s)
			rogueDER, _ := rogue.Issue("eve", Admin, rk.Public(), nb, na, big.NewInt(1000), nil)
			// org2's CA signing a certificate that claims org1.
			claim := crossSigned(t, w.cas["org2"], "org1", w.key(s))
			// A certificate of an organisation the chain does not know.
			w3 := newWorld(t, s, 3)
			stranger := w3.issueAt("org3", "zed", Client, s, nb, na)

			cfg := w.config(CertMode)
			cfg.Revoked = []Revocation{{Org: "org1", Serial: revoked.serial}}
			r, err := NewRegistry(cfg, crypto.SM3, NewCache(64))
			if err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name string
				der  []byte
				at   time.Time
				want error
			}{
				{"valid at notBefore", alice.der, nb, nil},
				{"valid at notAfter", alice.der, na, nil},
				{"ed25519 member", ed.der, nb, nil},
				{"1 ms before notBefore", alice.der, nb.Add(-time.Millisecond), ErrExpired},
				{"1 ms after notAfter", alice.der, na.Add(time.Millisecond), ErrExpired},
				{"revoked", revoked.der, nb, ErrRevoked},
				{"unlisted CA of the org", rogueDER, nb, ErrUnknownCA},
				{"other org's CA claiming the org", claim, nb, ErrUnknownCA},
				{"unknown org", stranger.der, nb, ErrUnknownOrg},
				{"CA certificate", w.cas["org1"].Cert.Raw, nb, ErrWrongRole},
				{"garbage", []byte{0x30, 0x03, 1, 2, 3}, nb, ErrBadCert},
			}
			for _, c := range cases {
				m, err := r.VerifyCert(c.der, ms(c.at))
				if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
					t.Errorf("%s: VerifyCert = %v, want %v", c.name, err, c.want)
					continue
				}
				if err != nil && strings.Contains(c.name, "revoked") && !strings.Contains(err.Error(), revoked.serial) {
					t.Errorf("%s: error %q does not name the serial", c.name, err)
				}
				if err == nil && (m.Org != "org1" || m.CertHash != types.Hash(crypto.SM3.Sum(c.der))) {
					t.Errorf("%s: member %+v", c.name, m)
				}
			}
			// The second pass is served from the cache and gives the same
			// verdicts.
			n := r.cache.Len()
			for _, c := range cases {
				if _, err := r.VerifyCert(c.der, ms(c.at)); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
					t.Errorf("%s (cached): VerifyCert = %v, want %v", c.name, err, c.want)
				}
			}
			if r.cache.Len() != n || n != 3 {
				t.Errorf("cache holds %d then %d certificates, want 3 (alice, ed, revoked)", n, r.cache.Len())
			}
		})
	}
}

// crossSigned makes ca sign a certificate that claims org.
func crossSigned(t *testing.T, ca *CA, org string, k crypto.PrivateKey) []byte {
	t.Helper()
	s, err := newSigner(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := stdPublic(k.Scheme(), k.Public().Bytes())
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: subject(org, "admin", "imposter"),
		NotBefore: t0, NotAfter: t0.Add(48 * time.Hour), BasicConstraintsValid: true}
	der, err := smx509.CreateCertificate(nil, tmpl, ca.Cert.x.ToX509(), pub, s)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestCAExpiryAndRemoval(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			w := newWorld(t, s, 1)
			short, err := NewCA("org1", s, t0, time.Hour, w.rnd)
			if err != nil {
				t.Fatal(err)
			}
			k := w.key(s)
			der, _ := short.Issue("a", Client, k.Public(), t0, t0.Add(24*time.Hour), big.NewInt(3), nil)
			cfg := w.config(CertMode)
			cfg.Orgs[0].CAs = append(cfg.Orgs[0].CAs, short.Cert.Raw)
			cache := NewCache(16)
			r, err := NewRegistry(cfg, crypto.SHA256, cache)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.VerifyCert(der, ms(t0.Add(time.Hour))); err != nil {
				t.Fatalf("at the CA's last moment: %v", err)
			}
			if _, err := r.VerifyCert(der, ms(t0.Add(time.Hour+time.Millisecond))); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "CA certificate") {
				t.Fatalf("after the CA expired: %v, want ErrExpired naming the CA", err)
			}
			// Rotating the CA out makes its certificates unknown, even cached.
			cfg.Orgs[0].CAs = cfg.Orgs[0].CAs[:1]
			if err := r.SetConfig(cfg); err != nil {
				t.Fatal(err)
			}
			if _, err := r.VerifyCert(der, ms(t0)); !errors.Is(err, ErrUnknownCA) {
				t.Fatalf("after removing the CA: %v, want ErrUnknownCA", err)
			}
			r2, _ := NewRegistry(cfg, crypto.SHA256, cache)
			if _, err := r2.VerifyCert(der, ms(t0)); !errors.Is(err, ErrUnknownCA) {
				t.Fatalf("new registry sharing the cache: %v, want ErrUnknownCA", err)
			}
		})
	}
}

func TestCertModeRefs(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			w := newWorld(t, s, 2)
			r := w.registry(CertMode, nil)
			alice := w.issue("org1", "alice", Client)
			light := w.issue("org2", "lamp", Light)
			at := ms(t0.Add(time.Minute))
			h := types.Hash(crypto.SM3.Sum(alice.der))

			if _, err := r.Resolve(Ref{CertHash: h}, at); !errors.Is(err, ErrUnknownMember) {
				t.Fatalf("unregistered hash: %v, want ErrUnknownMember", err)
			}
			m, err := r.RegisterCert(alice.der, at)
			if err != nil || m.CertHash != h {
				t.Fatalf("RegisterCert: %+v, %v", m, err)
			}
			for _, ref := range []Ref{{CertHash: h}, alice.ref()} {
				got, err := r.Sender(ref, at)
				if err != nil || got.Name != "alice" || got.Role != Client || got.Address != types.AddressOf(s, alice.key.Public().Bytes()) {
					t.Fatalf("Sender(%v) = %+v, %v", ref, got, err)
				}
			}
			bad := []struct {
				name string
				ref  Ref
				want error
			}{
				{"key in cert mode", Ref{Scheme: s, PublicKey: alice.key.Public().Bytes()}, ErrWrongMode},
				{"two forms", Ref{Cert: alice.der, CertHash: h}, ErrUnknownMember},
				{"no form", Ref{}, ErrUnknownMember},
				{"light sender", light.ref(), ErrWrongRole},
			}
			for _, c := range bad {
				if _, err := r.Sender(c.ref, at); !errors.Is(err, c.want) {
					t.Errorf("%s: Sender = %v, want %v", c.name, err, c.want)
				}
			}
			if _, err := r.Resolve(Ref{CertHash: h}, ms(t0.Add(25*time.Hour))); !errors.Is(err, ErrExpired) {
				t.Errorf("registered certificate after expiry: %v, want ErrExpired", err)
			}
			r.SetFrozen(m.Address, true)
			if _, err := r.Sender(Ref{CertHash: h}, at); !errors.Is(err, ErrFrozen) {
				t.Errorf("frozen sender: %v, want ErrFrozen", err)
			}
			if _, err := r.Resolve(Ref{CertHash: h}, at); err != nil {
				t.Errorf("a frozen member still resolves: %v", err)
			}
			r.SetFrozen(m.Address, false)
			if _, err := r.Sender(Ref{CertHash: h}, at); err != nil {
				t.Errorf("unfrozen sender: %v", err)
			}
			if err := r.Revoke("org1", alice.serial); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Sender(Ref{CertHash: h}, at); !errors.Is(err, ErrRevoked) {
				t.Errorf("revoked registered certificate: %v, want ErrRevoked", err)
			}
			if got := r.Config().Revoked; len(got) != 1 || got[0].Serial != alice.serial {
				t.Errorf("Config().Revoked = %v", got)
			}
		})
	}
}

func TestKeyMode(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			w := newWorld(t, s, 2)
			cfg := w.config(KeyMode)
			cfg.Orgs[1].CAs = nil // key mode needs no CA
			r, err := NewRegistry(cfg, crypto.SHA256, nil)
			if err != nil {
				t.Fatal(err)
			}
			k := w.key(crypto.Ed25519)
			key := Key{Org: "org2", Role: Client, Name: "shop", Scheme: crypto.Ed25519, PublicKey: k.Public().Bytes()}
			ref := Ref{Scheme: crypto.Ed25519, PublicKey: key.PublicKey}
			if _, err := r.Sender(ref, 0); !errors.Is(err, ErrUnknownMember) {
				t.Fatalf("unregistered key: %v", err)
			}
			if _, err := r.RegisterKey(key); err != nil {
				t.Fatal(err)
			}
			if _, err := r.RegisterKey(key); !errors.Is(err, ErrBadKey) {
				t.Errorf("registering twice: %v, want ErrBadKey", err)
			}
			m, err := r.Sender(ref, 0)
			if err != nil || m.Org != "org2" || m.Role != Client {
				t.Fatalf("Sender = %+v, %v", m, err)
			}
			back, err := DecodeKey(key.Encode())
			if err != nil || back.Name != key.Name || string(back.PublicKey) != string(key.PublicKey) {
				t.Fatalf("DecodeKey(Encode) = %+v, %v", back, err)
			}
			other := crypto.P256
			if s == crypto.P256 {
				other = crypto.SM2
			}
			badKeys := map[string]Key{
				"unknown org":  {Org: "org9", Role: Client, Name: "x", Scheme: s, PublicKey: w.key(s).Public().Bytes()},
				"bad role":     {Org: "org1", Role: 7, Name: "x", Scheme: s, PublicKey: w.key(s).Public().Bytes()},
				"other scheme": {Org: "org1", Role: Client, Name: "x", Scheme: other, PublicKey: w.key(other).Public().Bytes()},
				"bad point":    {Org: "org1", Role: Client, Name: "x", Scheme: s, PublicKey: make([]byte, 33)},
			}
			for name, k := range badKeys {
				if _, err := r.RegisterKey(k); err == nil {
					t.Errorf("%s: RegisterKey succeeded", name)
				}
			}
			alice := w.issue("org1", "alice", Client)
			if _, err := r.Sender(alice.ref(), 0); !errors.Is(err, ErrWrongMode) {
				t.Errorf("certificate in key mode: %v, want ErrWrongMode", err)
			}
			if _, err := r.RegisterCert(alice.der, ms(t0)); !errors.Is(err, ErrWrongMode) {
				t.Errorf("RegisterCert in key mode: %v, want ErrWrongMode", err)
			}
			if !r.RemoveKey(m.Address) {
				t.Fatal("RemoveKey found nothing")
			}
			if _, err := r.Sender(ref, 0); !errors.Is(err, ErrUnknownMember) {
				t.Errorf("removed key: %v, want ErrUnknownMember", err)
			}
			cfg.Mode = CertMode
			if err := r.SetConfig(cfg); !errors.Is(err, ErrBadConfig) {
				t.Errorf("changing the mode: %v, want ErrBadConfig", err)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			w := newWorld(t, s, 3)
			cfg := w.config(CertMode)
			cfg.Methods = []MethodPolicy{
				{Method: "token.mint", Policy: Policy{Rule: Set, Orgs: []string{"org1"}}},
				{Method: "token.*", Policy: Policy{Rule: Any, Roles: []Role{Client, Admin}}},
				{Method: "chain.upgrade", Policy: Policy{Rule: Majority}},
			}
			r, err := NewRegistry(cfg, crypto.SM3, nil)
			if err != nil {
				t.Fatal(err)
			}
			at := ms(t0)
			get := func(org, name string, role Role) Member {
				m, err := r.Resolve(w.issue(org, name, role).ref(), at)
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			admin1, admin2 := get("org1", "a1", Admin), get("org2", "a2", Admin)
			client1, node1 := get("org1", "c1", Client), get("org1", "n1", Consensus)
			cases := []struct {
				m      Member
				method string
				want   error
			}{
				{admin1, "token.mint", nil},
				{admin2, "token.mint", ErrPolicy},
				{client1, "token.mint", ErrWrongRole},
				{client1, "token.transfer", nil},
				{node1, "token.transfer", ErrWrongRole},
				{client1, "kv.put", nil},
				{node1, "kv.put", ErrWrongRole},
				{admin1, "chain.upgrade", ErrPolicy},
			}
			for _, c := range cases {
				err := r.Authorize(c.m, c.method)
				if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
					t.Errorf("%s calls %s: %v, want %v", &c.m, c.method, err, c.want)
				}
			}
			if err := AdminOf(admin1, "org1"); err != nil {
				t.Error(err)
			}
			if err := AdminOf(admin1, "org2"); !errors.Is(err, ErrWrongRole) {
				t.Errorf("AdminOf(other org) = %v", err)
			}
			if err := AdminOf(client1, "org1"); !errors.Is(err, ErrWrongRole) {
				t.Errorf("AdminOf(client) = %v", err)
			}
		})
	}
}
