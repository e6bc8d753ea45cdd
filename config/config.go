// Package config is a node's configuration file, config.json, and the
// layout of a node home (config, genesis, node key, data, Raft log, TLS
// material). It parses, defaults and validates the file; the node reads it
// at start, provisioning writes it.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/accord-chain/accord/consensus/solo"
	"github.com/accord-chain/accord/internal/strictjson"
	"github.com/accord-chain/accord/txpool"
)

// Files and folders inside a node home.
const (
	File        = "config.json"
	GenesisFile = "genesis.json"
	NodeKeyFile = "node_key" // a keystore entry inside the home
	DataDir     = "data"
)

// Node is a node's configuration, read from HOME/config.json. Zero fields
// take the defaults documented on each field.
type Node struct {
	// NodeID names this node in block headers and logs. Default: derived from
	// the node key.
	NodeID string `json:"node_id,omitempty"`
	// API is the address the gRPC and HTTP/JSON API listens on.
	// Default 127.0.0.1:7070.
	API string `json:"api"`
	// APITLS, when present, serves the API over TLS 1.3 on the same
	// address, optionally to consortium members only. Absent: plain
	// HTTP/2 (h2c), for loopback and trusted LANs.
	APITLS *APITLS `json:"api_tls,omitempty"`
	// Consensus selects the engine: "solo" (one node), "raft" or "bft" (a
	// network, configured by the raft and p2p sections; bft also by the
	// bft section).
	Consensus string `json:"consensus"`
	// Solo holds the solo engine's block limits.
	Solo Solo `json:"solo"`
	// Raft and P2P configure a node of a Raft network (consensus "raft").
	Raft *Raft `json:"raft,omitempty"`
	P2P  *P2P  `json:"p2p,omitempty"`
	// BFT holds the BFT engine's timing and block limits (consensus "bft").
	BFT *BFT `json:"bft,omitempty"`
	// Pool holds the transaction pool's limits.
	Pool Pool `json:"pool"`
	// CacheMB is the storage block cache in MiB. Default 256.
	CacheMB int64 `json:"cache_mb,omitempty"`
	// ExecutionWorkers is how many cores execute a block's independent
	// transactions at once. 0 (the default) means every core; 1 forces
	// sequential execution. Either gives the same result, byte for byte.
	ExecutionWorkers int `json:"execution_workers,omitempty"`
	// Pprof serves Go's profiler under /debug/pprof/ on the API port. Off by
	// default: it exposes internals to anyone who can reach the port.
	Pprof bool `json:"pprof,omitempty"`
	// GCPercent is the Go garbage collector's target (GOGC) while the node
	// runs. Default 400: a node allocates per transaction, and collecting
	// four times less often buys about a fifth more throughput on two cores
	// for more memory, which MemoryLimitMB caps. -1 leaves the runtime's
	// setting alone.
	GCPercent int `json:"gc_percent,omitempty"`
	// MemoryLimitMB is the Go runtime's soft memory limit: near it the
	// collector runs as often as it must. Default 1536.
	MemoryLimitMB int64 `json:"memory_limit_mb,omitempty"`
	// Byzantine makes a BFT validator misbehave (accord start --byzantine,
	// a build with -tags byzantine only; for tests). Never in config.json.
	Byzantine string `json:"-"`
}

// Solo mirrors solo.Config with JSON-friendly units.
type Solo struct {
	// BlockInterval is the longest wait for a block, e.g. "100ms". Default 100ms.
	BlockInterval string `json:"block_interval,omitempty"`
	// MaxBlockTxs caps transactions per block. Default 10000.
	MaxBlockTxs int `json:"max_block_txs,omitempty"`
	// MaxBlockBytes caps a block's transaction bytes. Default 16 MiB.
	MaxBlockBytes int `json:"max_block_bytes,omitempty"`
	// EmptyBlocks cuts blocks with no transactions. Default false.
	EmptyBlocks bool `json:"empty_blocks,omitempty"`
}

// Pool mirrors txpool.Config; zero fields take txpool's defaults.
type Pool struct {
	MaxTxs      int    `json:"max_txs,omitempty"`
	MaxBytes    int64  `json:"max_bytes,omitempty"`
	MaxTxBytes  int    `json:"max_tx_bytes,omitempty"`
	NonceWindow uint64 `json:"nonce_window,omitempty"`
	// Workers verify signatures: 0 (the default) means every core, 1 forces
	// sequential verification.
	Workers int `json:"verify_workers,omitempty"`
}

// Default is the configuration `accord init` writes.
func Default() Node {
	return Node{API: "127.0.0.1:7070", Consensus: "solo", Solo: Solo{BlockInterval: "100ms"}}
}

// EnsureDefaults fills zero fields.
func (c *Node) EnsureDefaults() {
	if c.API == "" {
		c.API = "127.0.0.1:7070"
	}
	if c.Consensus == "" {
		c.Consensus = "solo"
	}
	if c.CacheMB == 0 {
		c.CacheMB = 256
	}
	if c.GCPercent == 0 {
		c.GCPercent = 400
	}
	if c.MemoryLimitMB == 0 {
		c.MemoryLimitMB = 1536
	}
	c.ensureNetDefaults()
}

// SoloEngineConfig converts to the engine's config.
func (c Node) SoloEngineConfig() (solo.Config, error) {
	sc := solo.Config{MaxTxs: c.Solo.MaxBlockTxs, MaxBytes: c.Solo.MaxBlockBytes, EmptyBlocks: c.Solo.EmptyBlocks}
	if c.Solo.BlockInterval != "" {
		d, err := time.ParseDuration(c.Solo.BlockInterval)
		if err != nil {
			return sc, fmt.Errorf("config: solo.block_interval: %w", err)
		}
		sc.Interval = d
	}
	sc.EnsureDefaults()
	return sc, sc.Validate()
}

// PoolEngineConfig converts to the pool's config.
func (c Node) PoolEngineConfig() (txpool.Config, error) {
	pc := txpool.Config{
		MaxTxs:      c.Pool.MaxTxs,
		MaxBytes:    c.Pool.MaxBytes,
		MaxTxBytes:  c.Pool.MaxTxBytes,
		NonceWindow: c.Pool.NonceWindow,
		Workers:     c.Pool.Workers,
	}
	pc.EnsureDefaults()
	return pc, pc.Validate()
}

// Validate reports a configuration the node cannot run with.
func (c Node) Validate() error {
	if c.Consensus != "solo" && c.Consensus != "raft" && c.Consensus != "bft" {
		return fmt.Errorf("config: consensus %q is not supported (want solo, raft or bft)", c.Consensus)
	}
	if _, err := c.SoloEngineConfig(); err != nil {
		return err
	}
	if err := c.validateNet(); err != nil {
		return err
	}
	if _, err := c.PoolEngineConfig(); err != nil {
		return fmt.Errorf("config: pool: %w", err)
	}
	if err := c.APITLS.validate(); err != nil {
		return err
	}
	if c.ExecutionWorkers < 0 || c.ExecutionWorkers > 256 {
		return fmt.Errorf("config: execution_workers %d out of range [0, 256]", c.ExecutionWorkers)
	}
	if c.GCPercent < -1 {
		return fmt.Errorf("config: gc_percent %d: want -1 (leave alone) or a positive percentage", c.GCPercent)
	}
	if c.MemoryLimitMB < 256 {
		return fmt.Errorf("config: memory_limit_mb %d is below 256", c.MemoryLimitMB)
	}
	if c.Byzantine != "" && c.Consensus != "bft" {
		return fmt.Errorf("--byzantine: this node runs %s consensus; byzantine modes are for bft validators", c.Consensus)
	}
	if c.CacheMB < 8 {
		return fmt.Errorf("config: cache_mb %d is below 8", c.CacheMB)
	}
	return nil
}

// Load reads HOME/config.json, rejecting unknown fields so that a typo
// is an error rather than a silently ignored setting.
func Load(home string) (Node, error) {
	path := filepath.Join(home, File)
	b, err := os.ReadFile(path)
	if err != nil {
		return Node{}, err
	}
	c, err := Parse(b)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a config file, fills defaults and validates it.
func Parse(b []byte) (Node, error) {
	var c Node
	if err := strictjson.Decode(b, &c); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	c.EnsureDefaults()
	return c, c.Validate()
}
