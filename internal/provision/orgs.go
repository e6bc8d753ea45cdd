package provision

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/genesis"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
)

// Validity of what Init and IssueCert make.
const (
	CAValidity     = 10 * 365 * 24 * time.Hour
	MemberValidity = 2 * 365 * 24 * time.Hour
)

// Org describes one organisation made by Init.
type Org struct {
	ID     string `json:"id"`
	Dir    string `json:"dir"`
	Admin  string `json:"admin"`  // key name in keys_dir
	Client string `json:"client"` // key name in keys_dir
}

// OrgDir is the folder of organisation i (1-based) inside a network folder.
func OrgDir(home string, i int) string {
	return filepath.Join(home, "orgs", "org"+strconv.Itoa(i))
}

// initOrgs makes o.Orgs organisations for Init, o already validated: per
// organisation a CA (DIR/orgs/orgN/ca.pem, ca.key), an admin and a client
// key in ks with their certificates beside them, and the genesis identity
// section.
func initOrgs(o Options, ks *keystore.Store) (*genesis.Identity, []Org, error) {
	mode := identity.CertMode
	if o.Identity != "" {
		m, err := identity.ParseMode(o.Identity)
		if err != nil {
			return nil, nil, fmt.Errorf("provision: %w", err) // Validate refuses it first
		}
		mode = m
	}
	gi := &genesis.Identity{
		Mode: mode.String(),
		Policies: []genesis.Policy{
			{Method: "token.mint", Policy: "SET(1 of org1; admin)"},
			{Method: "token.burn", Policy: "SET(1 of org1; admin)"},
			{Method: "pay.add_merchant", Policy: "SET(1 of org1; admin)"},
		},
	}
	var orgs []Org
	for i := 1; i <= o.Orgs; i++ {
		id := "org" + strconv.Itoa(i)
		dir := OrgDir(o.Home, i)
		if err := NewOrgCA(dir, id, o.Crypto, o.Now); err != nil {
			return nil, nil, err
		}
		caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil {
			return nil, nil, fmt.Errorf("provision: %w", err)
		}
		gi.Orgs = append(gi.Orgs, genesis.Org{ID: id, Scheme: o.Crypto.String(), CAs: []string{string(caPEM)}})
		org := Org{ID: id, Dir: dir, Admin: id + "-admin", Client: id + "-client"}
		for _, m := range []struct {
			name string
			role identity.Role
		}{{org.Admin, identity.Admin}, {org.Client, identity.Client}} {
			k, err := ks.New(m.name, o.Crypto)
			if err != nil {
				return nil, nil, fmt.Errorf("provision: %w", err)
			}
			if mode == identity.KeyMode {
				gi.Keys = append(gi.Keys, genesis.Key{Org: id, Role: m.role.String(), Name: m.name, Scheme: k.Scheme.String(),
					PublicKey: hex.EncodeToString(k.Private.Public().Bytes())})
				continue
			}
			if _, err := IssueCert(dir, ks, m.name, m.name, m.role, o.Now); err != nil {
				return nil, nil, err
			}
		}
		orgs = append(orgs, org)
	}
	return gi, orgs, nil
}

// NewOrgCA makes a CA for organisation id in dir (ca.pem, ca.key), which
// must not hold one: for Init, and for an organisation about to join.
func NewOrgCA(dir, id string, scheme crypto.Scheme, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("provision: ca: %w", err)
	}
	ca, err := identity.NewCA(id, scheme, now.Add(-time.Minute), CAValidity, nil)
	if err != nil {
		return fmt.Errorf("provision: ca: %w", err)
	}
	kp, err := identity.KeyPEM(ca.Key)
	if err != nil {
		return fmt.Errorf("provision: ca: %w", err)
	}
	if err := writeNew(filepath.Join(dir, "ca.key"), kp, 0o600); err != nil {
		return fmt.Errorf("provision: ca: %w", err)
	}
	if err := writeNew(filepath.Join(dir, "ca.pem"), ca.Cert.PEM(), 0o644); err != nil {
		return fmt.Errorf("provision: ca: %w", err)
	}
	return nil
}

// ErrNotOrgDir is returned by IssueCert for a folder without an
// organisation's CA (ca.pem and ca.key, as Init and NewOrgCA make them).
var ErrNotOrgDir = errors.New("not an organisation folder (no ca.pem)")

// IssuedCert is what IssueCert made.
type IssuedCert struct {
	Org      string `json:"org"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Serial   string `json:"serial"`
	Key      string `json:"key"` // key name in the key folder
	Address  string `json:"address"`
	CertFile string `json:"cert_file"`
	NotAfter string `json:"not_after"`
}

// IssueCert issues, with the CA in orgDir (ca.pem, ca.key), a certificate
// for key keyName of ks naming the member name with role, valid from now
// for MemberValidity, under the organisation's next serial (kept in
// orgDir/serial). The certificate is stored beside the key.
func IssueCert(orgDir string, ks *keystore.Store, keyName, name string, role identity.Role, now time.Time) (*IssuedCert, error) {
	cp, err := os.ReadFile(filepath.Join(orgDir, "ca.pem"))
	if err != nil {
		return nil, fmt.Errorf("provision: %s: %w: %w", orgDir, ErrNotOrgDir, err)
	}
	kp, err := os.ReadFile(filepath.Join(orgDir, "ca.key"))
	if err != nil {
		return nil, fmt.Errorf("provision: cert: %w", err)
	}
	ca, err := identity.LoadCA(cp, kp)
	if err != nil {
		return nil, fmt.Errorf("provision: cert: %w", err)
	}
	k, err := ks.Get(keyName)
	if err != nil {
		return nil, fmt.Errorf("provision: cert: %w", err)
	}
	serial, err := NextSerial(orgDir)
	if err != nil {
		return nil, err
	}
	nb, na := now.Add(-time.Minute).Truncate(time.Second), now.Add(MemberValidity).Truncate(time.Second)
	der, err := ca.Issue(name, role, k.Private.Public(), nb, na, serial, nil)
	if err != nil {
		return nil, fmt.Errorf("provision: cert: %w", err)
	}
	if err := ks.PutCert(keyName, der); err != nil {
		return nil, fmt.Errorf("provision: cert: %w", err)
	}
	return &IssuedCert{Org: ca.Cert.Org, Name: name, Role: role.String(), Serial: serial.Text(16), Key: keyName,
		Address: k.Address.String(), CertFile: ks.CertPath(keyName), NotAfter: na.UTC().Format(time.RFC3339)}, nil
}

// NextSerial takes the organisation's next certificate serial from
// orgDir/serial: the CA has 1, members count up from 2. Whoever issues a
// certificate with the organisation's CA outside IssueCert takes its
// serial here, so that serials never repeat.
func NextSerial(orgDir string) (*big.Int, error) {
	p := filepath.Join(orgDir, "serial")
	n := big.NewInt(2)
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		if _, ok := n.SetString(strings.TrimSpace(string(b)), 16); !ok || n.Sign() <= 0 {
			return nil, fmt.Errorf("provision: cert: %s does not hold a hex serial", p)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("provision: cert: %w", err)
	}
	next := new(big.Int).Add(n, big.NewInt(1))
	if err := os.WriteFile(p, []byte(next.Text(16)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("provision: cert: %w", err)
	}
	return n, nil
}
