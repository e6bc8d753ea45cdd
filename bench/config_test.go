package bench

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
)

func validConfig(t *testing.T) Config {
	t.Helper()
	key, err := deriveKey(crypto.Ed25519, 1, "test-issuer", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := Config{Node: "http://127.0.0.1:1", Issuer: key}
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	return c
}

func TestEnsureDefaults(t *testing.T) {
	c := validConfig(t)
	want := Config{
		Node: c.Node, Issuer: c.Issuer, Workload: Uniform, Accounts: 10_000, Merchants: 5_000,
		Zipf: 1.2, Crypto: crypto.Ed25519, Duration: 20 * time.Second, Batch: 500,
		MaxPending: 50_000, Submitters: 4, Drain: 10 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(c *Config)
		want string // part of the message: the flag to fix
	}{
		{"zipf of 1", func(c *Config) { c.Zipf = 1 }, "--zipf"},
		{"zipf below 1", func(c *Config) { c.Zipf = 0.5 }, "--zipf"},
		{"explicit zero zipf", func(c *Config) { c.Zipf = 0 }, "--zipf"},
		{"zero accounts", func(c *Config) { c.Accounts = 0 }, "--accounts"},
		{"negative accounts", func(c *Config) { c.Accounts = -3 }, "--accounts"},
		{"uniform with one payer", func(c *Config) { c.Accounts = 1 }, "at least 2"},
		{"unknown workload", func(c *Config) { c.Workload = "zipfian" }, "--workload"},
		{"unknown crypto", func(c *Config) { c.Crypto = crypto.Scheme(9) }, "--crypto"},
		{"zero merchants", func(c *Config) { c.Merchants = 0 }, "--merchants"},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "--rate"},
		{"zero duration", func(c *Config) { c.Duration = 0 }, "--duration"},
		{"batch over the node's limit", func(c *Config) { c.Batch = 10_001 }, "--batch"},
		{"zero batch", func(c *Config) { c.Batch = 0 }, "--batch"},
		{"negative max-txs", func(c *Config) { c.MaxTxs = -1 }, "--max-txs"},
		{"zero max-pending", func(c *Config) { c.MaxPending = 0 }, "--max-pending"},
		{"too many submitters", func(c *Config) { c.Submitters = 17 }, "--submitters"},
		{"no node", func(c *Config) { c.Node = "" }, "--node"},
		{"no issuer", func(c *Config) { c.Issuer = nil }, "--from"},
	} {
		c := validConfig(t)
		tc.mut(&c)
		err := c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an ErrConfig naming %s", tc.name, err, tc.want)
		}
	}
	c := validConfig(t)
	c.Workload, c.Accounts = Merchants, 1
	if err := c.Validate(); err != nil {
		t.Errorf("merchants with one payer: %v, want valid (payers pay merchants, not each other)", err)
	}
}

func TestTxCount(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(c *Config)
		want int
	}{
		{"unpaced: 60,000 per second", func(c *Config) { c.Duration = 2 * time.Second }, 120_000},
		{"unpaced: at most 2,000,000", func(c *Config) { c.Duration = time.Minute }, 2_000_000},
		{"paced: rate times duration", func(c *Config) { c.Rate = 1500; c.Duration = 3 * time.Second }, 4500},
		{"max-txs caps", func(c *Config) { c.Rate = 1500; c.MaxTxs = 100 }, 100},
		{"max-txs above the default", func(c *Config) { c.Duration = time.Minute; c.MaxTxs = 3_000_000 }, 3_000_000},
		{"at most MaxPerPayer per payer", func(c *Config) { c.Accounts = 3 }, 3 * MaxPerPayer},
	} {
		c := validConfig(t)
		tc.mut(&c)
		if got := c.TxCount(); got != tc.want {
			t.Errorf("%s: TxCount() = %d, want %d", tc.name, got, tc.want)
		}
	}
}
