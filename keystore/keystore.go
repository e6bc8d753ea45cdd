// Package keystore keeps named signing keys in a folder, one JSON file per
// key, readable only by their owner. It is a development convenience for the
// CLI and the bench tool; production signers keep keys in an HSM or a wallet.
// It must not be used by a node to hold anything but its own keys.
package keystore

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

var (
	// ErrNotFound is returned for a name with no key.
	ErrNotFound = errors.New("no such key")
	// ErrExists is returned when creating a name that is taken.
	ErrExists = errors.New("key already exists")
	// ErrBadName is returned for names outside [A-Za-z0-9_.-]{1,64}.
	ErrBadName = errors.New("bad key name: use 1 to 64 letters, digits, '.', '_' or '-'")
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Key is a named private key.
type Key struct {
	Name    string
	Scheme  crypto.Scheme
	Address types.Address
	Private crypto.PrivateKey
}

type file struct {
	Name       string `json:"name"`
	Scheme     string `json:"scheme"`
	Address    string `json:"address"`
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key"`
}

// Store is a folder of keys.
type Store struct{ dir string }

// Open returns the key store in dir, creating the folder if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the folder the keys live in.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(name string) string { return filepath.Join(s.dir, name+".json") }

// New creates a key named name with a fresh random key of scheme.
func (s *Store) New(name string, scheme crypto.Scheme) (*Key, error) {
	priv, err := crypto.GenerateKey(scheme, nil)
	if err != nil {
		return nil, err
	}
	return s.Import(name, priv)
}

// Import stores priv under name.
func (s *Store) Import(name string, priv crypto.PrivateKey) (*Key, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	pub := priv.Public().Bytes()
	k := &Key{Name: name, Scheme: priv.Scheme(), Address: types.AddressOf(priv.Scheme(), pub), Private: priv}
	b, err := json.MarshalIndent(file{
		Name:       name,
		Scheme:     k.Scheme.String(),
		Address:    k.Address.String(),
		PublicKey:  hex.EncodeToString(pub),
		PrivateKey: hex.EncodeToString(priv.Bytes()),
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.path(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %q in %s", ErrExists, name, s.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return k, f.Close()
}

// Get loads the key named name.
func (s *Store) Get(name string) (*Key, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q in %s", ErrNotFound, name, s.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("keystore: %s: %w", s.path(name), err)
	}
	scheme, err := crypto.ParseScheme(f.Scheme)
	if err != nil {
		return nil, fmt.Errorf("keystore: %s: %w", s.path(name), err)
	}
	raw, err := hex.DecodeString(f.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("keystore: %s: private key: %w", s.path(name), err)
	}
	priv, err := crypto.PrivateKeyFromBytes(scheme, raw)
	if err != nil {
		return nil, fmt.Errorf("keystore: %s: %w", s.path(name), err)
	}
	return &Key{Name: name, Scheme: scheme, Address: types.AddressOf(scheme, priv.Public().Bytes()), Private: priv}, nil
}

// List returns every key, sorted by name.
func (s *Store) List() ([]*Key, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	var keys []*Key
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || !nameRE.MatchString(name) {
			continue
		}
		k, err := s.Get(name)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Name < keys[j].Name })
	return keys, nil
}
