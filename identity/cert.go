package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"regexp"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// Limits on certificates from outside. They bound the parsing work a
// hostile transaction can cause before anything is verified.
const (
	// MaxCertSize is the largest DER certificate accepted, in bytes.
	MaxCertSize = 4096
	// MaxNameLen is the longest member name (Subject CN), in bytes.
	MaxNameLen = 128
	// MaxSerialLen is the longest serial number, in bytes (RFC 5280).
	MaxSerialLen = 20
)

// CAUnit is the Subject OU of a CA certificate made by NewCA. It is not a
// role: CA certificates sign certificates and nothing else.
const CAUnit = "ca"

var orgRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidOrgID reports whether id is a usable organisation id: 1 to 64
// letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidOrgID(id string) bool { return orgRE.MatchString(id) }

func validName(s string) bool {
	if s == "" || len(s) > MaxNameLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Cert is a parsed certificate with the fields Accord uses. Raw is the DER
// exactly as given; the other fields are derived from it.
type Cert struct {
	Raw    []byte
	Org    string // Subject O
	Unit   string // Subject OU: a role name, or CAUnit for a CA
	Role   Role   // the role named by Unit; 0 for a CA certificate
	Name   string // Subject CN
	IsCA   bool
	Serial string // lower-case hex, no leading zeros
	// NotBefore and NotAfter bound the validity period, inclusive, in unix
	// milliseconds (X.509 times have whole seconds).
	NotBefore, NotAfter uint64
	Scheme              crypto.Scheme
	PublicKey           []byte // crypto.PublicKeyFromBytes encoding

	x *smx509.Certificate
}

// ParseCert parses one DER certificate from outside. It accepts X.509 v3
// certificates of at most MaxCertSize bytes with exactly one Subject O (a
// valid organisation id), one OU (a role, or CAUnit with the CA flag) and
// one CN (a name of at most MaxNameLen bytes), a positive serial of at
// most MaxSerialLen bytes, no unhandled critical extension, and an SM2,
// P-256 or (for members) Ed25519 public key that the crypto package
// accepts. It checks no signature: see Registry.
func ParseCert(der []byte) (*Cert, error) {
	if len(der) > MaxCertSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadCert, len(der), MaxCertSize)
	}
	x, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCert, err)
	}
	c := &Cert{Raw: bytes.Clone(der), x: x, IsCA: x.IsCA}
	if x.Version != 3 {
		return nil, fmt.Errorf("%w: X.509 version %d, want 3", ErrBadCert, x.Version)
	}
	if len(x.UnhandledCriticalExtensions) > 0 {
		return nil, fmt.Errorf("%w: unhandled critical extension %v", ErrBadCert, x.UnhandledCriticalExtensions[0])
	}
	var cn []string
	for _, a := range x.Subject.Names {
		if a.Type.Equal(oidCN) {
			s, _ := a.Value.(string)
			cn = append(cn, s)
		}
	}
	if len(x.Subject.Organization) != 1 || len(x.Subject.OrganizationalUnit) != 1 || len(cn) != 1 {
		return nil, fmt.Errorf("%w: subject needs exactly one O (organisation), one OU (role) and one CN (name)", ErrBadCert)
	}
	c.Org, c.Unit, c.Name = x.Subject.Organization[0], x.Subject.OrganizationalUnit[0], cn[0]
	if !ValidOrgID(c.Org) {
		return nil, fmt.Errorf("%w: organisation %q is not a valid id", ErrBadCert, c.Org)
	}
	if !validName(c.Name) {
		return nil, fmt.Errorf("%w: name %q must be 1 to %d printable bytes", ErrBadCert, c.Name, MaxNameLen)
	}
	if c.IsCA {
		if c.Unit != CAUnit {
			return nil, fmt.Errorf("%w: CA certificate of %s has OU %q, want %q", ErrBadCert, c.Org, c.Unit, CAUnit)
		}
	} else if c.Role, err = ParseRole(c.Unit); err != nil {
		return nil, fmt.Errorf("%w: certificate of %s: OU %q is not a role", ErrBadCert, c.Org, c.Unit)
	}
	sn := x.SerialNumber
	if sn == nil || sn.Sign() <= 0 || len(sn.Bytes()) > MaxSerialLen {
		return nil, fmt.Errorf("%w: serial must be positive and at most %d bytes", ErrBadCert, MaxSerialLen)
	}
	c.Serial = sn.Text(16)
	nb, na := x.NotBefore.UnixMilli(), x.NotAfter.UnixMilli()
	if nb < 0 || na < nb {
		return nil, fmt.Errorf("%w: validity %v to %v is empty or before 1970", ErrBadCert, x.NotBefore, x.NotAfter)
	}
	c.NotBefore, c.NotAfter = uint64(nb), uint64(na)
	if c.Scheme, c.PublicKey, err = certKey(x.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %s serial %s: %v", ErrBadCert, c.Org, c.Serial, err)
	}
	if c.IsCA && c.Scheme == crypto.Ed25519 {
		return nil, fmt.Errorf("%w: CA of %s has an Ed25519 key; CAs use SM2 or P-256", ErrBadCert, c.Org)
	}
	return c, nil
}

var oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}

// certKey converts a key parsed by smx509 to the crypto package encoding
// and validates it there, so that certificates and transactions agree on
// which keys exist.
func certKey(k any) (crypto.Scheme, []byte, error) {
	var (
		s   crypto.Scheme
		pub []byte
	)
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		switch {
		case k.Curve == sm2.P256():
			s = crypto.SM2
		case k.Curve.Params().Name == "P-256":
			s = crypto.P256
		default:
			return 0, nil, fmt.Errorf("public key on curve %s; want SM2 or P-256", k.Curve.Params().Name)
		}
		pub = compress(k.X, k.Y)
	case ed25519.PublicKey:
		s, pub = crypto.Ed25519, bytes.Clone(k)
		if crypto.WeakPublicKey(s, pub) {
			return 0, nil, fmt.Errorf("ed25519 public key is a small-order point")
		}
	default:
		return 0, nil, fmt.Errorf("public key type %T; want SM2, P-256 or Ed25519", k)
	}
	if _, err := crypto.PublicKeyFromBytes(s, pub); err != nil {
		return 0, nil, err
	}
	return s, pub, nil
}

func compress(x, y *big.Int) []byte {
	b := make([]byte, 33)
	b[0] = 2 | byte(y.Bit(0))
	x.FillBytes(b[1:])
	return b
}

// Hash returns the certificate hash: the chain hash of the DER.
func (c *Cert) Hash(h crypto.Hash) types.Hash { return types.Hash(h.Sum(c.Raw)) }

// Address returns the account address of the certified key.
func (c *Cert) Address() types.Address { return types.AddressOf(c.Scheme, c.PublicKey) }

// PEM returns the certificate as a PEM "CERTIFICATE" block.
func (c *Cert) PEM() []byte { return CertPEM(c.Raw) }

// CertPEM encodes a DER certificate as a PEM "CERTIFICATE" block.
func CertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ParseCertPEM parses the first PEM "CERTIFICATE" block of b.
func ParseCertPEM(b []byte) (*Cert, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrBadCert)
	}
	return ParseCert(blk.Bytes)
}

// validAt checks the validity period against a block time in unix ms.
func (c *Cert) validAt(at uint64) error {
	what := "certificate"
	if c.IsCA {
		what = "CA certificate"
	}
	if at < c.NotBefore {
		return fmt.Errorf("%w: %s %q of %s (serial %s) is valid from %d, block time is %d (unix ms)",
			ErrExpired, what, c.Name, c.Org, c.Serial, c.NotBefore, at)
	}
	if at > c.NotAfter {
		return fmt.Errorf("%w: %s %q of %s (serial %s) expired at %d, block time is %d (unix ms)",
			ErrExpired, what, c.Name, c.Org, c.Serial, c.NotAfter, at)
	}
	return nil
}

// signedBy checks that ca issued c: issuer name, CA flags, the signature
// algorithm of ca's scheme, and the signature verified by the crypto
// package, so that the rules that decide transactions (low-S for P-256,
// the default uid for SM2) decide certificates too. The signature must be
// DER-encoded exactly one way.
func (c *Cert) signedBy(ca *Cert) error {
	if !ca.IsCA || !bytes.Equal(c.x.RawIssuer, ca.x.RawSubject) {
		return fmt.Errorf("issuer is not %q", ca.Name)
	}
	if ca.x.KeyUsage != 0 && ca.x.KeyUsage&smx509.KeyUsageCertSign == 0 {
		return fmt.Errorf("CA %q may not sign certificates", ca.Name)
	}
	want := smx509.ECDSAWithSHA256
	if ca.Scheme == crypto.SM2 {
		want = smx509.SM2WithSM3
	}
	if c.x.SignatureAlgorithm != want {
		return fmt.Errorf("signature algorithm %v, want %v", c.x.SignatureAlgorithm, want)
	}
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(c.x.Signature, &rs)
	if err != nil || len(rest) != 0 || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 ||
		rs.R.BitLen() > 256 || rs.S.BitLen() > 256 {
		return fmt.Errorf("malformed signature")
	}
	if again, _ := asn1.Marshal(rs); !bytes.Equal(again, c.x.Signature) {
		return fmt.Errorf("signature is not in canonical DER")
	}
	sig := make([]byte, 64)
	rs.R.FillBytes(sig[:32])
	rs.S.FillBytes(sig[32:])
	return crypto.Verify(ca.Scheme, ca.PublicKey, c.x.RawTBSCertificate, sig)
}
