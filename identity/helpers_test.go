package identity

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
)

// t0 is the start of every test's world; block times are unix ms after it.
var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(t time.Time) uint64 { return uint64(t.UnixMilli()) }

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return rand.NewChaCha8(s)
}

var caSchemes = []crypto.Scheme{crypto.SM2, crypto.P256}

// world is a consortium of orgs org1..orgN, each with one CA of one scheme.
type world struct {
	t      testing.TB
	scheme crypto.Scheme
	cas    map[string]*CA
	ids    []string
	serial int64
	rnd    *rand.ChaCha8
}

func newWorld(t testing.TB, scheme crypto.Scheme, n int) *world {
	t.Helper()
	w := &world{t: t, scheme: scheme, cas: map[string]*CA{}, rnd: seeded(uint64(scheme)*100 + uint64(n))}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("org%d", i)
		ca, err := NewCA(id, scheme, t0, 10*365*24*time.Hour, w.rnd)
		if err != nil {
			t.Fatalf("NewCA(%s, %s): %v", id, scheme, err)
		}
		w.cas[id] = ca
		w.ids = append(w.ids, id)
	}
	return w
}

func (w *world) config(mode Mode) Config {
	c := Config{Mode: mode}
	for _, id := range w.ids {
		c.Orgs = append(c.Orgs, Org{ID: id, Scheme: w.scheme, CAs: [][]byte{w.cas[id].Cert.Raw}})
	}
	c.EnsureDefaults()
	return c
}

func (w *world) registry(mode Mode, cache *Cache) *Registry {
	w.t.Helper()
	r, err := NewRegistry(w.config(mode), crypto.SM3, cache)
	if err != nil {
		w.t.Fatalf("NewRegistry: %v", err)
	}
	return r
}

// member is a key with its certificate.
type member struct {
	key    crypto.PrivateKey
	der    []byte
	serial string
}

func (w *world) key(s crypto.Scheme) crypto.PrivateKey {
	w.t.Helper()
	k, err := crypto.GenerateKey(s, w.rnd)
	if err != nil {
		w.t.Fatal(err)
	}
	return k
}

// issue makes a member of org valid for a day from t0.
func (w *world) issue(org, name string, role Role) member {
	return w.issueAt(org, name, role, w.scheme, t0, t0.Add(24*time.Hour))
}

func (w *world) issueAt(org, name string, role Role, s crypto.Scheme, nb, na time.Time) member {
	w.t.Helper()
	k := w.key(s)
	w.serial++
	der, err := w.cas[org].Issue(name, role, k.Public(), nb, na, big.NewInt(w.serial+100), w.rnd)
	if err != nil {
		w.t.Fatalf("Issue(%s, %s): %v", org, name, err)
	}
	return member{key: k, der: der, serial: big.NewInt(w.serial + 100).Text(16)}
}

func (m member) ref() Ref { return Ref{Cert: m.der} }
