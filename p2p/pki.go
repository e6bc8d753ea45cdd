package p2p

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Certificate helpers for `accord init`: one network CA and one certificate
// per node, ECDSA P-256, keys as PKCS#8 PEM. They are deliberately small so
// that per-organisation CAs and SM2 certificates can replace them.

// backdate is how long before now a certificate becomes valid, so that
// nodes whose clocks run a little behind the issuer's accept it at once.
const backdate = 5 * time.Minute

// NewCA creates a self-signed network CA named name, valid from now for
// validity.
func NewCA(name string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if name == "" {
		return nil, nil, errors.New("p2p: NewCA: empty CA name")
	}
	if validity <= 0 {
		return nil, nil, fmt.Errorf("p2p: NewCA: validity %v must be positive", validity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{name}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("p2p: NewCA: %w", err)
	}
	return encodePair(der, key)
}

// IssueNodeCert issues node nodeID's certificate, signed by the CA, valid
// from now for validity but never past the CA's own expiry. nodeID becomes
// the CommonName; hosts (IP addresses or DNS names, such as 127.0.0.1 and
// localhost) become its subject alternative names. The certificate serves
// both ends of a connection.
func IssueNodeCert(caCertPEM, caKeyPEM []byte, nodeID string, hosts []string, now time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	if nodeID == "" {
		return nil, nil, errors.New("p2p: IssueNodeCert: empty node ID")
	}
	if validity <= 0 {
		return nil, nil, fmt.Errorf("p2p: IssueNodeCert: validity %v must be positive", validity)
	}
	ca, caKey, err := parseCA(caCertPEM, caKeyPEM)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: nodeID, Organization: ca.Subject.Organization},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("p2p: IssueNodeCert %q: %w", nodeID, err)
	}
	return encodePair(der, key)
}

func parseCA(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, errors.New("p2p: no CERTIFICATE block in the CA certificate PEM")
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("p2p: CA certificate: %w", err)
	}
	if !ca.IsCA {
		return nil, nil, errors.New("p2p: the CA certificate is not a CA: pass the network CA's certificate")
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "PRIVATE KEY" {
		return nil, nil, errors.New("p2p: no PKCS#8 PRIVATE KEY block in the CA key PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("p2p: CA key: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("p2p: CA key is %T, want an ECDSA key", k)
	}
	if !key.PublicKey.Equal(ca.PublicKey) {
		return nil, nil, errors.New("p2p: the CA key does not belong to the CA certificate")
	}
	return ca, key, nil
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func encodePair(der []byte, key *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}), nil
}
