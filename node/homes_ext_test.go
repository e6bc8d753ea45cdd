package node_test

import (
	"time"

	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/node"
)

// init sets the hooks of homes_test.go, through which the tests of package
// node make their homes with package provision.
func init() {
	node.Init = func(o node.InitOptions) (*node.InitResult, error) {
		res, err := provision.Init(provision.Options{Home: o.Home, Crypto: o.Crypto, BasePort: o.BasePort, Now: o.Now, Orgs: o.Orgs, Identity: o.Identity})
		if err != nil {
			return nil, err
		}
		r := &node.InitResult{ChainID: res.ChainID, KeysDir: res.KeysDir}
		for _, n := range res.Nodes {
			r.Nodes = append(r.Nodes, node.InitNode{Home: n.Home})
		}
		return r, nil
	}
	node.NetworkTLS = func(home, chainID, nodeHome, nodeID string, now time.Time) error {
		if err := provision.NewNetworkCA(home, chainID, now); err != nil {
			return err
		}
		return provision.IssueNodeTLS(home, nodeHome, nodeID, now)
	}
	node.NetworkCACert = provision.NetworkCACert
	node.OrgDir = provision.OrgDir
	node.IssueCert = func(orgDir string, ks *keystore.Store, keyName, name string, role identity.Role, now time.Time) error {
		_, err := provision.IssueCert(orgDir, ks, keyName, name, role, now)
		return err
	}
	node.NextSerial = provision.NextSerial
	node.AdminKey = provision.AdminKey
}
