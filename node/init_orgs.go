package node

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
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
)

// Validity of what Init and IssueCert make.
const (
	CAValidity     = 10 * 365 * 24 * time.Hour
	MemberValidity = 2 * 365 * 24 * time.Hour
)

// InitOrg describes one organisation made by Init.
type InitOrg struct {
	ID     string `json:"id"`
	Dir    string `json:"dir"`
	Admin  string `json:"admin"`  // key name in keys_dir
	Client string `json:"client"` // key name in keys_dir
}

// OrgDir is the folder of organisation i (1-based) inside a network folder.
func OrgDir(home string, i int) string {
	return filepath.Join(home, "orgs", "org"+strconv.Itoa(i))
}

// initOrgs makes K organisations for Init: per organisation a CA
// (DIR/orgs/orgN/ca.pem, ca.key), an admin and a client key in ks with
// their certificates beside them, and the genesis identity section.
func initOrgs(o InitOptions, ks *keystore.Store) (*GenesisIdentity, []InitOrg, error) {
	if o.Orgs < 1 || o.Orgs > 64 {
		return nil, nil, fmt.Errorf("init: --orgs %d out of range [1, 64]", o.Orgs)
	}
	if o.Crypto != crypto.SM2 && o.Crypto != crypto.P256 {
		return nil, nil, fmt.Errorf("init: --orgs needs --crypto sm2 or p256 for the organisations' CAs, not %s", o.Crypto)
	}
	mode := identity.CertMode
	if o.Identity != "" {
		m, err := identity.ParseMode(o.Identity)
		if err != nil {
			return nil, nil, fmt.Errorf("init: --identity: %w", err)
		}
		mode = m
	}
	gi := &GenesisIdentity{
		Mode: mode.String(),
		Policies: []GenesisPolicy{
			{Method: "token.mint", Policy: "SET(1 of org1; admin)"},
			{Method: "token.burn", Policy: "SET(1 of org1; admin)"},
		},
	}
	var orgs []InitOrg
	for i := 1; i <= o.Orgs; i++ {
		id := "org" + strconv.Itoa(i)
		dir := OrgDir(o.Home, i)
		if err := NewOrgCA(dir, id, o.Crypto, o.Now); err != nil {
			return nil, nil, err
		}
		caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
		if err != nil {
			return nil, nil, fmt.Errorf("init: %w", err)
		}
		gi.Orgs = append(gi.Orgs, GenesisOrg{ID: id, Scheme: o.Crypto.String(), CAs: []string{string(caPEM)}})
		org := InitOrg{ID: id, Dir: dir, Admin: id + "-admin", Client: id + "-client"}
		for _, m := range []struct {
			name string
			role identity.Role
		}{{org.Admin, identity.Admin}, {org.Client, identity.Client}} {
			k, err := ks.New(m.name, o.Crypto)
			if err != nil {
				return nil, nil, fmt.Errorf("init: %w", err)
			}
			if mode == identity.KeyMode {
				gi.Keys = append(gi.Keys, GenesisKey{Org: id, Role: m.role.String(), Name: m.name, Scheme: k.Scheme.String(),
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
		return fmt.Errorf("ca: %w", err)
	}
	ca, err := identity.NewCA(id, scheme, now.Add(-time.Minute), CAValidity, nil)
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	kp, err := identity.KeyPEM(ca.Key)
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	if err := writeNew(filepath.Join(dir, "ca.key"), kp, 0o600); err != nil {
		return err
	}
	return writeNew(filepath.Join(dir, "ca.pem"), ca.Cert.PEM(), 0o644)
}

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
		return nil, fmt.Errorf("cert: %s is not an organisation folder made by `accord init --orgs`: %w", orgDir, err)
	}
	kp, err := os.ReadFile(filepath.Join(orgDir, "ca.key"))
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	ca, err := identity.LoadCA(cp, kp)
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	k, err := ks.Get(keyName)
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	serial, err := nextSerial(orgDir)
	if err != nil {
		return nil, err
	}
	nb, na := now.Add(-time.Minute).Truncate(time.Second), now.Add(MemberValidity).Truncate(time.Second)
	der, err := ca.Issue(name, role, k.Private.Public(), nb, na, serial, nil)
	if err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	if err := ks.PutCert(keyName, der); err != nil {
		return nil, err
	}
	return &IssuedCert{Org: ca.Cert.Org, Name: name, Role: role.String(), Serial: serial.Text(16), Key: keyName,
		Address: k.Address.String(), CertFile: ks.CertPath(keyName), NotAfter: na.UTC().Format(time.RFC3339)}, nil
}

// nextSerial takes the organisation's next certificate serial: the CA has
// 1, members count up from 2.
func nextSerial(orgDir string) (*big.Int, error) {
	p := filepath.Join(orgDir, "serial")
	n := big.NewInt(2)
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		if _, ok := n.SetString(strings.TrimSpace(string(b)), 16); !ok || n.Sign() <= 0 {
			return nil, fmt.Errorf("cert: %s does not hold a hex serial", p)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("cert: %w", err)
	}
	next := new(big.Int).Add(n, big.NewInt(1))
	if err := os.WriteFile(p, []byte(next.Text(16)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("cert: %w", err)
	}
	return n, nil
}
