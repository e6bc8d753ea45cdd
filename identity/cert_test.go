package identity

import (
	"bytes"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

func TestRoleNames(t *testing.T) {
	for r := Admin; r <= Light; r++ {
		got, err := ParseRole(strings.ToUpper(r.String()))
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v; want %v", r.String(), got, err, r)
		}
	}
	if _, err := ParseRole("root"); !errors.Is(err, ErrBadRole) {
		t.Errorf("ParseRole(root) = %v, want ErrBadRole", err)
	}
	if Role(9).Valid() || Role(0).Valid() {
		t.Error("roles 0 and 9 must not be valid")
	}
}

func TestIssueAndParse(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			w := newWorld(t, s, 1)
			ca := w.cas["org1"].Cert
			if !ca.IsCA || ca.Org != "org1" || ca.Unit != CAUnit || ca.Scheme != s || ca.Serial != "1" {
				t.Fatalf("CA cert = %+v", ca)
			}
			if ca.NotBefore != ms(t0) {
				t.Errorf("CA NotBefore = %d, want %d", ca.NotBefore, ms(t0))
			}
			for _, ks := range []crypto.Scheme{s, crypto.Ed25519} {
				m := w.issueAt("org1", "alice", Client, ks, t0, t0.Add(time.Hour))
				c, err := ParseCert(m.der)
				if err != nil {
					t.Fatalf("ParseCert: %v", err)
				}
				want := &Cert{Org: "org1", Unit: "client", Role: Client, Name: "alice", Serial: m.serial,
					NotBefore: ms(t0), NotAfter: ms(t0.Add(time.Hour)), Scheme: ks, PublicKey: m.key.Public().Bytes()}
				if c.Org != want.Org || c.Unit != want.Unit || c.Role != want.Role || c.Name != want.Name ||
					c.Serial != want.Serial || c.NotBefore != want.NotBefore || c.NotAfter != want.NotAfter ||
					c.Scheme != want.Scheme || !bytes.Equal(c.PublicKey, want.PublicKey) || c.IsCA {
					t.Fatalf("parsed %+v\nwant   %+v", c, want)
				}
				if err := c.signedBy(ca); err != nil {
					t.Fatalf("signedBy(own CA): %v", err)
				}
				if c.Address() != types.AddressOf(ks, m.key.Public().Bytes()) {
					t.Error("address is not derived from the certified key")
				}
				p, err := ParseCertPEM(c.PEM())
				if err != nil || !bytes.Equal(p.Raw, m.der) {
					t.Fatalf("PEM round trip: %v", err)
				}
			}
			other := crypto.P256
			if s == crypto.P256 {
				other = crypto.SM2
			}
			k := w.key(other)
			if _, err := w.cas["org1"].Issue("bob", Client, k.Public(), t0, t0.Add(time.Hour), big.NewInt(5), nil); !errors.Is(err, ErrBadKey) {
				t.Errorf("a %s CA issuing for a %s key: %v, want ErrBadKey", s, other, err)
			}
			for _, bad := range []struct {
				name   string
				role   Role
				serial *big.Int
				na     time.Time
			}{
				{"", Client, big.NewInt(1), t0.Add(time.Hour)},
				{"x", 0, big.NewInt(1), t0.Add(time.Hour)},
				{"x", Client, big.NewInt(0), t0.Add(time.Hour)},
				{"x", Client, new(big.Int).Lsh(big.NewInt(1), 200), t0.Add(time.Hour)},
				{"x", Client, big.NewInt(1), t0},
			} {
				if _, err := w.cas["org1"].Issue(bad.name, bad.role, w.key(s).Public(), t0, bad.na, bad.serial, nil); err == nil {
					t.Errorf("Issue(%q, %v, %v, %v) succeeded", bad.name, bad.role, bad.serial, bad.na)
				}
			}
		})
	}
}

func TestKeyPEM(t *testing.T) {
	w := newWorld(t, crypto.SM2, 1)
	for _, s := range []crypto.Scheme{crypto.SM2, crypto.P256, crypto.Ed25519} {
		k := w.key(s)
		p, err := KeyPEM(k)
		if err != nil {
			t.Fatalf("KeyPEM(%s): %v", s, err)
		}
		back, err := ParseKeyPEM(p)
		if err != nil || back.Scheme() != s || !bytes.Equal(back.Bytes(), k.Bytes()) {
			t.Fatalf("ParseKeyPEM(%s) = %v, %v", s, back, err)
		}
	}
	for _, s := range caSchemes {
		ca := newWorld(t, s, 1).cas["org1"]
		kp, _ := KeyPEM(ca.Key)
		got, err := LoadCA(ca.Cert.PEM(), kp)
		if err != nil || !bytes.Equal(got.Key.Bytes(), ca.Key.Bytes()) {
			t.Fatalf("LoadCA(%s): %v", s, err)
		}
		wrong, _ := KeyPEM(w.key(s))
		if _, err := LoadCA(ca.Cert.PEM(), wrong); !errors.Is(err, ErrBadKey) {
			t.Errorf("LoadCA with another key: %v, want ErrBadKey", err)
		}
		// The CA can issue after a round trip through PEM.
		if _, err := got.Issue("n", Admin, w.key(s).Public(), t0, t0.Add(time.Hour), big.NewInt(9), nil); err != nil {
			t.Errorf("Issue after LoadCA: %v", err)
		}
	}
	if _, err := ParseKeyPEM([]byte("junk")); !errors.Is(err, ErrBadKey) {
		t.Errorf("ParseKeyPEM(junk) = %v", err)
	}
}

func TestParseCertRejects(t *testing.T) {
	w := newWorld(t, crypto.P256, 1)
	ca := w.cas["org1"]
	s, err := newSigner(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := stdPublic(crypto.P256, w.key(crypto.P256).Public().Bytes())
	make1 := func(mod func(*x509.Certificate)) []byte {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(7), Subject: subject("org1", "client", "carol"),
			NotBefore: t0, NotAfter: t0.Add(time.Hour), BasicConstraintsValid: true,
		}
		mod(tmpl)
		der, err := smx509.CreateCertificate(nil, tmpl, ca.Cert.x.ToX509(), pub, s)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	cases := map[string][]byte{
		"too large":     make([]byte, MaxCertSize+1),
		"garbage":       []byte("not a certificate"),
		"no OU":         make1(func(c *x509.Certificate) { c.Subject.OrganizationalUnit = nil }),
		"two O":         make1(func(c *x509.Certificate) { c.Subject.Organization = []string{"org1", "org2"} }),
		"OU not a role": make1(func(c *x509.Certificate) { c.Subject.OrganizationalUnit = []string{"root"} }),
		"bad org id":    make1(func(c *x509.Certificate) { c.Subject.Organization = []string{"org 1"} }),
		"no CN":         make1(func(c *x509.Certificate) { c.Subject.CommonName = "" }),
		"huge serial":   make1(func(c *x509.Certificate) { c.SerialNumber = new(big.Int).Lsh(big.NewInt(1), 180) }),
		"CA not OU ca":  make1(func(c *x509.Certificate) { c.IsCA = true }),
	}
	for name, der := range cases {
		if _, err := ParseCert(der); !errors.Is(err, ErrBadCert) {
			t.Errorf("%s: ParseCert = %v, want ErrBadCert", name, err)
		}
	}
}

// A P-256 CA signature with S replaced by n-S still verifies under plain
// ECDSA; the crypto package's low-S rule must reject it, so that one
// certificate has one encoding that the chain accepts.
func TestHighSCertRejected(t *testing.T) {
	w := newWorld(t, crypto.P256, 1)
	m := w.issue("org1", "alice", Client)
	var outer struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(m.der, &outer); err != nil {
		t.Fatal(err)
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(outer.Sig.Bytes, &rs); err != nil {
		t.Fatal(err)
	}
	rs.S.Sub(elliptic.P256().Params().N, rs.S)
	sig, _ := asn1.Marshal(rs)
	outer.Sig = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	der, err := asn1.Marshal(outer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCert(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.x.CheckSignatureFrom(w.cas["org1"].Cert.x); err != nil {
		t.Fatalf("plain x509 should accept high S: %v", err)
	}
	r := w.registry(CertMode, nil)
	if _, err := r.VerifyCert(m.der, ms(t0)); err != nil {
		t.Fatalf("original: %v", err)
	}
	if _, err := r.VerifyCert(der, ms(t0)); !errors.Is(err, ErrUnknownCA) {
		t.Fatalf("high-S copy: %v, want ErrUnknownCA", err)
	}
}
