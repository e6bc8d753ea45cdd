package p2p

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"
)

func TestIssueNodeCert(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	caPEM, caKey, err := NewCA("science-city", now, 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := IssueNodeCert(caPEM, caKey, "node1", []string{"127.0.0.1", "localhost"}, now, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{caKey, keyPEM} {
		b, _ := pem.Decode(k)
		if b == nil || b.Type != "PRIVATE KEY" {
			t.Fatalf("key PEM %q, want a PKCS#8 PRIVATE KEY block", k[:min(len(k), 40)])
		}
		key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if ek, ok := key.(*ecdsa.PrivateKey); !ok || ek.Curve.Params().Name != "P-256" {
			t.Fatalf("key %T, want ECDSA P-256", key)
		}
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("certificate and key do not pair: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("no certificate in the CA PEM")
	}
	b, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "node1" {
		t.Fatalf("CommonName %q, want node1", leaf.Subject.CommonName)
	}
	if len(leaf.IPAddresses) != 1 || leaf.IPAddresses[0].String() != "127.0.0.1" || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "localhost" {
		t.Fatalf("SANs %v %v, want 127.0.0.1 and localhost", leaf.IPAddresses, leaf.DNSNames)
	}
	if !leaf.NotAfter.Equal(now.Add(10 * 24 * time.Hour)) {
		t.Fatalf("NotAfter %v, want the CA's expiry %v", leaf.NotAfter, now.Add(10*24*time.Hour))
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		opts := x509.VerifyOptions{Roots: roots, CurrentTime: now.Add(time.Hour), KeyUsages: []x509.ExtKeyUsage{u}}
		if _, err := leaf.Verify(opts); err != nil {
			t.Fatalf("verify for usage %v: %v", u, err)
		}
	}
}

func TestIssueNodeCertRejectsBadCA(t *testing.T) {
	now := time.Now()
	ca1, key1, err := NewCA("one", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, key2, err := NewCA("two", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	node, nodeKey, err := IssueNodeCert(ca1, key1, "n", nil, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name          string
		cert, key     []byte
		id, wantError string
	}{
		{"another CA's key", ca1, key2, "n", "does not belong"},
		{"a node certificate as CA", node, nodeKey, "n", "not a CA"},
		{"no certificate", nil, key1, "n", "no CERTIFICATE"},
		{"no key", ca1, nil, "n", "PRIVATE KEY"},
		{"empty node ID", ca1, key1, "", "empty node ID"},
	} {
		_, _, err := IssueNodeCert(c.cert, c.key, c.id, nil, now, time.Hour)
		if err == nil || !strings.Contains(err.Error(), c.wantError) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.wantError)
		}
	}
}
