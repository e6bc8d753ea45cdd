package identity

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
	idpb "github.com/accord-chain/accord/identity/pb"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

var sentinels = []error{ErrBadCert, ErrUnknownOrg, ErrUnknownCA, ErrExpired, ErrRevoked, ErrWrongRole, ErrBadConfig}

func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzParseCert feeds arbitrary bytes to the certificate parser and to a
// registry's verification: nothing may panic, errors wrap a sentinel, and
// an accepted certificate has the fields the parser promises.
func FuzzParseCert(f *testing.F) {
	var regs []*Registry
	for _, s := range caSchemes {
		w := newWorld(f, s, 2)
		regs = append(regs, w.registry(CertMode, NewCache(16)))
		f.Add(w.cas["org1"].Cert.Raw)
		f.Add(w.issue("org1", "alice", Client).der)
		f.Add(w.issueAt("org2", "ed", Admin, crypto.Ed25519, t0, t0.Add(time.Hour)).der)
		der := w.issue("org2", "bob", Light).der
		f.Add(der[:len(der)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x80})
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := ParseCert(der)
		if err != nil {
			if !errors.Is(err, ErrBadCert) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
		} else {
			if !ValidOrgID(c.Org) || !validName(c.Name) || (!c.IsCA && !c.Role.Valid()) ||
				c.NotAfter < c.NotBefore || !bytes.Equal(c.Raw, der) {
				t.Fatalf("accepted certificate with bad fields: %+v", c)
			}
			if _, err := crypto.PublicKeyFromBytes(c.Scheme, c.PublicKey); err != nil {
				t.Fatalf("accepted certificate with bad key: %v", err)
			}
		}
		for _, r := range regs {
			m, verr := r.VerifyCert(der, uint64(t0.Add(time.Minute).UnixMilli()))
			if verr != nil && !wrapsSentinel(verr) {
				t.Fatalf("VerifyCert error wraps no sentinel: %v", verr)
			}
			if verr == nil && (err != nil || m.Org != c.Org) {
				t.Fatalf("VerifyCert accepted what ParseCert rejected (%v) or named another org", err)
			}
		}
	})
}

// FuzzDecodeConfig checks that DecodeConfig never panics, wraps
// ErrBadConfig, and accepts only canonical encodings: whatever it accepts
// encodes back to the same bytes.
func FuzzDecodeConfig(f *testing.F) {
	for _, s := range caSchemes {
		cfg := sampleConfig(f, s)
		b, err := cfg.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	w := newWorld(f, crypto.SM2, 1)
	cfg := w.config(KeyMode)
	cfg.Orgs[0].CAs = nil
	b, _ := cfg.Encode()
	f.Add(b)
	f.Add(types.EncodeCanonical(&idpb.Config{Version: ConfigVersion}))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := DecodeConfig(b)
		if err != nil {
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		again, err := cfg.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted config does not re-encode to its bytes: %v", err)
		}
		if _, err := NewRegistry(cfg, crypto.SHA256, nil); err != nil {
			t.Fatalf("accepted config makes no registry: %v", err)
		}
	})
}

// FuzzDecodeEndorsements checks the endorsement wire decoder: no panic,
// errors wrap ErrBadEndorsement, accepted input re-encodes to itself.
func FuzzDecodeEndorsements(f *testing.F) {
	w := newWorld(f, crypto.P256, 1)
	m := w.issue("org1", "a", Admin)
	p := &Proposal{ChainID: "c", ID: 1, Payload: []byte("x")}
	e, err := Endorse(m.key, m.ref(), p, crypto.SHA256)
	if err != nil {
		f.Fatal(err)
	}
	byHash := e
	byHash.Signer = Ref{CertHash: m.hash(crypto.SHA256)}
	byKey := e
	byKey.Signer = Ref{Scheme: crypto.P256, PublicKey: m.key.Public().Bytes()}
	f.Add(EncodeEndorsements([]Endorsement{e, byHash, byKey}))
	f.Add(EncodeEndorsements(nil))
	f.Add(types.EncodeCanonical(&idpb.Endorsements{Version: WireVersion, Endorsements: []*idpb.Endorsement{{Signer: &pb.Signer{}}}}))
	f.Add(types.EncodeCanonical(&idpb.Endorsements{Version: WireVersion + 1}))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := DecodeEndorsements(b)
		if err != nil {
			if !errors.Is(err, ErrBadEndorsement) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(EncodeEndorsements(es), b) {
			t.Fatal("accepted endorsements do not re-encode to their bytes")
		}
	})
}

// FuzzDecodeKey checks the registered-key decoder the same way.
func FuzzDecodeKey(f *testing.F) {
	w := newWorld(f, crypto.SM2, 1)
	f.Add(Key{Org: "org1", Role: Client, Name: "shop", Scheme: crypto.SM2, PublicKey: w.key(crypto.SM2).Public().Bytes()}.Encode())
	f.Add(Key{Org: "org1", Role: Admin, Name: "a", Scheme: crypto.Ed25519, PublicKey: w.key(crypto.Ed25519).Public().Bytes()}.Encode())
	f.Add(types.EncodeCanonical(&idpb.Key{Version: WireVersion, Org: "org1", Role: 9}))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := DecodeKey(b)
		if err != nil {
			if !errors.Is(err, ErrBadKey) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(k.Encode(), b) {
			t.Fatal("accepted key does not re-encode to its bytes")
		}
	})
}
