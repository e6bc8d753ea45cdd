package identity

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// Member is a verified signer: who it is, in which organisation and role,
// and the key it signs with. Members returned by a Registry share their
// slices with it; callers must not modify them.
type Member struct {
	Org       string
	Role      Role
	Name      string
	Scheme    crypto.Scheme
	PublicKey []byte
	Address   types.Address
	// CertHash, Serial, NotBefore, NotAfter (unix ms) and CA (the hash of
	// the issuing CA certificate) describe the member's certificate; they
	// are zero in key mode.
	CertHash            types.Hash
	Serial              string
	NotBefore, NotAfter uint64
	CA                  types.Hash
}

// Verify checks the member's signature of msg.
func (m *Member) Verify(msg, sig []byte) error {
	return crypto.Verify(m.Scheme, m.PublicKey, msg, sig)
}

// String names the member for messages: "name (role of org)".
func (m *Member) String() string {
	return fmt.Sprintf("%q (%s of %s)", m.Name, m.Role, m.Org)
}

// Ref names a signer in a transaction or endorsement. Exactly one form is
// set: Cert or CertHash in certificate mode, Scheme and PublicKey in key
// mode.
type Ref struct {
	Cert      []byte     // the DER certificate
	CertHash  types.Hash // the hash of a registered certificate
	Scheme    crypto.Scheme
	PublicKey []byte // a registered public key
}

// Key is a member registered by public key in key mode.
type Key struct {
	Org       string
	Role      Role
	Name      string
	Scheme    crypto.Scheme
	PublicKey []byte
}

type orgView struct {
	Org
	roots []*Cert
}

// root returns the CA of the organisation whose certificate hashes to h.
func (v *orgView) root(hf crypto.Hash, h types.Hash) *Cert {
	for _, r := range v.roots {
		if r.Hash(hf) == h {
			return r
		}
	}
	return nil
}

// Registry is the membership view a node builds from the chain
// configuration and the members registered on chain. Lookups are safe for
// concurrent use with each other and with changes; every verdict depends
// only on the registry's content and the block time passed in.
type Registry struct {
	h     crypto.Hash
	cache *Cache

	mu      sync.RWMutex
	cfg     Config
	orgs    map[string]*orgView
	ids     []string // sorted organisation ids
	revoked map[Revocation]bool
	frozen  map[types.Address]bool
	methods map[string]Policy
	certs   map[types.Hash]*Member    // registered certificates
	keys    map[types.Address]*Member // registered keys (key mode)
	lookup  Lookup                    // members registered on chain; may be nil
}

// Lookup finds members registered on chain, for a registry that does not
// hold them in memory (see WithLookup). A nil result with a nil error means
// not registered; an error means the chain state could not be read, and
// is returned wrapped in ErrLookup.
type Lookup interface {
	// Cert returns the DER certificate registered with hash h.
	Cert(h types.Hash) ([]byte, error)
	// Key returns the key registered for account a (key mode).
	Key(a types.Address) (*Key, error)
}

// WithLookup returns a registry with r's configuration that resolves
// certificate hashes and keys through l as well as its own registrations.
// It shares r's parsed configuration and cache, so it is cheap enough to
// make per block or per call; r is unchanged. Registrations made on the
// returned registry are its own.
func (r *Registry) WithLookup(l Lookup) *Registry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v := &Registry{h: r.h, cache: r.cache, cfg: r.cfg, orgs: r.orgs, ids: r.ids, revoked: r.revoked,
		frozen: r.frozen, methods: r.methods, lookup: l,
		certs: make(map[types.Hash]*Member, len(r.certs)), keys: make(map[types.Address]*Member, len(r.keys))}
	for h, m := range r.certs {
		v.certs[h] = m
	}
	for a, m := range r.keys {
		v.keys[a] = m
	}
	return v
}

// NewRegistry builds the view of cfg (after EnsureDefaults) for a chain
// hashing with h. cache, if not nil, remembers verified certificates and
// may be shared by successive registries of one chain.
func NewRegistry(cfg Config, h crypto.Hash, cache *Cache) (*Registry, error) {
	if !h.Valid() {
		return nil, fmt.Errorf("%w: chain hash %s", ErrBadConfig, h)
	}
	cfg.EnsureDefaults()
	r := &Registry{h: h, cache: cache, certs: map[types.Hash]*Member{}, keys: map[types.Address]*Member{}}
	if err := r.setConfig(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Registry) setConfig(cfg Config) error {
	orgs, err := parseOrgs(&cfg)
	if err != nil {
		return err
	}
	r.cfg = cfg.canonical()
	r.orgs = orgs
	r.ids = sortedKeys(orgs)
	r.revoked = make(map[Revocation]bool, len(cfg.Revoked))
	for _, x := range cfg.Revoked {
		r.revoked[x] = true
	}
	r.frozen = make(map[types.Address]bool, len(cfg.Frozen))
	for _, a := range cfg.Frozen {
		r.frozen[a] = true
	}
	r.methods = make(map[string]Policy, len(cfg.Methods))
	for _, m := range cfg.Methods {
		r.methods[m.Method] = m.Policy
	}
	return nil
}

// SetConfig replaces the configuration, for example after a governance
// change. The mode cannot change. Registered members stay; those whose
// organisation or CA is gone no longer resolve.
func (r *Registry) SetConfig(cfg Config) error {
	cfg.EnsureDefaults()
	r.mu.Lock()
	defer r.mu.Unlock()
	if cfg.Mode != r.cfg.Mode {
		return fmt.Errorf("%w: identity mode is fixed at genesis (%s), cannot become %s", ErrBadConfig, r.cfg.Mode, cfg.Mode)
	}
	return r.setConfig(cfg)
}

// Config returns a copy of the configuration with sorted lists.
func (r *Registry) Config() Config {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cfg.canonical()
}

// Hash returns the chain hash the registry computes certificate hashes
// with.
func (r *Registry) Hash() crypto.Hash { return r.h }

// Orgs returns the sorted organisation ids.
func (r *Registry) Orgs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.ids)
}

// VerifyCert verifies a certificate from outside at block time at (unix
// ms): parsed, issued by a CA of the organisation it names, neither the
// certificate nor the CA expired or not yet valid, not revoked. Chain
// verification is cached by certificate hash when the registry has a
// cache; time and revocation are checked every time.
func (r *Registry) VerifyCert(der []byte, at uint64) (Member, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, err := r.chain(der)
	if err != nil {
		return Member{}, err
	}
	return *m, r.check(m, at)
}

// chain returns the member der certifies if a current CA of its
// organisation signed it, without checking time or revocation.
func (r *Registry) chain(der []byte) (*Member, error) {
	if len(der) > MaxCertSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadCert, len(der), MaxCertSize)
	}
	h := types.Hash(r.h.Sum(der))
	if m := r.cache.get(h); m != nil {
		if v := r.orgs[m.Org]; v != nil && v.root(r.h, m.CA) != nil {
			return m, nil
		}
	}
	c, err := ParseCert(der)
	if err != nil {
		return nil, err
	}
	if c.IsCA {
		return nil, fmt.Errorf("%w: %q of %s is a CA certificate; CAs do not sign transactions", ErrWrongRole, c.Name, c.Org)
	}
	v := r.orgs[c.Org]
	if v == nil {
		return nil, fmt.Errorf("%w: %q: certificate %q (serial %s) claims it", ErrUnknownOrg, c.Org, c.Name, c.Serial)
	}
	if c.Scheme != v.Scheme && c.Scheme != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: certificate %q of %s (serial %s) holds a %s key; %s members use %s or ed25519",
			ErrBadCert, c.Name, c.Org, c.Serial, c.Scheme, c.Org, v.Scheme)
	}
	var ca *Cert
	for _, root := range v.roots {
		if c.signedBy(root) == nil {
			ca = root
			break
		}
	}
	if ca == nil {
		return nil, fmt.Errorf("%w: certificate %q (serial %s) claims %s, but no CA of %s signed it",
			ErrUnknownCA, c.Name, c.Serial, c.Org, c.Org)
	}
	m := &Member{
		Org: c.Org, Role: c.Role, Name: c.Name, Scheme: c.Scheme, PublicKey: c.PublicKey,
		Address: c.Address(), CertHash: h, Serial: c.Serial,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, CA: ca.Hash(r.h),
	}
	r.cache.put(h, m)
	return m, nil
}

// check applies what can change after a certificate was verified: its
// organisation and CA still listed, the validity periods, revocation.
func (r *Registry) check(m *Member, at uint64) error {
	v := r.orgs[m.Org]
	if v == nil {
		return fmt.Errorf("%w: %q of member %s", ErrUnknownOrg, m.Org, m)
	}
	if m.Serial == "" { // key mode
		return nil
	}
	ca := v.root(r.h, m.CA)
	if ca == nil {
		return fmt.Errorf("%w: the CA of %s that issued serial %s of %s is no longer trusted", ErrUnknownCA, m.Org, m.Serial, m)
	}
	if err := ca.validAt(at); err != nil {
		return err
	}
	if at < m.NotBefore {
		return fmt.Errorf("%w: certificate %s (serial %s) is valid from %d, block time is %d (unix ms)", ErrExpired, m, m.Serial, m.NotBefore, at)
	}
	if at > m.NotAfter {
		return fmt.Errorf("%w: certificate %s (serial %s) expired at %d, block time is %d (unix ms)", ErrExpired, m, m.Serial, m.NotAfter, at)
	}
	if r.revoked[Revocation{Org: m.Org, Serial: m.Serial}] {
		return fmt.Errorf("%w: certificate %s, serial %s of %s", ErrRevoked, m, m.Serial, m.Org)
	}
	return nil
}

// Resolve returns the member ref names, valid at block time at (unix ms):
// a certificate (verified as by VerifyCert) or a registered certificate
// hash in certificate mode, a registered public key in key mode. It does
// not check whether the account is frozen: see Sender.
func (r *Registry) Resolve(ref Ref, at uint64) (Member, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, err := r.resolve(ref, at)
	if err != nil {
		return Member{}, err
	}
	return *m, nil
}

func (r *Registry) resolve(ref Ref, at uint64) (*Member, error) {
	forms := 0
	if len(ref.Cert) > 0 {
		forms++
	}
	if !ref.CertHash.IsZero() {
		forms++
	}
	if ref.Scheme != 0 || len(ref.PublicKey) > 0 {
		forms++
	}
	if forms != 1 {
		return nil, fmt.Errorf("%w: a signer is named by exactly one of certificate, certificate hash or public key (got %d)", ErrUnknownMember, forms)
	}
	if r.cfg.Mode == KeyMode {
		if len(ref.PublicKey) == 0 {
			return nil, fmt.Errorf("%w: this chain names signers by registered public key, not certificate", ErrWrongMode)
		}
		a := types.AddressOf(ref.Scheme, ref.PublicKey)
		m := r.keys[a]
		if m == nil && r.lookup != nil {
			k, err := r.lookup.Key(a)
			if err != nil {
				return nil, fmt.Errorf("%w: key of account %s: %w", ErrLookup, a, err)
			}
			if k != nil {
				if m, err = r.keyMember(*k); err != nil {
					return nil, fmt.Errorf("registered key of account %s: %w", a, err)
				}
			}
		}
		if m == nil || m.Scheme != ref.Scheme || !bytes.Equal(m.PublicKey, ref.PublicKey) {
			return nil, fmt.Errorf("%w: %s key %x is not registered; an admin of its organisation registers it", ErrUnknownMember, ref.Scheme, ref.PublicKey)
		}
		return m, r.check(m, at)
	}
	if len(ref.PublicKey) > 0 || ref.Scheme != 0 {
		return nil, fmt.Errorf("%w: this chain names signers by certificate, not public key", ErrWrongMode)
	}
	if len(ref.Cert) > 0 {
		m, err := r.chain(ref.Cert)
		if err != nil {
			return nil, err
		}
		return m, r.check(m, at)
	}
	m := r.certs[ref.CertHash]
	if m == nil && r.lookup != nil {
		der, err := r.lookup.Cert(ref.CertHash)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %s: %w", ErrLookup, ref.CertHash, err)
		}
		if der != nil {
			if m, err = r.chain(der); err != nil {
				return nil, err
			}
			if m.CertHash != ref.CertHash {
				return nil, fmt.Errorf("%w: the certificate registered as %s hashes to %s", ErrBadCert, ref.CertHash, m.CertHash)
			}
		}
	}
	if m == nil {
		return nil, fmt.Errorf("%w: no certificate with hash %s is registered; send the certificate itself or register it", ErrUnknownMember, ref.CertHash)
	}
	return m, r.check(m, at)
}

// Sender resolves the signer of a transaction and checks that its account
// is not frozen and that its role may send (light members may not).
func (r *Registry) Sender(ref Ref, at uint64) (Member, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, err := r.resolve(ref, at)
	if err != nil {
		return Member{}, err
	}
	if m.Role == Light {
		return Member{}, fmt.Errorf("%w: %s is a light member, which may not send transactions", ErrWrongRole, m)
	}
	if r.frozen[m.Address] {
		return Member{}, fmt.Errorf("%w: %s of %s may not send until unfrozen by governance", ErrFrozen, m.Address, m)
	}
	return *m, nil
}

// Frozen reports whether the account a is frozen.
func (r *Registry) Frozen(a types.Address) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.frozen[a]
}

// Policy returns the policy of method ("contract.method"): its own, else
// its contract's "contract.*", else false.
func (r *Registry) Policy(method string) (Policy, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.policy(method)
}

func (r *Registry) policy(method string) (Policy, bool) {
	if p, ok := r.methods[method]; ok {
		return p, true
	}
	if i := strings.IndexByte(method, '.'); i > 0 {
		p, ok := r.methods[method[:i]+".*"]
		return p, ok
	}
	return Policy{}, false
}

// Authorize reports whether m may call method on its own. A method without
// a policy is open to admins and clients. A method with one needs m's role
// among the policy's roles and m's organisation alone to satisfy it; a
// policy that needs several organisations must go through endorsements.
func (r *Registry) Authorize(m Member, method string) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.policy(method)
	if !ok {
		if m.Role == Admin || m.Role == Client {
			return nil
		}
		return fmt.Errorf("%w: %s may not call %s; only admins and clients may", ErrWrongRole, &m, method)
	}
	if !p.Counts(m.Role) {
		return fmt.Errorf("%w: %s may not call %s, whose policy is %s", ErrWrongRole, &m, method, p)
	}
	if err := p.Check([]string{m.Org}, r.ids); err != nil {
		return fmt.Errorf("%s may not call %s alone: %w", &m, method, err)
	}
	return nil
}

// RegisterCert registers a certificate so that transactions may name it by
// hash. It must verify as by VerifyCert at block time at. Registering a
// registered certificate again changes nothing.
func (r *Registry) RegisterCert(der []byte, at uint64) (Member, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.Mode != CertMode {
		return Member{}, fmt.Errorf("%w: this chain registers public keys, not certificates", ErrWrongMode)
	}
	m, err := r.chain(der)
	if err != nil {
		return Member{}, err
	}
	if err := r.check(m, at); err != nil {
		return Member{}, err
	}
	r.certs[m.CertHash] = m
	return *m, nil
}

// RegisterKey registers a member's public key in key mode. The key must be
// of the organisation's scheme or Ed25519, and not registered already.
func (r *Registry) RegisterKey(k Key) (Member, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.Mode != KeyMode {
		return Member{}, fmt.Errorf("%w: this chain registers certificates, not public keys", ErrWrongMode)
	}
	m, err := r.keyMember(k)
	if err != nil {
		return Member{}, err
	}
	if old := r.keys[m.Address]; old != nil {
		return Member{}, fmt.Errorf("%w: key of account %s is already registered as %s", ErrBadKey, m.Address, old)
	}
	r.keys[m.Address] = m
	return *m, nil
}

func (r *Registry) keyMember(k Key) (*Member, error) {
	v := r.orgs[k.Org]
	if v == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownOrg, k.Org)
	}
	if !k.Role.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrBadRole, k.Role)
	}
	if !validName(k.Name) {
		return nil, fmt.Errorf("%w: name %q must be 1 to %d printable bytes", ErrBadKey, k.Name, MaxNameLen)
	}
	if k.Scheme != v.Scheme && k.Scheme != crypto.Ed25519 {
		return nil, fmt.Errorf("%w: %s members use %s or ed25519 keys, not %s", ErrBadKey, k.Org, v.Scheme, k.Scheme)
	}
	if _, err := crypto.PublicKeyFromBytes(k.Scheme, k.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	if crypto.WeakPublicKey(k.Scheme, k.PublicKey) {
		return nil, fmt.Errorf("%w: ed25519 key is a small-order point", ErrBadKey)
	}
	pub := slices.Clone(k.PublicKey)
	return &Member{Org: k.Org, Role: k.Role, Name: k.Name, Scheme: k.Scheme, PublicKey: pub,
		Address: types.AddressOf(k.Scheme, pub)}, nil
}

// RemoveKey unregisters the key of account a, which revokes it in key
// mode. It reports whether a key was registered.
func (r *Registry) RemoveKey(a types.Address) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.keys[a]
	delete(r.keys, a)
	return ok
}

// Revoke revokes certificate serial of org. The caller checks that the
// sender may (an admin of org, see AdminOf). Revoking twice changes
// nothing.
func (r *Registry) Revoke(org, serial string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	x := Revocation{Org: org, Serial: serial}
	if r.revoked[x] {
		return nil
	}
	cfg := r.cfg.canonical()
	cfg.Revoked = append(cfg.Revoked, x)
	return r.setConfig(cfg)
}

// SetFrozen freezes or unfreezes account a.
func (r *Registry) SetFrozen(a types.Address, frozen bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen[a] == frozen {
		return
	}
	cfg := r.cfg.canonical()
	if frozen {
		cfg.Frozen = append(cfg.Frozen, a)
	} else {
		cfg.Frozen = slices.DeleteFunc(cfg.Frozen, func(b types.Address) bool { return a == b })
	}
	if err := r.setConfig(cfg); err != nil {
		panic("identity: freezing broke a valid configuration: " + err.Error())
	}
}

// AdminOf reports whether m is an admin of org, as issuing, revoking and
// registering members of org require.
func AdminOf(m Member, org string) error {
	if m.Role != Admin || m.Org != org {
		return fmt.Errorf("%w: %s is not an admin of %s", ErrWrongRole, &m, org)
	}
	return nil
}
