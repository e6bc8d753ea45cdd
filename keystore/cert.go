package keystore

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CertPath is where the certificate of key name lives: name.pem beside
// name.json. A key with a certificate signs on a permissioned chain as the
// member the certificate names.
func (s *Store) CertPath(name string) string { return filepath.Join(s.dir, name+".pem") }

// Cert returns the DER certificate of key name, or nil when it has none.
func (s *Store) Cert(name string) ([]byte, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	b, err := os.ReadFile(s.CertPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("keystore: %s holds no PEM CERTIFICATE", s.CertPath(name))
	}
	return blk.Bytes, nil
}

// PutCert stores the DER certificate of key name as PEM, replacing any.
func (s *Store) PutCert(name string, der []byte) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(s.CertPath(name), b, 0o644); err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	return nil
}
