package crypto

import "testing"

func TestWeakPublicKey(t *testing.T) {
	// Every member decodes to a small-order point, and the set holds all
	// eight torsion points' canonical encodings plus their variants.
	if len(smallOrderEd) < 8 {
		t.Fatalf("small-order set has %d encodings, want at least 8", len(smallOrderEd))
	}
	for enc := range smallOrderEd {
		if !edSmallOrder(enc[:]) {
			t.Fatalf("%x is in the set but not of small order", enc)
		}
	}
	identity := [32]byte{1}
	if !WeakPublicKey(Ed25519, identity[:]) {
		t.Fatal("identity point not weak")
	}
	// The identity with the sign bit set (non-canonical, accepted by ZIP-215).
	neg := identity
	neg[31] |= 0x80
	if !WeakPublicKey(Ed25519, neg[:]) {
		t.Fatal("non-canonical identity not weak")
	}
	// y = 1 + p encodes the identity too.
	if !WeakPublicKey(Ed25519, func() []byte { b := addP(identity); return b[:] }()) {
		t.Fatal("identity encoded as 1+p not weak")
	}
	// An all-zero-signature forgery verifies for the identity key: the
	// reason the set exists.
	sig := make([]byte, 64)
	sig[0] = 1 // R = identity, S = 0
	if err := Verify(Ed25519, identity[:], []byte("anything"), sig); err != nil {
		t.Fatalf("ZIP-215 accepts the forgery for the identity key, expected it to verify: %v", err)
	}
	for _, s := range []Scheme{Ed25519, SM2, P256} {
		k, err := GenerateKey(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if WeakPublicKey(s, k.Public().Bytes()) {
			t.Fatalf("fresh %s key reported weak", s)
		}
	}
	t.Logf("%d small-order encodings", len(smallOrderEd))
}
