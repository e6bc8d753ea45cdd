// Package memberproof defines how an API client proves, over TLS, that it
// is a member of the consortium: the header it sends and the message it
// signs. The signed message covers the TLS session's exported keying
// material (RFC 8446 section 7.5), so a proof is good for one connection
// only and cannot be replayed on another; the certificate may be SM2,
// which TLS itself cannot carry. The package is shared by the node (which
// checks proofs) and the SDK (which makes them); it does no I/O and judges
// no certificate: that is the node's job, against the chain configuration.
package memberproof

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/accord-chain/accord/crypto"
)

const (
	// Header is the HTTP request header that carries a proof.
	Header = "Accord-Member-Proof"
	// Label is the TLS exporter label of the session binding.
	Label = "EXPORTER-accord-api-identity"
	// BindingSize is the length of the exported keying material signed.
	BindingSize = 32
	// domain separates member-proof signatures from every other signature
	// a member key makes.
	domain = "accord api member proof v1\x00"

	// MaxCert and MaxSig bound the decoded parts of a header.
	MaxCert = 4096
	MaxSig  = 512
)

// maxHeader is the longest header Decode reads.
var maxHeader = base64.StdEncoding.EncodedLen(MaxCert) + 1 + base64.StdEncoding.EncodedLen(MaxSig)

// ErrMalformed means a proof header could not be decoded.
var ErrMalformed = errors.New("malformed " + Header + " header")

// Binding returns the session binding of a TLS connection: its exported
// keying material under Label.
func Binding(cs *tls.ConnectionState) ([]byte, error) {
	if cs == nil {
		return nil, errors.New("memberproof: the connection is not TLS: member proofs need https")
	}
	b, err := cs.ExportKeyingMaterial(Label, nil, BindingSize)
	if err != nil {
		return nil, fmt.Errorf("memberproof: no TLS session binding: %w", err)
	}
	return b, nil
}

// Message is what a member signs: the domain, the chain id, a zero byte
// and the session binding.
func Message(chainID string, binding []byte) []byte {
	m := make([]byte, 0, len(domain)+len(chainID)+1+len(binding))
	m = append(m, domain...)
	m = append(m, chainID...)
	m = append(m, 0)
	return append(m, binding...)
}

// Make returns the header value proving that the holder of key, the key
// certDER certifies, is at this end of the TLS connection cs to a node of
// chain chainID.
func Make(key crypto.PrivateKey, certDER []byte, chainID string, cs *tls.ConnectionState) (string, error) {
	if len(certDER) == 0 || len(certDER) > MaxCert {
		return "", fmt.Errorf("memberproof: certificate of %d bytes: want 1 to %d", len(certDER), MaxCert)
	}
	b, err := Binding(cs)
	if err != nil {
		return "", err
	}
	sig, err := key.Sign(Message(chainID, b))
	if err != nil {
		return "", fmt.Errorf("memberproof: signing: %w", err)
	}
	return Encode(certDER, sig), nil
}

// Encode formats a header value: base64(cert) "." base64(sig), standard
// base64 with padding.
func Encode(certDER, sig []byte) string {
	return base64.StdEncoding.EncodeToString(certDER) + "." + base64.StdEncoding.EncodeToString(sig)
}

// Decode parses a header value made by Encode. It refuses anything else:
// other separators or alphabets, empty or oversized parts.
func Decode(h string) (certDER, sig []byte, err error) {
	if len(h) > maxHeader {
		return nil, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(h), maxHeader)
	}
	c, s, ok := strings.Cut(h, ".")
	// Go's base64 skips line breaks even when strict.
	if !ok || strings.ContainsAny(h, "\r\n") {
		return nil, nil, fmt.Errorf("%w: want base64(certificate DER) \".\" base64(signature)", ErrMalformed)
	}
	enc := base64.StdEncoding.Strict()
	if certDER, err = enc.DecodeString(c); err != nil || len(certDER) == 0 || len(certDER) > MaxCert {
		return nil, nil, fmt.Errorf("%w: certificate part: want 1 to %d bytes of standard base64", ErrMalformed, MaxCert)
	}
	if sig, err = enc.DecodeString(s); err != nil || len(sig) == 0 || len(sig) > MaxSig {
		return nil, nil, fmt.Errorf("%w: signature part: want 1 to %d bytes of standard base64", ErrMalformed, MaxSig)
	}
	return certDER, sig, nil
}
