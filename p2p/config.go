package p2p

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/accord-chain/accord/clock"
)

// Defaults documented on Config.
const (
	DefaultMaxFrame     = 64 << 20
	DefaultQueueLen     = 4096
	DefaultDialTimeout  = 5 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	DefaultMinBackoff   = 100 * time.Millisecond
	DefaultMaxBackoff   = 5 * time.Second
)

// Upper bounds that keep a mistyped configuration from exhausting memory.
const (
	maxMaxFrame = 1 << 30
	maxQueueLen = 1 << 20
)

// Config configures a Transport. Zero fields take their defaults in
// EnsureDefaults, except ID, Listen and TLS, which are required.
type Config struct {
	// ID is this node's name; it must equal the CommonName of TLS.Cert.
	ID string
	// Listen is the TCP address to accept peers on, such as "0.0.0.0:7051".
	// Port 0 picks a free port; Transport.Addr tells which.
	Listen string
	// TLS is the network's CA pool and this node's certificate and key;
	// LoadTLS builds it from PEM.
	TLS TLS
	// MaxFrame is the largest payload, in bytes, sent or accepted in one
	// frame; keep it the same on every node, since a frame over the
	// receiver's limit ends the connection. Default 64 MiB; at most 1 GiB.
	MaxFrame int
	// QueueLen is the number of frames waiting to be written to one peer
	// before Send drops. Default 4096; at most 1,048,576.
	QueueLen int
	// DialTimeout bounds one dial with its TLS handshake, and the handshake
	// of an accepted connection. Default 5 s.
	DialTimeout time.Duration
	// WriteTimeout bounds writing one frame to a peer; a peer that does not
	// read for this long is disconnected. Default 30 s.
	WriteTimeout time.Duration
	// MinBackoff is the wait before the first redial of a peer; each failed
	// attempt doubles it up to MaxBackoff, and a connection that stayed up
	// for MaxBackoff resets it. Each wait is drawn from [d/2, d] by Rand.
	// Default 100 ms.
	MinBackoff time.Duration
	// MaxBackoff is the longest wait between redials. Default 5 s.
	MaxBackoff time.Duration
	// Rand draws the back-off jitter. Default: a generator seeded from ID,
	// so that nodes spread their redials apart and every run of one node
	// waits the same.
	Rand *rand.Rand
	// Identity, when set, makes the two ends of every connection prove a
	// second identity, bound to the TLS session, before anything else
	// flows: for example a consortium certificate whose scheme TLS does
	// not know (SM2). Nil: the TLS certificates alone identify nodes.
	Identity *Identity
	// Logger receives refused connections (warn) and connection changes
	// (debug). Default slog.Default().
	Logger *slog.Logger
	// Clock judges the validity periods of peers' certificates. Default
	// clock.Real.
	Clock clock.Clock
}

// TLS is the certificate material of one node.
type TLS struct {
	// CAs holds the network CA certificates that peers' chains must reach.
	CAs *x509.CertPool
	// Cert is this node's certificate chain and private key.
	Cert tls.Certificate
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		MaxFrame:     DefaultMaxFrame,
		QueueLen:     DefaultQueueLen,
		DialTimeout:  DefaultDialTimeout,
		WriteTimeout: DefaultWriteTimeout,
		MinBackoff:   DefaultMinBackoff,
		MaxBackoff:   DefaultMaxBackoff,
	}
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.MaxFrame == 0 {
		c.MaxFrame = d.MaxFrame
	}
	if c.QueueLen == 0 {
		c.QueueLen = d.QueueLen
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = d.MinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	if c.Rand == nil {
		h := fnv.New64a()
		h.Write([]byte(c.ID))
		c.Rand = rand.New(rand.NewPCG(h.Sum64(), 0x70327031))
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = clock.Real
	}
}

// Validate reports a configuration the transport cannot run with. Call it
// after EnsureDefaults: zero fields are invalid. It checks that the
// certificate is this node's (CommonName = ID) and that it chains to the CA
// pool now, so a misconfigured node fails at start rather than being
// refused by every peer.
func (c Config) Validate() error {
	switch {
	case c.ID == "":
		return errors.New("p2p: empty ID: set the node ID, the CommonName of its certificate")
	case c.Listen == "":
		return errors.New("p2p: empty Listen address: set the address peers dial, such as 0.0.0.0:7051")
	case c.MaxFrame < 1 || c.MaxFrame > maxMaxFrame:
		return fmt.Errorf("p2p: MaxFrame %d out of range [1, %d]", c.MaxFrame, maxMaxFrame)
	case c.QueueLen < 1 || c.QueueLen > maxQueueLen:
		return fmt.Errorf("p2p: QueueLen %d out of range [1, %d]", c.QueueLen, maxQueueLen)
	case c.DialTimeout <= 0:
		return fmt.Errorf("p2p: DialTimeout %v must be positive", c.DialTimeout)
	case c.WriteTimeout <= 0:
		return fmt.Errorf("p2p: WriteTimeout %v must be positive", c.WriteTimeout)
	case c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff:
		return fmt.Errorf("p2p: back-off [%v, %v] invalid: need 0 < MinBackoff <= MaxBackoff", c.MinBackoff, c.MaxBackoff)
	case c.Rand == nil:
		return errors.New("p2p: nil Rand: call EnsureDefaults")
	case c.Logger == nil:
		return errors.New("p2p: nil Logger: call EnsureDefaults")
	case c.TLS.CAs == nil:
		return errors.New("p2p: no CA pool: load the network CA certificate (LoadTLS)")
	case len(c.TLS.Cert.Certificate) == 0 || c.TLS.Cert.PrivateKey == nil:
		return errors.New("p2p: no node certificate: load this node's certificate and key (LoadTLS)")
	}
	leaf := c.TLS.Cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.TLS.Cert.Certificate[0]); err != nil {
			return fmt.Errorf("p2p: node certificate: %w", err)
		}
	}
	if leaf.Subject.CommonName != c.ID {
		return fmt.Errorf("p2p: the node certificate is for %q but ID is %q: use the certificate issued to this node", leaf.Subject.CommonName, c.ID)
	}
	now := c.Clock.Now()
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := verifyChain(c.TLS.CAs, leaf, c.TLS.Cert.Certificate[1:], u, now); err != nil {
			return fmt.Errorf("p2p: the node certificate will be refused by peers: %w", err)
		}
	}
	return nil
}
