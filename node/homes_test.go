package node

import (
	"math/big"
	"time"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
)

// The tests of this package run nodes in homes made as `accord init` makes
// them, by package provision. provision imports node, so tests inside
// package node cannot import it: homes_ext_test.go, in package node_test,
// sets these hooks to provision's functions before any test runs.
var (
	// Init is provision.Init.
	Init func(InitOptions) (*InitResult, error)
	// NetworkTLS makes the network CA of chain chainID in the network
	// folder home and a certificate for nodeID in nodeHome, as a
	// multi-node Init does.
	NetworkTLS func(home, chainID, nodeHome, nodeID string, now time.Time) error
	// NetworkCACert, OrgDir, IssueCert and NextSerial are provision's.
	NetworkCACert func(home string) string
	OrgDir        func(home string, i int) string
	IssueCert     func(orgDir string, ks *keystore.Store, keyName, name string, role identity.Role, now time.Time) error
	NextSerial    func(orgDir string) (*big.Int, error)
	// AdminKey is provision.AdminKey, the issuer key's name.
	AdminKey string
)

// CAValidity is how long the CAs these tests make are valid.
const CAValidity = 10 * 365 * 24 * time.Hour

// InitOptions are the fields of provision.Options these tests set.
type InitOptions struct {
	Home     string
	Crypto   crypto.Scheme
	BasePort int
	Now      time.Time
	Orgs     int
	Identity string
}

// InitResult is what of provision.Result these tests read.
type InitResult struct {
	ChainID string
	KeysDir string
	Nodes   []InitNode
}

// InitNode is a node home that Init made.
type InitNode struct{ Home string }
