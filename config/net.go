package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"
)

// Raft is the raft section of config.json: who this node is in the
// network, who the others are, and the engine's timing and block limits.
// Zero fields take the defaults documented on each field.
type Raft struct {
	// ID is this node's Raft id: non-zero, unique in the network.
	ID uint64 `json:"id"`
	// Join marks a node added to a running network with `accord node
	// add`: it starts with an empty log and waits for the leader.
	Join bool `json:"join,omitempty"`
	// Peers lists every node of the network as it was made, this one
	// included. Nodes added or removed later are remembered in the store.
	Peers []Peer `json:"peers"`
	// TickInterval is Raft's clock tick, e.g. "100ms". Default 100ms.
	TickInterval string `json:"tick_interval,omitempty"`
	// ElectionTicks is how many ticks a follower waits for the leader
	// before it campaigns. Default 10.
	ElectionTicks int `json:"election_ticks,omitempty"`
	// HeartbeatTicks is the leader's heartbeat period in ticks. Default 1.
	HeartbeatTicks int `json:"heartbeat_ticks,omitempty"`
	// BlockInterval is the longest a ready transaction waits for a block,
	// e.g. "100ms". Default 100ms.
	BlockInterval string `json:"block_interval,omitempty"`
	// MaxBlockTxs caps transactions per block. Default 10000.
	MaxBlockTxs int `json:"max_block_txs,omitempty"`
	// MaxBlockBytes caps a block's transaction bytes. Default 16 MiB.
	MaxBlockBytes int `json:"max_block_bytes,omitempty"`
	// MaxInflightBlocks caps blocks the leader proposed that are not yet
	// applied. Default 4.
	MaxInflightBlocks int `json:"max_inflight_blocks,omitempty"`
	// SnapshotEntries is how many applied log entries pass between log
	// compactions; a node further behind than the log catches up by block
	// sync. Default 10000.
	SnapshotEntries uint64 `json:"snapshot_entries,omitempty"`
}

// Peer names one node of the network.
type Peer struct {
	ID     uint64 `json:"id"`      // Raft id
	NodeID string `json:"node_id"` // its name: the common name of its certificate
	P2P    string `json:"p2p"`     // host:port of its node-to-node listener
	API    string `json:"api"`     // host:port of its API, for status and tools
	// PubKey is the hex public key of its node key: its consensus key as a
	// BFT validator (consensus "bft" only).
	PubKey string `json:"pub_key,omitempty"`
}

// P2P is the p2p section of config.json: the node-to-node listener
// and its mutual-TLS material.
type P2P struct {
	// Listen is the node-to-node address. Default: this node's p2p address
	// in raft.peers.
	Listen string `json:"listen,omitempty"`
	// CACert, Cert and Key are PEM files, relative to the node home: the
	// network CA's certificate and this node's certificate and key.
	// Defaults tls/ca.pem, tls/node.pem and tls/node.key.
	CACert string `json:"ca_cert,omitempty"`
	Cert   string `json:"cert,omitempty"`
	Key    string `json:"key,omitempty"`
}

// Files of the default TLS layout inside a node home, and the Raft log's
// folder.
const (
	RaftDir = "raft"
	// RaftIDFile records the Raft id that owns the node's chain (outside
	// RaftDir, so that it survives the loss of the Raft log).
	RaftIDFile = "raft_id"
	TLSDir     = "tls"
	CACertFile = "tls/ca.pem"
	CertFile   = "tls/node.pem"
	KeyFile    = "tls/node.key"
)

// Networked reports whether the node runs a network engine (raft or bft),
// configured by the raft and p2p sections.
func (c Node) Networked() bool { return c.Consensus == "raft" || c.Consensus == "bft" }

func (c *Node) ensureNetDefaults() {
	if !c.Networked() {
		return
	}
	if c.Consensus == "bft" && c.BFT == nil {
		c.BFT = &BFT{}
	}
	if c.Raft == nil {
		c.Raft = &Raft{}
	}
	if c.P2P == nil {
		c.P2P = &P2P{}
	}
	if c.P2P.CACert == "" {
		c.P2P.CACert = CACertFile
	}
	if c.P2P.Cert == "" {
		c.P2P.Cert = CertFile
	}
	if c.P2P.Key == "" {
		c.P2P.Key = KeyFile
	}
	if c.P2P.Listen == "" {
		if p, ok := c.Raft.self(); ok {
			c.P2P.Listen = p.P2P
		}
	}
}

// self returns this node's entry in Peers.
func (r Raft) self() (Peer, bool) {
	for _, p := range r.Peers {
		if p.ID == r.ID {
			return p, true
		}
	}
	return Peer{}, false
}

// validateNet checks the raft and p2p sections when consensus is raft or
// bft.
func (c Node) validateNet() error {
	if !c.Networked() {
		return nil
	}
	if c.Raft == nil || c.P2P == nil {
		return fmt.Errorf("config: consensus %s needs the raft and p2p sections", c.Consensus)
	}
	if c.Consensus == "bft" {
		if err := c.validateBFT(); err != nil {
			return err
		}
	}
	r := *c.Raft
	if r.ID == 0 {
		return errors.New("config: raft.id must be non-zero")
	}
	ids := map[uint64]bool{}
	names := map[string]bool{}
	for _, p := range r.Peers {
		switch {
		case p.ID == 0:
			return errors.New("config: raft.peers: every id must be non-zero")
		case ids[p.ID]:
			return fmt.Errorf("config: raft.peers: id %d twice", p.ID)
		case p.NodeID == "" || names[p.NodeID]:
			return fmt.Errorf("config: raft.peers: node_id %q empty or used twice", p.NodeID)
		}
		if _, _, err := net.SplitHostPort(p.P2P); err != nil {
			return fmt.Errorf("config: raft.peers: node %d: p2p address %q: %w", p.ID, p.P2P, err)
		}
		ids[p.ID], names[p.NodeID] = true, true
	}
	if _, ok := r.self(); !ok && !r.Join {
		return fmt.Errorf("config: raft.id %d is not in raft.peers (set raft.join for a node added later)", r.ID)
	}
	if r.Join && len(r.Peers) == 0 {
		return errors.New("config: raft.join needs raft.peers to list at least one running node to dial")
	}
	if _, _, err := net.SplitHostPort(c.P2P.Listen); err != nil {
		return fmt.Errorf("config: p2p.listen %q: %w", c.P2P.Listen, err)
	}
	for name, v := range map[string]string{"tick_interval": r.TickInterval, "block_interval": r.BlockInterval} {
		if v == "" {
			continue
		}
		if d, err := time.ParseDuration(v); err != nil || d < time.Millisecond || d > 10*time.Second {
			return fmt.Errorf("config: raft.%s %q: want a duration in [1ms, 10s]", name, v)
		}
	}
	return nil
}

// BFT is the bft section of config.json. The genesis validators are
// raft.peers (each with its pub_key), the same list on every node; after a
// validator set change the node's bft folder records the set.
type BFT struct {
	// TickInterval is the engine's clock tick, e.g. "100ms". Default 100ms.
	TickInterval string `json:"tick_interval,omitempty"`
	// RoundTicks is how many ticks a round lasts before a validator times
	// out (doubling while rounds keep failing). Default 10.
	RoundTicks int `json:"round_ticks,omitempty"`
	// BlockInterval is the longest a leader with no transactions waits
	// before proposing an empty block. Default: a third of the round.
	BlockInterval string `json:"block_interval,omitempty"`
	// MaxBlockTxs caps transactions per block. Default 10000.
	MaxBlockTxs int `json:"max_block_txs,omitempty"`
	// MaxBlockBytes caps a block's transaction bytes. Default 16 MiB.
	MaxBlockBytes int `json:"max_block_bytes,omitempty"`
}

func (c Node) validateBFT() error {
	// A joining node (raft.join) lists the genesis validators: it starts
	// from genesis and follows the validator set changes from there.
	for _, p := range c.Raft.Peers {
		if b, err := hex.DecodeString(p.PubKey); err != nil || len(b) == 0 {
			return fmt.Errorf("config: raft.peers: node %s: pub_key %q: want its node key's public key in hex", p.NodeID, p.PubKey)
		}
	}
	b := c.BFT
	if b == nil {
		return nil
	}
	for name, v := range map[string]string{"tick_interval": b.TickInterval, "block_interval": b.BlockInterval} {
		if v == "" {
			continue
		}
		if d, err := time.ParseDuration(v); err != nil || d < time.Millisecond || d > 10*time.Second {
			return fmt.Errorf("config: bft.%s %q: want a duration in [1ms, 10s]", name, v)
		}
	}
	if b.RoundTicks < 0 || b.RoundTicks > 1000 || b.MaxBlockTxs < 0 || b.MaxBlockBytes < 0 {
		return errors.New("config: bft: round_ticks must be 0 to 1000, and the block limits not negative")
	}
	return nil
}
