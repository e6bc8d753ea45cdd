package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/keystore"
)

// InitOptions configures Init. Zero fields take the documented defaults.
type InitOptions struct {
	Home     string        // required: the folder to create the network in
	ChainID  string        // default "accord-dev"
	Crypto   crypto.Scheme // scheme of the keys made; default Ed25519
	Hash     crypto.Hash   // chain hash; default SM3 for SM2 keys, else SHA-256
	Nodes    int           // number of node homes; default 1
	BasePort int           // node i listens on BasePort+10*i; default 7070
	Now      time.Time     // genesis time; default time.Now()
	// Orgs, when above 0, makes a permissioned chain of that many
	// organisations (see initOrgs); Crypto must then be SM2 or P256.
	Orgs     int
	Identity string // "cert" (default) or "key"; with Orgs only
}

// InitNode describes one node home made by Init.
type InitNode struct {
	Home string `json:"home"`
	API  string `json:"api"`
}

// InitResult is what Init made.
type InitResult struct {
	ChainID string     `json:"chain_id"`
	KeysDir string     `json:"keys_dir"`
	Admin   string     `json:"admin"`
	Nodes   []InitNode `json:"nodes"`
	Orgs    []InitOrg  `json:"orgs,omitempty"`
}

// ErrInitialised is returned when the home already holds a network.
var ErrInitialised = errors.New("already initialised")

// AdminKey is the name of the issuer key Init creates.
const AdminKey = "admin"

// NodeHome is the home of node i inside a network folder.
func NodeHome(home string, i int) string { return filepath.Join(home, "node"+strconv.Itoa(i)) }

// KeysDir is the key folder inside a network folder.
func KeysDir(home string) string { return filepath.Join(home, "keys") }

// Initialised reports whether home already holds a network made by Init.
func Initialised(home string) bool {
	_, err := os.Stat(filepath.Join(NodeHome(home, 0), GenesisFile))
	return err == nil
}

// Init creates a network folder: keys/admin.json (the token issuer) and one
// home per node with config, genesis and node key.
func Init(o InitOptions) (*InitResult, error) {
	if o.Home == "" {
		return nil, errors.New("init: --home is required")
	}
	if o.ChainID == "" {
		o.ChainID = "accord-dev"
	}
	if o.Crypto == 0 {
		o.Crypto = crypto.Ed25519
	}
	if !o.Crypto.Valid() {
		return nil, fmt.Errorf("init: %w", crypto.ErrUnknownScheme)
	}
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
		if o.Crypto == crypto.SM2 {
			o.Hash = crypto.SM3
		}
	}
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.Nodes < 1 || o.Nodes > 64 {
		return nil, fmt.Errorf("init: --nodes %d out of range [1, 64]", o.Nodes)
	}
	if o.BasePort == 0 {
		o.BasePort = 7070
	}
	if o.BasePort < 1024 || o.BasePort+10*o.Nodes > 65535 {
		return nil, fmt.Errorf("init: --base-port %d leaves no room for %d nodes", o.BasePort, o.Nodes)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if Initialised(o.Home) {
		return nil, fmt.Errorf("init: %s: %w", o.Home, ErrInitialised)
	}
	ks, err := keystore.Open(KeysDir(o.Home))
	if err != nil {
		return nil, err
	}
	admin, err := ks.Get(AdminKey)
	if errors.Is(err, keystore.ErrNotFound) {
		admin, err = ks.New(AdminKey, o.Crypto)
	}
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	g := Genesis{
		ChainID: o.ChainID,
		Time:    uint64(o.Now.UnixMilli()),
		Hash:    o.Hash.String(),
		Crypto:  o.Crypto.String(),
		Token:   GenesisToken{Issuer: admin.Address.String()},
	}
	res := &InitResult{ChainID: o.ChainID, KeysDir: ks.Dir(), Admin: admin.Address.String()}
	if o.Orgs > 0 {
		if g.Identity, res.Orgs, err = initOrgs(o, ks); err != nil {
			return nil, err
		}
	}
	for i := 0; i < o.Nodes; i++ {
		home := NodeHome(o.Home, i)
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, fmt.Errorf("init: %w", err)
		}
		cfg := DefaultConfig()
		cfg.API = "127.0.0.1:" + strconv.Itoa(o.BasePort+10*i)
		nks, err := keystore.Open(home)
		if err != nil {
			return nil, err
		}
		if _, err := nks.New("node_key", crypto.Ed25519); err != nil && !errors.Is(err, keystore.ErrExists) {
			return nil, fmt.Errorf("init: node key: %w", err)
		}
		for _, f := range []struct {
			name string
			v    any
		}{{ConfigFile, cfg}, {GenesisFile, g}} {
			if err := WriteJSON(filepath.Join(home, f.name), f.v, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("init: %w", err)
			}
		}
		res.Nodes = append(res.Nodes, InitNode{Home: home, API: "http://" + cfg.API})
	}
	return res, nil
}
