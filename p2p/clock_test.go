package p2p

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
)

// Certificates are judged on the clock the transport is given: the same
// node certificate is accepted now and refused once that clock passes its
// expiry (material issues certificates valid for an hour).
func TestCertificatesJudgedOnTheGivenClock(t *testing.T) {
	m := material(t, "clock-ca", "n1")
	cfg := Config{ID: "n1", Listen: "127.0.0.1:0", TLS: m, Clock: clock.NewFake(time.Now())}
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a fresh certificate refused: %v", err)
	}
	cfg.Clock = clock.NewFake(time.Now().Add(2 * time.Hour))
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "will be refused") {
		t.Fatalf("a certificate expired on the given clock: %v, want a refusal", err)
	}
	peer := material(t, "clock-ca", "n2")
	srv := serverTLS(m, cfg.Clock.Now)
	if err := srv.VerifyConnection(peerState(peer)); err == nil {
		t.Fatal("the server accepted a peer certificate expired on its clock")
	}
	if err := serverTLS(m, time.Now).VerifyConnection(peerState(peer)); err != nil {
		t.Fatalf("the server refused a valid peer certificate: %v", err)
	}
}

// peerState is the TLS state of a connection whose peer presented m's
// certificate chain.
func peerState(m TLS) tls.ConnectionState {
	var certs []*x509.Certificate
	for _, der := range m.Cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		certs = append(certs, c)
	}
	return tls.ConnectionState{PeerCertificates: certs}
}
