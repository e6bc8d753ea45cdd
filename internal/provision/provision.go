// Package provision makes what a node needs before it first starts: a node
// home (config, genesis, node key), a network of such homes, the network CA
// and each node's TLS certificate, organisation CAs and member
// certificates. It writes files and nothing else: it must not open a store
// or run a node, and it takes the formats it writes (config.Node,
// genesis.Doc, the file names in a home) from package node, which reads
// them at start.
//
// Its errors name the fields of its options (Options.Nodes), not the
// command-line flags that set them: the CLI maps a *FieldError to its flag.
package provision

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/genesis"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
)

// MaxNodes and MaxOrgs bound Options.Nodes and Options.Orgs.
const (
	MaxNodes = 64
	MaxOrgs  = 64
)

// Options configures Init. Zero fields take the documented defaults.
type Options struct {
	Home     string        // required: the folder to create the network in
	ChainID  string        // default "accord-dev"
	Crypto   crypto.Scheme // scheme of the keys made; default Ed25519
	Hash     crypto.Hash   // chain hash; default SM3 for SM2 keys, else SHA-256
	Nodes    int           // number of node homes, 1 to MaxNodes; default 1
	BasePort int           // node i listens on BasePort+10*i; default 7070
	Now      time.Time     // genesis time; default time.Now()
	// Orgs, when above 0, makes a permissioned chain of that many
	// organisations (at most MaxOrgs); Crypto must then be SM2 or P256.
	Orgs     int
	Identity string // "cert" (default) or "key"; with Orgs only
	// Consensus is the engine of a network of several nodes: "raft"
	// (default) or "bft", chosen at genesis.
	Consensus string
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *Options) EnsureDefaults() {
	if o.ChainID == "" {
		o.ChainID = "accord-dev"
	}
	if o.Crypto == 0 {
		o.Crypto = crypto.Ed25519
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
	if o.BasePort == 0 {
		o.BasePort = 7070
	}
	if o.Consensus == "" {
		o.Consensus = "raft"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
}

// Validate checks o after EnsureDefaults; a bad field gives a *FieldError.
func (o Options) Validate() error {
	if o.Home == "" {
		return &FieldError{Field: "Options.Home", Msg: "is required"}
	}
	if !o.Crypto.Valid() {
		return &FieldError{Field: "Options.Crypto", Msg: fmt.Sprintf("%s is not known: want ed25519, sm2 or p256", o.Crypto), Err: crypto.ErrUnknownScheme}
	}
	if o.Nodes < 1 || o.Nodes > MaxNodes {
		return &FieldError{Field: "Options.Nodes", Msg: fmt.Sprintf("must be 1 to %d, not %d", MaxNodes, o.Nodes)}
	}
	if o.BasePort < 1024 || o.BasePort+10*o.Nodes > 65535 {
		return &FieldError{Field: "Options.BasePort",
			Msg: fmt.Sprintf("%d leaves no room for %d nodes: node i listens on it plus 10*i, from 1024 to 65535", o.BasePort, o.Nodes)}
	}
	if o.Consensus != "raft" && o.Consensus != "bft" {
		return &FieldError{Field: "Options.Consensus", Msg: fmt.Sprintf("%q is not raft or bft", o.Consensus)}
	}
	if o.Consensus == "bft" && o.Nodes < 4 {
		return &FieldError{Field: "Options.Consensus",
			Msg: fmt.Sprintf("bft needs at least 4 nodes to tolerate a faulty one, not %d (give --nodes 4 or more)", o.Nodes)}
	}
	if o.Orgs < 0 || o.Orgs > MaxOrgs {
		return &FieldError{Field: "Options.Orgs", Msg: fmt.Sprintf("must be 0 (an open chain) to %d, not %d", MaxOrgs, o.Orgs)}
	}
	if o.Orgs > 0 && o.Crypto != crypto.SM2 && o.Crypto != crypto.P256 {
		return &FieldError{Field: "Options.Crypto",
			Msg: fmt.Sprintf("must be sm2 or p256 on a chain of organisations (their CAs), not %s", o.Crypto)}
	}
	if o.Orgs > 0 && o.Identity != "" {
		if _, err := identity.ParseMode(o.Identity); err != nil {
			return &FieldError{Field: "Options.Identity", Msg: fmt.Sprintf("%q is not cert or key", o.Identity), Err: identity.ErrBadConfig}
		}
	}
	return nil
}

// FieldError says which field of Options or JoinOptions is wrong and why.
type FieldError struct {
	Field string // qualified: "Options.Nodes", "JoinOptions.ID"
	Msg   string // what is wrong and what to want, phrased to follow the field's name
	Err   error  // a sentinel it wraps, if any
}

func (e *FieldError) Error() string { return "provision: " + e.Field + " " + e.Msg }

func (e *FieldError) Unwrap() error { return e.Err }

// Node describes one node home made by Init or NewJoiningHome.
type Node struct {
	Home string `json:"home"`
	API  string `json:"api"`
}

// Result is what Init made.
type Result struct {
	ChainID string `json:"chain_id"`
	KeysDir string `json:"keys_dir"`
	// NetworkDir holds the network CA (multi-node networks only).
	NetworkDir string `json:"network_dir,omitempty"`
	Admin      string `json:"admin"`
	Nodes      []Node `json:"nodes"`
	Orgs       []Org  `json:"orgs,omitempty"`
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
	_, err := os.Stat(filepath.Join(NodeHome(home, 0), config.GenesisFile))
	return err == nil
}

// Init creates a network folder: keys/admin.json (the token issuer) and one
// home per node with config, genesis and node key. A network of more than
// one node runs Raft: Init also makes a network CA (network/ca.pem and
// ca.key) and a certificate per node (NODE_HOME/tls), and lists every node
// in each config's raft.peers. Node i's API listens on BasePort+10*i and
// its node-to-node listener on the port after it.
func Init(o Options) (*Result, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if Initialised(o.Home) {
		return nil, fmt.Errorf("provision: %s: %w", o.Home, ErrInitialised)
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
		return nil, fmt.Errorf("provision: %w", err)
	}
	g := genesis.Doc{
		ChainID: o.ChainID,
		Time:    uint64(o.Now.UnixMilli()),
		Hash:    o.Hash.String(),
		Crypto:  o.Crypto.String(),
		Token:   genesis.Token{Issuer: admin.Address.String()},
	}
	res := &Result{ChainID: o.ChainID, KeysDir: ks.Dir(), Admin: admin.Address.String()}
	if o.Orgs > 0 {
		if g.Identity, res.Orgs, err = initOrgs(o, ks); err != nil {
			return nil, err
		}
	}
	var peers []config.Peer
	if o.Nodes > 1 {
		res.NetworkDir = NetworkDir(o.Home)
		if err := NewNetworkCA(o.Home, o.ChainID, o.Now); err != nil {
			return nil, err
		}
		for i := 0; i < o.Nodes; i++ {
			peers = append(peers, config.Peer{
				ID:     uint64(i + 1),
				NodeID: "node" + strconv.Itoa(i),
				P2P:    "127.0.0.1:" + strconv.Itoa(o.BasePort+10*i+1),
				API:    "127.0.0.1:" + strconv.Itoa(o.BasePort+10*i),
			})
		}
	}
	cfgs := make([]config.Node, o.Nodes)
	for i := 0; i < o.Nodes; i++ {
		home := NodeHome(o.Home, i)
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, fmt.Errorf("provision: %w", err)
		}
		cfg := config.Default()
		cfg.API = "127.0.0.1:" + strconv.Itoa(o.BasePort+10*i)
		name := "node" + strconv.Itoa(i)
		if peers != nil {
			cfg.NodeID = name
			cfg.Consensus = o.Consensus
			cfg.Raft = &config.Raft{ID: peers[i].ID, Peers: peers}
			cfg.P2P = &config.P2P{Listen: peers[i].P2P}
			if err := IssueNodeTLS(o.Home, home, name, o.Now); err != nil {
				return nil, err
			}
		}
		cfgs[i] = cfg
		nks, err := keystore.Open(home)
		if err != nil {
			return nil, err
		}
		nk, err := nks.New(config.NodeKeyFile, crypto.Ed25519)
		if errors.Is(err, keystore.ErrExists) {
			nk, err = nks.Get(config.NodeKeyFile)
		}
		if err != nil {
			return nil, fmt.Errorf("provision: node key: %w", err)
		}
		if o.Consensus == "bft" && peers != nil {
			// A BFT validator's consensus key is its node key.
			peers[i].PubKey = hex.EncodeToString(nk.Private.Public().Bytes())
		}
		if g.Identity != nil {
			// On a permissioned chain each node is a consensus member of
			// an organisation, round robin, certified by its CA; genesis
			// lists the nodes.
			org := i%o.Orgs + 1
			ic, err := IssueCert(OrgDir(o.Home, org), nks, config.NodeKeyFile, name, identity.Consensus, o.Now)
			if err != nil {
				return nil, err
			}
			pemBytes, err := os.ReadFile(ic.CertFile)
			if err != nil {
				return nil, fmt.Errorf("provision: %w", err)
			}
			addr := ""
			if peers != nil {
				addr = peers[i].P2P
			}
			g.Identity.Nodes = append(g.Identity.Nodes, governance.Node{ID: name, Org: ic.Org, Addr: addr, CertPEM: string(pemBytes)})
		}
	}
	for i, cfg := range cfgs {
		home := NodeHome(o.Home, i)
		if cfg.Raft != nil {
			// Every node lists the whole network, keys included.
			rc := *cfg.Raft
			rc.Peers = slices.Clone(peers)
			cfg.Raft = &rc
		}
		for _, f := range []struct {
			name string
			v    any
		}{{config.File, cfg}, {config.GenesisFile, g}} {
			if err := writeJSON(filepath.Join(home, f.name), f.v, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("provision: %w", err)
			}
		}
		res.Nodes = append(res.Nodes, Node{Home: home, API: "http://" + cfg.API})
	}
	return res, nil
}

// JoinOptions configures NewJoiningHome.
type JoinOptions struct {
	Network string // the network folder Init made (required)
	// Members is the network's committed member list, from a running
	// node (StatusResponse.members): the new node dials them. Required.
	Members []config.Peer
	// ID is the new node's Raft id (required): above every id the network
	// ever used (StatusResponse.max_raft_id), since ids are never reused.
	// It also names the node and its folder: id N is node N-1, as Init
	// numbers them, so names are never reused either.
	ID  uint64
	API string // API address; default: node0's port + 10 per node
	P2P string // node-to-node address; default: the port after the API's
	Now time.Time
}

// ErrNotJoiningHome is returned by JoiningHome for a home that
// NewJoiningHome did not make.
var ErrNotJoiningHome = errors.New("not a node home made to join a network")

// NewJoiningHome creates the home of a node to be added to a running
// network: the folder node<ID-1>, with the network's genesis, a node key,
// a certificate from the network CA, and a config that joins (raft.join)
// and lists the members as peers to dial. It returns the new
// node's entry; the network must then be asked to admit it.
func NewJoiningHome(o JoinOptions) (*Node, config.Peer, error) {
	var self config.Peer
	if o.Network == "" {
		return nil, self, &FieldError{Field: "JoinOptions.Network", Msg: "is required"}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	first, err := config.Load(NodeHome(o.Network, 0))
	if err != nil {
		return nil, self, fmt.Errorf("provision: reading the network's node0: %w", err)
	}
	if first.Consensus != "raft" && first.Consensus != "bft" {
		return nil, self, fmt.Errorf("provision: %s is a single-node chain: nodes can join a raft or bft network only", o.Network)
	}
	if o.ID == 0 {
		return nil, self, &FieldError{Field: "JoinOptions.ID", Msg: "is required: one above the network's max_raft_id, from a running node"}
	}
	if len(o.Members) == 0 {
		return nil, self, &FieldError{Field: "JoinOptions.Members", Msg: "is required: the network's member list, from a running node"}
	}
	k := int(o.ID - 1)
	name := "node" + strconv.Itoa(k)
	var peers []config.Peer
	for _, p := range o.Members {
		if p.ID == o.ID || p.NodeID == name {
			return nil, self, &FieldError{Field: "JoinOptions.ID", Msg: fmt.Sprintf("%d (name %s) is already a member of the network (%s, id %d)", o.ID, name, p.NodeID, p.ID)}
		}
		peers = append(peers, p)
	}
	if _, err := os.Stat(NodeHome(o.Network, k)); err == nil {
		return nil, self, &FieldError{Field: "JoinOptions.ID", Msg: fmt.Sprintf("%d belongs to the existing folder %s; give another id, or remove the folder if it is a failed attempt", o.ID, NodeHome(o.Network, k))}
	}
	host, port0, err := splitPort(first.API)
	if err != nil {
		return nil, self, fmt.Errorf("provision: node0's api: %w", err)
	}
	if o.API == "" {
		o.API = host + ":" + strconv.Itoa(port0+10*k)
	}
	if o.P2P == "" {
		h, p, err := splitPort(o.API)
		if err != nil {
			return nil, self, &FieldError{Field: "JoinOptions.API", Msg: fmt.Sprintf("%q is not HOST:PORT", o.API)}
		}
		o.P2P = h + ":" + strconv.Itoa(p+1)
	}
	home := NodeHome(o.Network, k)
	self = config.Peer{ID: o.ID, NodeID: "node" + strconv.Itoa(k), P2P: o.P2P, API: o.API}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, self, fmt.Errorf("provision: %w", err)
	}
	g, err := os.ReadFile(filepath.Join(NodeHome(o.Network, 0), config.GenesisFile))
	if err != nil {
		return nil, self, fmt.Errorf("provision: %w", err)
	}
	if err := writeNew(filepath.Join(home, config.GenesisFile), g, 0o600); err != nil {
		return nil, self, fmt.Errorf("provision: %w", err)
	}
	nks, err := keystore.Open(home)
	if err != nil {
		return nil, self, err
	}
	nk, err := nks.New(config.NodeKeyFile, crypto.Ed25519)
	if errors.Is(err, keystore.ErrExists) {
		nk, err = nks.Get(config.NodeKeyFile)
	}
	if err != nil {
		return nil, self, fmt.Errorf("provision: node key: %w", err)
	}
	if err := IssueNodeTLS(o.Network, home, self.NodeID, o.Now); err != nil {
		return nil, self, err
	}
	cfg := config.Default()
	cfg.API = o.API
	cfg.NodeID = self.NodeID
	cfg.Consensus = first.Consensus
	cfg.Raft = &config.Raft{ID: o.ID, Join: true, Peers: append(peers, self)}
	if first.Consensus == "bft" {
		// A new validator starts from genesis: it lists the genesis
		// validators, and its node key is its consensus key.
		self.PubKey = hex.EncodeToString(nk.Private.Public().Bytes())
		cfg.Raft.Peers = slices.Clone(first.Raft.Peers)
		cfg.BFT = first.BFT
	}
	cfg.P2P = &config.P2P{Listen: o.P2P}
	if err := writeJSON(filepath.Join(home, config.File), cfg, 0o600); err != nil {
		return nil, self, fmt.Errorf("provision: %w", err)
	}
	return &Node{Home: home, API: "http://" + o.API}, self, nil
}

func splitPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	return h, n, nil
}

// JoiningHome reads back a home NewJoiningHome made, for admitting it.
func JoiningHome(home string) (*Node, config.Peer, error) {
	cfg, err := config.Load(home)
	if err != nil {
		return nil, config.Peer{}, err
	}
	if cfg.Consensus != "raft" && cfg.Consensus != "bft" || cfg.Raft == nil || !cfg.Raft.Join {
		return nil, config.Peer{}, fmt.Errorf("provision: %s: %w", home, ErrNotJoiningHome)
	}
	if cfg.Consensus == "bft" {
		// Its raft.peers are the genesis validators, without it.
		ks, err := keystore.Open(home)
		if err != nil {
			return nil, config.Peer{}, err
		}
		nk, err := ks.Get(config.NodeKeyFile)
		if err != nil {
			return nil, config.Peer{}, fmt.Errorf("provision: %s: node key: %w", home, err)
		}
		return &Node{Home: home, API: "http://" + cfg.API}, config.Peer{ID: cfg.Raft.ID, NodeID: cfg.NodeID, P2P: cfg.P2P.Listen,
			API: cfg.API, PubKey: hex.EncodeToString(nk.Private.Public().Bytes())}, nil
	}
	for _, p := range cfg.Raft.Peers {
		if p.ID == cfg.Raft.ID {
			return &Node{Home: home, API: "http://" + cfg.API}, p, nil
		}
	}
	return nil, config.Peer{}, fmt.Errorf("provision: %s: raft.peers does not list this node", home)
}
