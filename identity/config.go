package identity

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/accord-chain/accord/crypto"
	idpb "github.com/accord-chain/accord/identity/pb"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Mode is how a transaction names its signer. A chain fixes it at genesis.
type Mode uint8

const (
	// CertMode: the signer's certificate travels with the transaction, or
	// only its hash once the certificate is registered on chain.
	CertMode Mode = 1
	// KeyMode: the signer's public key travels with the transaction and
	// must have been registered on chain by an admin of its organisation.
	KeyMode Mode = 2
)

var modeNames = [...]string{CertMode: "cert", KeyMode: "key"}

func (m Mode) String() string {
	if m == CertMode || m == KeyMode {
		return modeNames[m]
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseMode returns the mode named s ("cert" or "key"), ignoring case.
func ParseMode(s string) (Mode, error) {
	for m, n := range modeNames {
		if n != "" && strings.EqualFold(s, n) {
			return Mode(m), nil
		}
	}
	return 0, fmt.Errorf("%w: identity mode %q (want cert or key)", ErrBadConfig, s)
}

// Org is an organisation of the consortium.
type Org struct {
	// ID is the organisation id, the Subject O of its certificates.
	ID string
	// Scheme is the organisation's CA scheme, crypto.SM2 or crypto.P256.
	// Its members' keys are of this scheme or Ed25519.
	Scheme crypto.Scheme
	// CAs are the DER certificates of the organisation's CAs: the trust
	// roots of its members. Certificate mode needs at least one; listing
	// two lets a CA be rotated.
	CAs [][]byte
}

// Revocation names a revoked certificate by organisation and serial. A
// serial rather than a certificate hash, because a CA signature can be
// re-encoded into different bytes without the CA's key.
type Revocation struct {
	Org    string
	Serial string // lower-case hex, as Cert.Serial
}

// MethodPolicy says who may call a contract method.
type MethodPolicy struct {
	// Method is "contract.method", or "contract.*" for every method of the
	// contract that has no policy of its own.
	Method string
	Policy Policy
}

// Config is the identity part of the chain configuration. Changing it
// takes endorsements that satisfy Governance.
type Config struct {
	// Mode is fixed at genesis. Required.
	Mode Mode
	// Orgs lists the consortium's organisations. At least one.
	Orgs []Org
	// Revoked lists revoked certificates.
	Revoked []Revocation
	// Frozen lists accounts that may not send transactions.
	Frozen []types.Address
	// Governance is the policy a configuration change must satisfy.
	// Default: MAJORITY of organisations, admins endorsing.
	Governance Policy
	// Methods are per-method call policies. A method with none may be
	// called by admins and clients of every organisation.
	Methods []MethodPolicy
}

// Limits on a configuration.
const (
	// MaxConfigSize is the largest encoded configuration, in bytes.
	MaxConfigSize = 8 << 20
	// MaxCAs is the most CA certificates one organisation may list.
	MaxCAs = 8
	// ConfigVersion is the version of the Config message Encode writes; it
	// only goes up (1 was a hand-made encoding).
	ConfigVersion = 2
)

// EnsureDefaults fills in the documented defaults.
func (c *Config) EnsureDefaults() {
	if c.Governance.Rule == 0 {
		c.Governance = Policy{Rule: Majority, Roles: []Role{Admin}}
	}
}

var (
	methodRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}\.([A-Za-z0-9_]{1,64}|\*)$`)
	serialRE = regexp.MustCompile(`^[1-9a-f][0-9a-f]{0,39}$`)
)

// Validate checks the configuration, including that each CA certificate
// is a self-signed CA of its organisation and scheme. It does not check
// list order: Encode sorts.
func (c *Config) Validate() error {
	_, err := parseOrgs(c)
	return err
}

// parseOrgs validates c and returns its organisations with parsed CAs.
func parseOrgs(c *Config) (map[string]*orgView, error) {
	if c.Mode != CertMode && c.Mode != KeyMode {
		return nil, fmt.Errorf("%w: identity mode %s: want cert or key", ErrBadConfig, c.Mode)
	}
	if len(c.Orgs) == 0 {
		return nil, fmt.Errorf("%w: no organisations", ErrBadConfig)
	}
	orgs := make(map[string]*orgView, len(c.Orgs))
	for _, o := range c.Orgs {
		if !ValidOrgID(o.ID) {
			return nil, fmt.Errorf("%w: organisation id %q: use 1 to 64 letters, digits, '.', '_' or '-'", ErrBadConfig, o.ID)
		}
		if orgs[o.ID] != nil {
			return nil, fmt.Errorf("%w: organisation %s listed twice", ErrBadConfig, o.ID)
		}
		if o.Scheme != crypto.SM2 && o.Scheme != crypto.P256 {
			return nil, fmt.Errorf("%w: organisation %s: scheme %s, want sm2 or p256", ErrBadConfig, o.ID, o.Scheme)
		}
		if c.Mode == CertMode && len(o.CAs) == 0 {
			return nil, fmt.Errorf("%w: organisation %s lists no CA certificate; certificate mode needs one", ErrBadConfig, o.ID)
		}
		if len(o.CAs) > MaxCAs {
			return nil, fmt.Errorf("%w: organisation %s lists %d CAs, at most %d allowed", ErrBadConfig, o.ID, len(o.CAs), MaxCAs)
		}
		v := &orgView{Org: o}
		for i, der := range o.CAs {
			ca, err := ParseCert(der)
			if err != nil {
				return nil, fmt.Errorf("%w: organisation %s CA %d: %w", ErrBadConfig, o.ID, i, err)
			}
			if !ca.IsCA || ca.Org != o.ID || ca.Scheme != o.Scheme {
				return nil, fmt.Errorf("%w: organisation %s CA %d is not a %s CA certificate of %s", ErrBadConfig, o.ID, i, o.Scheme, o.ID)
			}
			if err := ca.signedBy(ca); err != nil {
				return nil, fmt.Errorf("%w: organisation %s CA %d is not validly self-signed: %v", ErrBadConfig, o.ID, i, err)
			}
			for _, r := range v.roots {
				if bytes.Equal(r.Raw, der) {
					return nil, fmt.Errorf("%w: organisation %s lists a CA twice", ErrBadConfig, o.ID)
				}
			}
			v.roots = append(v.roots, ca)
		}
		orgs[o.ID] = v
	}
	seen := make(map[Revocation]bool, len(c.Revoked))
	for _, r := range c.Revoked {
		if orgs[r.Org] == nil {
			return nil, fmt.Errorf("%w: revocation of serial %s names %w %q", ErrBadConfig, r.Serial, ErrUnknownOrg, r.Org)
		}
		if !serialRE.MatchString(r.Serial) {
			return nil, fmt.Errorf("%w: revoked serial %q of %s: want lower-case hex without leading zeros", ErrBadConfig, r.Serial, r.Org)
		}
		if seen[r] {
			return nil, fmt.Errorf("%w: serial %s of %s revoked twice", ErrBadConfig, r.Serial, r.Org)
		}
		seen[r] = true
	}
	frozen := make(map[types.Address]bool, len(c.Frozen))
	for _, a := range c.Frozen {
		if frozen[a] {
			return nil, fmt.Errorf("%w: account %s frozen twice", ErrBadConfig, a)
		}
		frozen[a] = true
	}
	ids := sortedKeys(orgs)
	if err := c.Governance.validate(ids); err != nil {
		return nil, fmt.Errorf("%w: governance: %w", ErrBadConfig, err)
	}
	methods := make(map[string]bool, len(c.Methods))
	for _, m := range c.Methods {
		if !methodRE.MatchString(m.Method) {
			return nil, fmt.Errorf("%w: method %q: want contract.method or contract.*", ErrBadConfig, m.Method)
		}
		if methods[m.Method] {
			return nil, fmt.Errorf("%w: method %s has two policies", ErrBadConfig, m.Method)
		}
		methods[m.Method] = true
		if err := m.Policy.validate(ids); err != nil {
			return nil, fmt.Errorf("%w: method %s: %w", ErrBadConfig, m.Method, err)
		}
	}
	return orgs, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// canonical returns a copy of c with every list sorted.
func (c *Config) canonical() Config {
	out := Config{Mode: c.Mode, Governance: c.Governance.canonical()}
	for _, o := range c.Orgs {
		cas := slices.Clone(o.CAs)
		slices.SortFunc(cas, bytes.Compare)
		out.Orgs = append(out.Orgs, Org{ID: o.ID, Scheme: o.Scheme, CAs: cas})
	}
	slices.SortFunc(out.Orgs, func(a, b Org) int { return strings.Compare(a.ID, b.ID) })
	out.Revoked = slices.Clone(c.Revoked)
	slices.SortFunc(out.Revoked, cmpRevocation)
	out.Frozen = slices.Clone(c.Frozen)
	slices.SortFunc(out.Frozen, func(a, b types.Address) int { return bytes.Compare(a[:], b[:]) })
	for _, m := range c.Methods {
		out.Methods = append(out.Methods, MethodPolicy{Method: m.Method, Policy: m.Policy.canonical()})
	}
	slices.SortFunc(out.Methods, func(a, b MethodPolicy) int { return strings.Compare(a.Method, b.Method) })
	return out
}

func cmpRevocation(a, b Revocation) int {
	return cmp.Or(strings.Compare(a.Org, b.Org), cmpSerial(a.Serial, b.Serial))
}

// cmpSerial orders serials numerically: shorter hex first, then by digits.
func cmpSerial(a, b string) int {
	return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
}

// Encode validates c and returns its canonical encoding: a Config message
// (proto/accord/identity/v1) of version ConfigVersion with every list
// sorted. Two configurations with the same content encode to the same
// bytes.
func (c *Config) Encode() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cc := c.canonical()
	m := &idpb.Config{Version: ConfigVersion, Mode: idpb.Mode(cc.Mode), Governance: cc.Governance.proto()}
	for _, o := range cc.Orgs {
		m.Orgs = append(m.Orgs, &idpb.Org{Id: o.ID, Scheme: pb.Scheme(o.Scheme), Cas: o.CAs})
	}
	for _, r := range cc.Revoked {
		m.Revoked = append(m.Revoked, &idpb.Revocation{Org: r.Org, Serial: r.Serial})
	}
	for _, a := range cc.Frozen {
		m.Frozen = append(m.Frozen, a[:])
	}
	for _, mp := range cc.Methods {
		m.Methods = append(m.Methods, &idpb.MethodPolicy{Method: mp.Method, Policy: mp.Policy.proto()})
	}
	b := types.EncodeCanonical(m)
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("%w: encoding is %d bytes, at most %d allowed", ErrBadConfig, len(b), MaxConfigSize)
	}
	return b, nil
}

// DecodeConfig decodes and validates an encoding made by Encode. It
// accepts only canonical encodings (sorted lists, no unknown fields, no
// other version), so Encode gives back exactly b.
func DecodeConfig(b []byte) (Config, error) {
	if len(b) > MaxConfigSize {
		return Config{}, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadConfig, len(b), MaxConfigSize)
	}
	var m idpb.Config
	if err := types.DecodeVersioned(b, &m, ConfigVersion); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	var c Config
	if m.Mode > 0 && m.Mode <= 255 {
		c.Mode = Mode(m.Mode)
	}
	for _, o := range m.Orgs {
		c.Orgs = append(c.Orgs, Org{ID: o.Id, Scheme: schemeOf(o.Scheme), CAs: o.Cas})
	}
	for _, r := range m.Revoked {
		c.Revoked = append(c.Revoked, Revocation{Org: r.Org, Serial: r.Serial})
	}
	for i, a := range m.Frozen {
		addr, err := types.AddressFromBytes(a)
		if err != nil {
			return Config{}, fmt.Errorf("%w: frozen account %d: %w", ErrBadConfig, i, err)
		}
		c.Frozen = append(c.Frozen, addr)
	}
	if m.Governance == nil {
		return Config{}, fmt.Errorf("%w: no governance policy", ErrBadConfig)
	}
	c.Governance = policyOf(m.Governance)
	for _, mp := range m.Methods {
		if mp.Policy == nil {
			return Config{}, fmt.Errorf("%w: method %q has no policy", ErrBadConfig, mp.Method)
		}
		c.Methods = append(c.Methods, MethodPolicy{Method: mp.Method, Policy: policyOf(mp.Policy)})
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	if again, err := c.Encode(); err != nil || !bytes.Equal(again, b) {
		return Config{}, fmt.Errorf("%w: encoding is not canonical (lists must be sorted)", ErrBadConfig)
	}
	return c, nil
}
