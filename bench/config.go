// Package bench is the load generator behind `accord bench`: it makes payer
// accounts, funds them from the issuer, pre-signs a token-transfer workload
// and submits it to one node, then reports committed transactions per second
// and the latency from submission to commit, counted from committed blocks.
//
// It speaks to the node only through the public API (package sdk) and must
// not import node internals. It shares the machine with the node it measures,
// so everything expensive (keys, signatures) happens before the measured
// window, and the window itself uses a few goroutines and reused buffers.
package bench

import (
	"errors"
	"fmt"
	"time"

	"github.com/accord-chain/accord/crypto"
)

// Workloads.
const (
	// Uniform: a random payer pays a random other payer.
	Uniform = "uniform"
	// Merchants: a random payer pays a merchant drawn from a Zipf
	// distribution, rank 1 the hottest.
	Merchants = "merchants"
	// Contract: Uniform, through a token written as a contract (wtoken,
	// installed as ContractName) instead of the native token.
	Contract = "contract"
)

// ContractName is the name the contract workload installs wtoken under.
const ContractName = "bench-wtoken"

// Defaults of durations, shared with the CLI's flags.
const (
	DefaultDuration = 20 * time.Second
	DefaultDrain    = 10 * time.Second
)

// Limits and fixed amounts of the workload.
const (
	// MaxPerPayer is the most measured transactions one payer signs. The
	// node keeps at most 1024 nonces pending per sender; staying under it
	// means no transaction can be refused for a nonce gap.
	MaxPerPayer = 1000
	// maxBatch is the node API's limit on one SubmitTxs call.
	maxBatch = 10_000
	// maxAmount bounds a measured transfer's amount, drawn from [1, maxAmount].
	maxAmount = 10
	// FundAmount is what each payer is funded with: far more than its
	// MaxPerPayer transfers of at most maxAmount can spend.
	FundAmount = 1_000_000
	// maxPresignDefault caps the default of MaxTxs so that the pre-signed
	// transactions (about 300 bytes each with their index) stay within
	// about 600 MiB.
	maxPresignDefault = 2_000_000
	// presignPerSecond is the rate the default MaxTxs provisions for when
	// Rate is 0.
	presignPerSecond = 60_000
)

// Config configures Run. Zero fields take the defaults written on each
// field (EnsureDefaults), except Rate, MaxTxs and Seed, whose zero has a
// meaning of its own.
type Config struct {
	// Node is the node's API URL, e.g. "http://127.0.0.1:7070". Required.
	Node string
	// Issuer is the token issuer's key; it funds the payers. Required.
	Issuer crypto.PrivateKey

	// Workload is Uniform, Merchants or Contract. Default Uniform.
	Workload string
	// ContractCode is the wtoken module (examples/contracts/wtoken) the
	// Contract workload installs. Required for it.
	ContractCode []byte
	// Accounts is the number of payers. Default 10,000.
	Accounts int
	// Merchants is the number of merchants (addresses only) in the
	// Merchants workload. Default 5,000.
	Merchants int
	// Zipf is the exponent s of the merchant distribution: merchant of rank
	// k is paid with probability proportional to k^-s. Must be > 1.
	// Default 1.2.
	Zipf float64
	// Crypto is the signature scheme of the payers. Default Ed25519.
	Crypto crypto.Scheme
	// Seed makes keys and workload reproducible; 0 is a seed like any other
	// (the CLI's default is 1).
	Seed uint64

	// Rate is the offered load in transactions per second; 0 submits as
	// fast as the node accepts.
	Rate float64
	// Duration is the measured window. Default 20s.
	Duration time.Duration
	// Batch is the number of transactions per SubmitTxs call, at most
	// 10,000. Default 500.
	Batch int
	// MaxTxs is the most transactions to pre-sign; when Rate is 0 it is
	// the number pre-signed. 0: Rate×Duration, or when Rate is 0 too,
	// 60,000 per second of Duration, at most 2,000,000 (about 600 MiB).
	// See TxCount.
	MaxTxs int
	// MaxPending caps transactions submitted but not yet seen committed, so
	// that an unpaced run keeps the node busy without filling its pool
	// (where latency would measure only the queue). A negative value leaves
	// only the pool's own limit. Default 50,000.
	MaxPending int
	// Submitters is the number of goroutines calling SubmitTxs, each with
	// its own share of the payers. Default 4, at most 16.
	Submitters int
	// Drain is how long to keep counting commits after the window, until
	// every submitted transaction has committed. Default 10s.
	Drain time.Duration
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	if c.Workload == "" {
		c.Workload = Uniform
	}
	if c.Accounts == 0 {
		c.Accounts = 10_000
	}
	if c.Merchants == 0 {
		c.Merchants = 5_000
	}
	if c.Zipf == 0 {
		c.Zipf = 1.2
	}
	if c.Crypto == 0 {
		c.Crypto = crypto.Ed25519
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Batch == 0 {
		c.Batch = 500
	}
	if c.MaxPending == 0 {
		c.MaxPending = 50_000
	}
	if c.Submitters == 0 {
		c.Submitters = 4
	}
	if c.Drain == 0 {
		c.Drain = DefaultDrain
	}
}

// ErrConfig is wrapped by every error of Validate.
var ErrConfig = errors.New("bench")

// Validate reports a configuration Run cannot use. Call it after
// EnsureDefaults: zero counts are invalid.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Node == "":
		return bad("--node is required")
	case c.Issuer == nil:
		return bad("an issuer key is required (--from)")
	case c.Workload != Uniform && c.Workload != Merchants && c.Workload != Contract:
		return bad("--workload %q: want %s, %s or %s", c.Workload, Uniform, Merchants, Contract)
	case c.Accounts < 1:
		return bad("--accounts %d: want at least 1", c.Accounts)
	case (c.Workload == Uniform || c.Workload == Contract) && c.Accounts < 2:
		return bad("--accounts %d: the uniform workload pays another payer, so it needs at least 2", c.Accounts)
	case c.Accounts > 100_000_000:
		return bad("--accounts %d: at most 100,000,000", c.Accounts)
	case c.Merchants < 1 || c.Merchants > 100_000_000:
		return bad("--merchants %d: want 1 to 100,000,000", c.Merchants)
	case !(c.Zipf > 1) || c.Zipf > 100:
		return bad("--zipf %g: the exponent must be greater than 1 (and at most 100)", c.Zipf)
	case !c.Crypto.Valid():
		return bad("--crypto %s: want ed25519, sm2 or p256", c.Crypto)
	case !(c.Rate >= 0) || c.Rate > 1e9:
		return bad("--rate %g: want 0 (as fast as the node accepts) or a positive number of tx/s", c.Rate)
	case c.Duration < 100*time.Millisecond || c.Duration > 24*time.Hour:
		return bad("--duration %s: want 100ms to 24h", c.Duration)
	case c.Batch < 1 || c.Batch > maxBatch:
		return bad("--batch %d: want 1 to %d (the node's limit per call)", c.Batch, maxBatch)
	case c.MaxTxs < 0:
		return bad("--max-txs %d: want 0 (automatic) or more", c.MaxTxs)
	case c.MaxPending == 0:
		return bad("--max-pending 0: want a positive number, or -1 for no limit")
	case c.Submitters < 1 || c.Submitters > 16:
		return bad("--submitters %d: want 1 to 16", c.Submitters)
	case c.Drain <= 0:
		return bad("--drain %s: must be positive", c.Drain)
	}
	return nil
}

// TxCount is how many measured transactions Run pre-signs: Rate×Duration
// (at most MaxTxs, when set); when Rate is 0, MaxTxs, or if that is 0 too,
// 60,000 per second of Duration up to 2,000,000. Never more than
// MaxPerPayer per payer.
func (c *Config) TxCount() int {
	secs := c.Duration.Seconds()
	var n float64
	switch {
	case c.Rate > 0 && c.MaxTxs > 0:
		n = min(c.Rate*secs, float64(c.MaxTxs))
	case c.Rate > 0:
		n = c.Rate * secs
	case c.MaxTxs > 0:
		n = float64(c.MaxTxs)
	default:
		n = min(presignPerSecond*secs, maxPresignDefault)
	}
	return int(max(1, min(n+0.5, float64(c.Accounts)*MaxPerPayer)))
}
