package txpool

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/accord-chain/accord/types"
)

// Defaults documented on Config.
const (
	DefaultMaxTxs      = 200_000
	DefaultMaxBytes    = 256 << 20
	DefaultNonceWindow = 1024
	DefaultBatchSize   = 128
	DefaultCacheSize   = 262_144
)

// Upper bounds that keep a mistyped configuration from exhausting memory or
// turning a batch into one huge, unparallelisable chunk.
const (
	maxBatchSize = 4096
	maxWorkers   = 1024
	maxCacheSize = 1 << 24
)

// Config holds the pool's limits. Zero fields take their defaults in
// EnsureDefaults.
type Config struct {
	// MaxTxs is the pool's capacity in transactions, counting ready,
	// waiting and reaped-but-not-committed ones. Default 200,000.
	MaxTxs int
	// MaxBytes is the pool's capacity in encoded transaction bytes.
	// Default 256 MiB; at least MaxTxBytes.
	MaxBytes int64
	// MaxTxBytes is the largest encoded transaction admitted, in bytes.
	// Default types.DefaultMaxSize; at most types.MaxSize.
	MaxTxBytes int
	// NonceWindow is how far past a sender's committed nonce a transaction
	// may be admitted to wait for the nonces before it. Default 1024.
	NonceWindow uint64
	// Workers is the number of signature-verification goroutines; 1 verifies
	// on the submitting goroutine, one batch after another.
	// Default runtime.GOMAXPROCS(0); at most 1024.
	Workers int
	// BatchSize is the number of signatures in one verification batch, the
	// unit of work handed to a worker. Default 64; at most 4096.
	BatchSize int
	// CacheSize is the number of verified transactions remembered so that
	// none is verified twice. Default 262,144; at most 16,777,216.
	CacheSize int
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		MaxTxs:      DefaultMaxTxs,
		MaxBytes:    DefaultMaxBytes,
		MaxTxBytes:  types.DefaultMaxSize,
		NonceWindow: DefaultNonceWindow,
		Workers:     runtime.GOMAXPROCS(0),
		BatchSize:   DefaultBatchSize,
		CacheSize:   DefaultCacheSize,
	}
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.MaxTxs == 0 {
		c.MaxTxs = d.MaxTxs
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.MaxTxBytes == 0 {
		c.MaxTxBytes = d.MaxTxBytes
	}
	if c.NonceWindow == 0 {
		c.NonceWindow = d.NonceWindow
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.BatchSize == 0 {
		c.BatchSize = d.BatchSize
	}
	if c.CacheSize == 0 {
		c.CacheSize = d.CacheSize
	}
}

// Validate reports a configuration the pool cannot run with. Call it after
// EnsureDefaults: zero fields are invalid.
func (c Config) Validate() error {
	switch {
	case c.MaxTxs < 1:
		return errors.New("txpool: max_txs must be at least 1")
	case c.MaxTxBytes < 1 || c.MaxTxBytes > types.MaxSize:
		return fmt.Errorf("txpool: max_tx_bytes %d out of range [1, %d]", c.MaxTxBytes, types.MaxSize)
	case c.MaxBytes < int64(c.MaxTxBytes):
		return fmt.Errorf("txpool: max_bytes %d is below max_tx_bytes %d: the largest transaction would never fit", c.MaxBytes, c.MaxTxBytes)
	case c.NonceWindow < 1:
		return errors.New("txpool: nonce_window must be at least 1")
	case c.Workers < 1 || c.Workers > maxWorkers:
		return fmt.Errorf("txpool: workers %d out of range [1, %d]", c.Workers, maxWorkers)
	case c.BatchSize < 1 || c.BatchSize > maxBatchSize:
		return fmt.Errorf("txpool: batch_size %d out of range [1, %d]", c.BatchSize, maxBatchSize)
	case c.CacheSize < 1 || c.CacheSize > maxCacheSize:
		return fmt.Errorf("txpool: cache_size %d out of range [1, %d]", c.CacheSize, maxCacheSize)
	}
	return nil
}
