package identity

import (
	"errors"
	"testing"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// fakeLookup is chain state holding registered certificates and keys.
type fakeLookup struct {
	certs map[types.Hash][]byte
	keys  map[types.Address]*Key
	err   error
}

func (l *fakeLookup) Cert(h types.Hash) ([]byte, error) { return l.certs[h], l.err }
func (l *fakeLookup) Key(a types.Address) (*Key, error) { return l.keys[a], l.err }

// A registry with a lookup resolves members registered on chain without
// holding them, with every check Sender applies to its own registrations.
func TestWithLookup(t *testing.T) {
	w := newWorld(t, crypto.SM2, 2)
	base := w.registry(CertMode, NewCache(64))
	alice := w.issue("org1", "alice", Client)
	h := types.Hash(crypto.SM3.Sum(alice.der))
	l := &fakeLookup{certs: map[types.Hash][]byte{h: alice.der}}
	at := ms(t0) + 1000
	if _, err := base.Sender(Ref{CertHash: h}, at); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("base registry resolved a hash it does not hold: %v", err)
	}
	v := base.WithLookup(l)
	m, err := v.Sender(Ref{CertHash: h}, at)
	if err != nil || m.Name != "alice" || m.CertHash != h {
		t.Fatalf("Sender by registered hash = %+v, %v", m, err)
	}
	// A lookup answering another certificate for the hash is refused.
	bob := w.issue("org2", "bob", Client)
	l.certs[h] = bob.der
	if _, err := v.Sender(Ref{CertHash: h}, at); !errors.Is(err, ErrBadCert) {
		t.Fatalf("mismatched registered certificate: %v, want ErrBadCert", err)
	}
	l.certs[h] = alice.der
	if err := v.Revoke("org1", alice.serial); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Sender(Ref{CertHash: h}, at); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked: %v, want ErrRevoked", err)
	}
	if _, err := base.WithLookup(l).Sender(Ref{CertHash: h}, at); err != nil {
		t.Fatalf("revoking in a view changed its base: %v", err)
	}
	l.err = errors.New("disk on fire")
	if _, err := base.WithLookup(l).Sender(Ref{CertHash: h}, at); !errors.Is(err, ErrLookup) {
		t.Fatalf("state error: %v, want ErrLookup", err)
	}

	cfg := w.config(KeyMode)
	kr, err := NewRegistry(cfg, crypto.SHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := w.key(crypto.Ed25519)
	key := &Key{Org: "org2", Role: Client, Name: "shop", Scheme: crypto.Ed25519, PublicKey: k.Public().Bytes()}
	a := types.AddressOf(key.Scheme, key.PublicKey)
	kl := &fakeLookup{keys: map[types.Address]*Key{a: key}}
	ref := Ref{Scheme: key.Scheme, PublicKey: key.PublicKey}
	if m, err := kr.WithLookup(kl).Sender(ref, 0); err != nil || m.Org != "org2" {
		t.Fatalf("key by lookup = %+v, %v", m, err)
	}
	delete(kl.keys, a)
	if _, err := kr.WithLookup(kl).Sender(ref, 0); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("removed key: %v, want ErrUnknownMember", err)
	}
}
