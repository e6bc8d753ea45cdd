package p2p

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// ErrPeerCert means a peer's certificate was refused: it does not chain to
// the network CA, has expired, or names another node than the one dialled.
var ErrPeerCert = errors.New("peer certificate refused")

// LoadTLS builds a node's TLS material from PEM: the network CA
// certificate(s), the node's certificate (optionally followed by its
// chain) and its private key.
func LoadTLS(caPEM, certPEM, keyPEM []byte) (TLS, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return TLS{}, errors.New("p2p: no CA certificate in the CA PEM: pass the network CA's certificate")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return TLS{}, fmt.Errorf("p2p: node certificate and key: %w", err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return TLS{}, fmt.Errorf("p2p: node certificate: %w", err)
		}
	}
	return TLS{CAs: pool, Cert: cert}, nil
}

// verifyChain checks leaf against the CA pool at now, for usage, and
// returns its node ID.
func verifyChain(cas *x509.CertPool, leaf *x509.Certificate, rawIntermediates [][]byte, usage x509.ExtKeyUsage, now time.Time) (string, error) {
	inter := x509.NewCertPool()
	for _, raw := range rawIntermediates {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return "", fmt.Errorf("%w: intermediate certificate: %v", ErrPeerCert, err)
		}
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         cas,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{usage},
	})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrPeerCert, err)
	}
	id := leaf.Subject.CommonName
	if id == "" {
		return "", fmt.Errorf("%w: no CommonName, so no node ID", ErrPeerCert)
	}
	return id, nil
}

// verifyPeer checks the certificates a peer presented: a client's for
// ExtKeyUsageClientAuth, a server's for ExtKeyUsageServerAuth. want, if not
// empty, is the node ID that was dialled.
func verifyPeer(cas *x509.CertPool, certs []*x509.Certificate, usage x509.ExtKeyUsage, want string, now time.Time) (string, error) {
	if len(certs) == 0 {
		return "", fmt.Errorf("%w: no certificate presented", ErrPeerCert)
	}
	raw := make([][]byte, 0, len(certs)-1)
	for _, c := range certs[1:] {
		raw = append(raw, c.Raw)
	}
	id, err := verifyChain(cas, certs[0], raw, usage, now)
	if err != nil {
		return "", err
	}
	if want != "" && id != want {
		return "", fmt.Errorf("%w: dialled node %q but the certificate is for %q: check the peer's address", ErrPeerCert, want, id)
	}
	return id, nil
}

// serverTLS accepts any node the CA vouches for.
func serverTLS(m TLS, now func() time.Time) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{m.Cert},
		// The chain is checked in VerifyConnection, the same way on both
		// ends, so that a refusal reads the same wherever it happens.
		ClientAuth: tls.RequireAnyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := verifyPeer(m.CAs, cs.PeerCertificates, x509.ExtKeyUsageClientAuth, "", now())
			return err
		},
	}
}

// clientTLS accepts only the node named id.
func clientTLS(m TLS, id string, now func() time.Time) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{m.Cert},
		// Host names are not the identity (see the package comment): the
		// standard check is replaced by the chain and CommonName check.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := verifyPeer(m.CAs, cs.PeerCertificates, x509.ExtKeyUsageServerAuth, id, now())
			return err
		},
	}
}
