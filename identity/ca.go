package identity

import (
	"bytes"
	stdcrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm2/sm2ec"
	"github.com/emmansun/gmsm/smx509"

	"github.com/accord-chain/accord/crypto"
)

// CA is an organisation's certificate authority: its self-signed
// certificate and private key. It issues member certificates; the chain
// trusts it when the configuration lists its certificate for the
// organisation.
type CA struct {
	Cert *Cert
	Key  crypto.PrivateKey
}

// NewCA makes a CA for org with a fresh key of scheme (crypto.SM2 or
// crypto.P256) read from rnd (crypto/rand if nil), valid from now for
// validity. The CA certificate has serial 1 and may sign member
// certificates only (path length zero). A deterministic rnd gives a
// deterministic key; the certificate's signature is randomised anyway.
func NewCA(org string, scheme crypto.Scheme, now time.Time, validity time.Duration, rnd io.Reader) (*CA, error) {
	if !ValidOrgID(org) {
		return nil, fmt.Errorf("%w: organisation id %q: use 1 to 64 letters, digits, '.', '_' or '-'", ErrBadConfig, org)
	}
	if scheme != crypto.SM2 && scheme != crypto.P256 {
		return nil, fmt.Errorf("%w: CA scheme %s: use sm2 or p256", ErrBadKey, scheme)
	}
	if validity <= 0 {
		return nil, fmt.Errorf("%w: CA validity %v must be positive", ErrBadConfig, validity)
	}
	k, err := crypto.GenerateKey(scheme, rnd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	s, err := newSigner(k)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               subject(org, CAUnit, "ca."+org),
		NotBefore:             now,
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := smx509.CreateCertificate(randOr(rnd), tmpl, tmpl, s.Public(), s)
	if err != nil {
		return nil, fmt.Errorf("identity: make CA certificate for %s: %w", org, err)
	}
	c, err := ParseCert(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: c, Key: k}, nil
}

// LoadCA pairs a CA certificate with its private key, checking that they
// match and that the certificate is a CA's.
func LoadCA(certPEM, keyPEM []byte) (*CA, error) {
	c, err := ParseCertPEM(certPEM)
	if err != nil {
		return nil, err
	}
	if !c.IsCA {
		return nil, fmt.Errorf("%w: %q of %s is not a CA certificate", ErrBadCert, c.Name, c.Org)
	}
	k, err := ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if k.Scheme() != c.Scheme || !bytes.Equal(k.Public().Bytes(), c.PublicKey) {
		return nil, fmt.Errorf("%w: key does not match the CA certificate of %s", ErrBadKey, c.Org)
	}
	return &CA{Cert: c, Key: k}, nil
}

// Issue makes a certificate for the member name of the CA's organisation
// with role, certifying pub, valid from notBefore to notAfter inclusive
// (whole seconds), with serial. The member key may be of the CA's scheme
// or Ed25519. Serials must be unique within the organisation: revocation
// names a certificate by organisation and serial. rnd feeds the
// signature (crypto/rand if nil). It returns the DER certificate.
func (ca *CA) Issue(name string, role Role, pub crypto.PublicKey, notBefore, notAfter time.Time, serial *big.Int, rnd io.Reader) ([]byte, error) {
	if !role.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrBadRole, role)
	}
	if !validName(name) {
		return nil, fmt.Errorf("%w: name %q must be 1 to %d printable bytes", ErrBadCert, name, MaxNameLen)
	}
	if serial == nil || serial.Sign() <= 0 || len(serial.Bytes()) > MaxSerialLen {
		return nil, fmt.Errorf("%w: serial must be positive and at most %d bytes", ErrBadCert, MaxSerialLen)
	}
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("%w: notAfter %v is not after notBefore %v", ErrBadCert, notAfter, notBefore)
	}
	if pub == nil || (pub.Scheme() != ca.Cert.Scheme && pub.Scheme() != crypto.Ed25519) {
		return nil, fmt.Errorf("%w: a %s CA certifies %s or ed25519 keys", ErrBadKey, ca.Cert.Scheme, ca.Cert.Scheme)
	}
	mk, err := stdPublic(pub.Scheme(), pub.Bytes())
	if err != nil {
		return nil, err
	}
	s, err := newSigner(ca.Key)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject(ca.Cert.Org, role.String(), name),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	der, err := smx509.CreateCertificate(randOr(rnd), tmpl, ca.Cert.x.ToX509(), mk, s)
	if err != nil {
		return nil, fmt.Errorf("identity: issue %s certificate %q for %s: %w", role, name, ca.Cert.Org, err)
	}
	return der, nil
}

func subject(org, unit, name string) pkix.Name {
	return pkix.Name{Organization: []string{org}, OrganizationalUnit: []string{unit}, CommonName: name}
}

func randOr(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

// stdPublic converts a crypto package public key to the form x509 takes.
func stdPublic(s crypto.Scheme, b []byte) (stdcrypto.PublicKey, error) {
	if _, err := crypto.PublicKeyFromBytes(s, b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	switch s {
	case crypto.Ed25519:
		return ed25519.PublicKey(bytes.Clone(b)), nil
	case crypto.SM2:
		x, y := sm2ec.UnmarshalCompressed(sm2.P256(), b)
		return &ecdsa.PublicKey{Curve: sm2.P256(), X: x, Y: y}, nil
	default:
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), b)
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, nil
	}
}

// signer adapts a CA key to crypto.Signer for x509. SM2 signs through the
// crypto package (x509 hands it the whole TBS certificate); P-256 gets a
// SHA-256 digest, which the crypto package cannot sign, so it signs with
// the standard library and keeps S low as the crypto package requires.
type signer struct {
	k   crypto.PrivateKey
	pub stdcrypto.PublicKey
	ec  *ecdsa.PrivateKey // P-256 only
}

func newSigner(k crypto.PrivateKey) (*signer, error) {
	pub, err := stdPublic(k.Scheme(), k.Public().Bytes())
	if err != nil {
		return nil, err
	}
	s := &signer{k: k, pub: pub}
	switch k.Scheme() {
	case crypto.SM2:
	case crypto.P256:
		if s.ec, err = ecdsa.ParseRawPrivateKey(elliptic.P256(), k.Bytes()); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
		}
	default:
		return nil, fmt.Errorf("%w: a CA key must be sm2 or p256, not %s", ErrBadKey, k.Scheme())
	}
	return s, nil
}

func (s *signer) Public() stdcrypto.PublicKey { return s.pub }

func (s *signer) Sign(rnd io.Reader, digest []byte, _ stdcrypto.SignerOpts) ([]byte, error) {
	if s.ec == nil {
		sig, err := s.k.Sign(digest)
		if err != nil {
			return nil, err
		}
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	}
	der, err := ecdsa.SignASN1(rnd, s.ec, digest)
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return nil, err
	}
	n := elliptic.P256().Params().N
	if rs.S.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		rs.S.Sub(n, rs.S)
	}
	return asn1.Marshal(rs)
}

// KeyPEM encodes a private key as a PKCS #8 "PRIVATE KEY" PEM block, which
// OpenSSL and GmSSL read.
func KeyPEM(k crypto.PrivateKey) ([]byte, error) {
	var std any
	switch k.Scheme() {
	case crypto.Ed25519:
		std = ed25519.NewKeyFromSeed(k.Bytes())
	case crypto.P256:
		ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), k.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
		}
		std = ec
	case crypto.SM2:
		pub, err := stdPublic(crypto.SM2, k.Public().Bytes())
		if err != nil {
			return nil, err
		}
		std = &sm2.PrivateKey{PrivateKey: ecdsa.PrivateKey{PublicKey: *pub.(*ecdsa.PublicKey), D: new(big.Int).SetBytes(k.Bytes())}}
	default:
		return nil, fmt.Errorf("%w: scheme %s", ErrBadKey, k.Scheme())
	}
	der, err := smx509.MarshalPKCS8PrivateKey(std)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKeyPEM decodes the first PKCS #8 "PRIVATE KEY" block of b: an SM2,
// P-256 or Ed25519 key.
func ParseKeyPEM(b []byte) (crypto.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: no PEM PRIVATE KEY block", ErrBadKey)
	}
	std, err := smx509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	var (
		s crypto.Scheme
		d []byte
	)
	switch k := std.(type) {
	case ed25519.PrivateKey:
		s, d = crypto.Ed25519, k.Seed()
	case *sm2.PrivateKey:
		s, d = crypto.SM2, k.D.FillBytes(make([]byte, 32))
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA key on %s; want P-256", ErrBadKey, k.Curve.Params().Name)
		}
		if d, err = k.Bytes(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
		}
		s = crypto.P256
	default:
		return nil, fmt.Errorf("%w: key type %T; want SM2, P-256 or Ed25519", ErrBadKey, std)
	}
	k, err := crypto.PrivateKeyFromBytes(s, d)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return k, nil
}
