package provision

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/p2p"
)

// Files of the network CA inside a network folder. The key signs the
// certificate of every node that joins; keep it off the nodes.
const (
	networkCACert = "ca.pem"
	networkCAKey  = "ca.key"
)

// Validity of the certificates Init and NewJoiningHome issue.
const (
	caValidity   = 20 * 365 * 24 * time.Hour
	nodeValidity = 10 * 365 * 24 * time.Hour
)

// NetworkDir is the folder of a network's CA inside a network folder.
func NetworkDir(home string) string { return filepath.Join(home, "network") }

// NetworkCACert is the path of the network CA's certificate in a network
// folder.
func NetworkCACert(home string) string { return filepath.Join(NetworkDir(home), networkCACert) }

// NewNetworkCA creates the network CA of the network folder home unless
// it exists.
func NewNetworkCA(home, chainID string, now time.Time) error {
	dir := NetworkDir(home)
	if _, err := os.Stat(filepath.Join(dir, networkCAKey)); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("provision: network CA: %w", err)
	}
	cert, key, err := p2p.NewCA(chainID+" network CA", now, caValidity)
	if err != nil {
		return fmt.Errorf("provision: network CA: %w", err)
	}
	if err := writeNew(filepath.Join(dir, networkCAKey), key, 0o600); err != nil {
		return fmt.Errorf("provision: network CA: %w", err)
	}
	if err := writeNew(filepath.Join(dir, networkCACert), cert, 0o644); err != nil {
		return fmt.Errorf("provision: network CA: %w", err)
	}
	return nil
}

// IssueNodeTLS writes a node's TLS material into its home: the network CA
// certificate and a certificate for nodeID signed by the network CA of the
// network folder netHome. Existing files are left alone.
func IssueNodeTLS(netHome, nodeHome, nodeID string, now time.Time) error {
	if _, err := os.Stat(filepath.Join(nodeHome, config.CertFile)); err == nil {
		return nil
	}
	dir := NetworkDir(netHome)
	caCert, err := os.ReadFile(filepath.Join(dir, networkCACert))
	if err != nil {
		return fmt.Errorf("provision: network CA: %w", err)
	}
	caKey, err := os.ReadFile(filepath.Join(dir, networkCAKey))
	if err != nil {
		return fmt.Errorf("provision: network CA key: %w", err)
	}
	cert, key, err := p2p.IssueNodeCert(caCert, caKey, nodeID, []string{"127.0.0.1", "localhost"}, now, nodeValidity)
	if err != nil {
		return fmt.Errorf("provision: certificate of %s: %w", nodeID, err)
	}
	if err := os.MkdirAll(filepath.Join(nodeHome, config.TLSDir), 0o700); err != nil {
		return fmt.Errorf("provision: certificate of %s: %w", nodeID, err)
	}
	for _, f := range []struct {
		name string
		b    []byte
		perm os.FileMode
	}{{config.CACertFile, caCert, 0o644}, {config.KeyFile, key, 0o600}, {config.CertFile, cert, 0o644}} {
		if err := writeNew(filepath.Join(nodeHome, f.name), f.b, f.perm); err != nil {
			return fmt.Errorf("provision: certificate of %s: %w", nodeID, err)
		}
	}
	return nil
}

// writeJSON writes v as indented JSON with writeNew.
func writeJSON(path string, v any, perm os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeNew(path, append(b, '\n'), perm)
}

// writeNew creates a file with b, durably; it fails if the file exists.
// Its errors name the file; callers add the prefix.
func writeNew(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
