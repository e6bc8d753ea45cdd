package crypto_test

import (
	"bytes"
	stdecdsa "crypto/ecdsa"
	stded25519 "crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/accord-chain/accord/crypto"
)

var schemes = []crypto.Scheme{crypto.Ed25519, crypto.SM2, crypto.P256}

// seeded returns a deterministic random source, so failures reproduce.
func seeded(n uint64) *mrand.ChaCha8 {
	var seed [32]byte
	seed[0] = byte(n)
	seed[1] = byte(n >> 8)
	return mrand.NewChaCha8(seed)
}

func mustKey(t testing.TB, s crypto.Scheme, n uint64) crypto.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey(s, seeded(n))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSign(t testing.TB, k crypto.PrivateKey, msg []byte) []byte {
	t.Helper()
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != k.Scheme().SignatureSize() {
		t.Fatalf("%s: signature is %d bytes", k.Scheme(), len(sig))
	}
	return sig
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSchemeNames(t *testing.T) {
	for _, tc := range []struct {
		s         crypto.Scheme
		name      string
		pub, sig  int
		validName bool
	}{
		{crypto.Ed25519, "ed25519", 32, 64, true},
		{crypto.SM2, "sm2", 33, 64, true},
		{crypto.P256, "p256", 33, 64, true},
		{0, "scheme(0)", 0, 0, false},
		{4, "scheme(4)", 0, 0, false},
		{255, "scheme(255)", 0, 0, false},
	} {
		if got := tc.s.String(); got != tc.name {
			t.Errorf("String(%d) = %q, want %q", uint8(tc.s), got, tc.name)
		}
		if tc.s.Valid() != tc.validName || tc.s.PublicKeySize() != tc.pub || tc.s.SignatureSize() != tc.sig {
			t.Errorf("%s: Valid/PublicKeySize/SignatureSize = %v/%d/%d", tc.s, tc.s.Valid(), tc.s.PublicKeySize(), tc.s.SignatureSize())
		}
		if !tc.validName {
			continue
		}
		for _, n := range []string{tc.name, strings.ToUpper(tc.name)} {
			if s, err := crypto.ParseScheme(n); err != nil || s != tc.s {
				t.Errorf("ParseScheme(%q) = %v, %v", n, s, err)
			}
		}
	}
	for _, n := range []string{"", "rsa", "scheme(1)", "ed25519 ", "p-256"} {
		if _, err := crypto.ParseScheme(n); !errors.Is(err, crypto.ErrUnknownScheme) {
			t.Errorf("ParseScheme(%q) error = %v, want ErrUnknownScheme", n, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	msgs := [][]byte{nil, []byte("abc"), bytes.Repeat([]byte{0xa5}, 1000)}
	for _, s := range schemes {
		t.Run(s.String(), func(t *testing.T) {
			k := mustKey(t, s, 1)
			if k.Scheme() != s || k.Public().Scheme() != s {
				t.Fatal("wrong scheme on key")
			}
			pub := k.Public().Bytes()
			if len(pub) != s.PublicKeySize() {
				t.Fatalf("public key is %d bytes", len(pub))
			}
			for _, m := range msgs {
				sig := mustSign(t, k, m)
				if err := crypto.Verify(s, pub, m, sig); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !k.Public().Verify(m, sig) {
					t.Fatal("PublicKey.Verify rejected a good signature")
				}
				ok := []bool{false}
				crypto.VerifyBatch([]crypto.Item{{Scheme: s, PublicKey: pub, Message: m, Signature: sig}}, ok)
				if !ok[0] {
					t.Fatal("VerifyBatch rejected a good signature")
				}
			}

			// Private key bytes round trip.
			kb := k.Bytes()
			if len(kb) != 32 {
				t.Fatalf("private key is %d bytes", len(kb))
			}
			k2, err := crypto.PrivateKeyFromBytes(s, kb)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(k2.Bytes(), kb) || !bytes.Equal(k2.Public().Bytes(), pub) {
				t.Fatal("private key round trip changed the key")
			}
			kb[0] ^= 1 // Bytes must hand out a copy
			if bytes.Equal(k.Bytes(), kb) {
				t.Fatal("Bytes aliases the key")
			}

			// Public key bytes round trip; the parsed key verifies too.
			p, err := crypto.PublicKeyFromBytes(s, pub)
			if err != nil {
				t.Fatal(err)
			}
			if p.Scheme() != s || !bytes.Equal(p.Bytes(), pub) {
				t.Fatal("public key round trip changed the key")
			}
			sig := mustSign(t, k2, []byte("round trip"))
			if !p.Verify([]byte("round trip"), sig) {
				t.Fatal("parsed public key rejected a good signature")
			}
		})
	}
}

func TestGenerateKeyDeterministic(t *testing.T) {
	for _, s := range schemes {
		a, b := mustKey(t, s, 7), mustKey(t, s, 7)
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: same reader gave different keys", s)
		}
		if c := mustKey(t, s, 8); bytes.Equal(a.Bytes(), c.Bytes()) {
			t.Errorf("%s: different readers gave the same key", s)
		}
		if _, err := crypto.GenerateKey(s, nil); err != nil {
			t.Errorf("%s: GenerateKey(nil): %v", s, err)
		}
		if _, err := crypto.GenerateKey(s, bytes.NewReader(make([]byte, 10))); err == nil {
			t.Errorf("%s: short reader accepted", s)
		}
	}
	if _, err := crypto.GenerateKey(9, nil); !errors.Is(err, crypto.ErrUnknownScheme) {
		t.Errorf("GenerateKey(9) error = %v", err)
	}
}

func TestTampered(t *testing.T) {
	msg := []byte("transfer 10 to bob")
	for _, s := range schemes {
		t.Run(s.String(), func(t *testing.T) {
			k := mustKey(t, s, 2)
			pub := k.Public().Bytes()
			sig := mustSign(t, k, msg)
			reject := func(what string, pub, msg, sig []byte, want ...error) {
				t.Helper()
				err := crypto.Verify(s, pub, msg, sig)
				if err == nil {
					t.Fatalf("%s: accepted", what)
				}
				matched := false
				for _, w := range want {
					matched = matched || errors.Is(err, w)
				}
				if !matched {
					t.Fatalf("%s: error %v, want one of %v", what, err, want)
				}
				ok := []bool{true}
				crypto.VerifyBatch([]crypto.Item{{Scheme: s, PublicKey: pub, Message: msg, Signature: sig}}, ok)
				if ok[0] {
					t.Fatalf("%s: VerifyBatch accepted", what)
				}
			}
			for i := range msg {
				m := bytes.Clone(msg)
				m[i] ^= 0x10
				reject("message", pub, m, sig, crypto.ErrBadSignature)
			}
			reject("longer message", pub, append(bytes.Clone(msg), 0), sig, crypto.ErrBadSignature)
			for i := range sig {
				bad := bytes.Clone(sig)
				bad[i] ^= 0x01
				reject("signature", pub, msg, bad, crypto.ErrBadSignature)
			}
			other := mustKey(t, s, 3).Public().Bytes()
			reject("other key", other, msg, sig, crypto.ErrBadSignature)
			for i := range pub {
				bad := bytes.Clone(pub)
				bad[i] ^= 0x01
				reject("public key", bad, msg, sig, crypto.ErrBadSignature, crypto.ErrBadPublicKey)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	for _, s := range schemes {
		k := mustKey(t, s, 4)
		pub := k.Public().Bytes()
		sig := mustSign(t, k, nil)
		for _, n := range []int{0, len(pub) - 1, len(pub) + 1, 65} {
			b := make([]byte, n)
			copy(b, pub)
			err := crypto.Verify(s, b, nil, sig)
			if !errors.Is(err, crypto.ErrBadPublicKey) || !strings.Contains(err.Error(), "want") {
				t.Errorf("%s: Verify with %d-byte key: %v", s, n, err)
			}
			if _, err := crypto.PublicKeyFromBytes(s, b); !errors.Is(err, crypto.ErrBadPublicKey) {
				t.Errorf("%s: PublicKeyFromBytes with %d bytes: %v", s, n, err)
			}
		}
		for _, n := range []int{0, 63, 65, 128} {
			b := make([]byte, n)
			copy(b, sig)
			err := crypto.Verify(s, pub, nil, b)
			if !errors.Is(err, crypto.ErrBadSignature) || !strings.Contains(err.Error(), "want 64") {
				t.Errorf("%s: Verify with %d-byte signature: %v", s, n, err)
			}
			if k.Public().Verify(nil, b) {
				t.Errorf("%s: PublicKey.Verify accepted a %d-byte signature", s, n)
			}
		}
		for _, n := range []int{0, 31, 33, 64} {
			if _, err := crypto.PrivateKeyFromBytes(s, make([]byte, n)); !errors.Is(err, crypto.ErrBadPrivateKey) {
				t.Errorf("%s: PrivateKeyFromBytes with %d bytes: %v", s, n, err)
			}
		}
	}
	for _, s := range []crypto.Scheme{0, 4} {
		if err := crypto.Verify(s, nil, nil, nil); !errors.Is(err, crypto.ErrUnknownScheme) {
			t.Errorf("Verify(%s) error = %v", s, err)
		}
		if _, err := crypto.PublicKeyFromBytes(s, make([]byte, 33)); !errors.Is(err, crypto.ErrUnknownScheme) {
			t.Errorf("PublicKeyFromBytes(%s) error = %v", s, err)
		}
		if _, err := crypto.PrivateKeyFromBytes(s, make([]byte, 32)); !errors.Is(err, crypto.ErrUnknownScheme) {
			t.Errorf("PrivateKeyFromBytes(%s) error = %v", s, err)
		}
	}
}

var (
	p256N = elliptic.P256().Params().N
	sm2N  = sm2.P256().Params().N
)

func TestPrivateKeyRange(t *testing.T) {
	for _, tc := range []struct {
		s   crypto.Scheme
		n   *big.Int
		max int64 // largest valid key is n-max
	}{{crypto.P256, p256N, 1}, {crypto.SM2, sm2N, 2}} {
		at := func(d int64) []byte {
			return new(big.Int).Sub(tc.n, big.NewInt(d)).FillBytes(make([]byte, 32))
		}
		for _, b := range [][]byte{make([]byte, 32), at(0), at(tc.max - 1), bytes.Repeat([]byte{0xff}, 32)} {
			if _, err := crypto.PrivateKeyFromBytes(tc.s, b); !errors.Is(err, crypto.ErrBadPrivateKey) {
				t.Errorf("%s: scalar %x accepted (%v)", tc.s, b, err)
			}
		}
		one := make([]byte, 32)
		one[31] = 1
		for _, b := range [][]byte{one, at(tc.max)} {
			k, err := crypto.PrivateKeyFromBytes(tc.s, b)
			if err != nil {
				t.Fatalf("%s: scalar %x rejected: %v", tc.s, b, err)
			}
			if sig := mustSign(t, k, []byte("edge")); crypto.Verify(tc.s, k.Public().Bytes(), []byte("edge"), sig) != nil {
				t.Errorf("%s: edge key %x cannot sign", tc.s, b)
			}
		}
	}
	// Any 32 bytes are an Ed25519 seed.
	if _, err := crypto.PrivateKeyFromBytes(crypto.Ed25519, bytes.Repeat([]byte{0xff}, 32)); err != nil {
		t.Error(err)
	}
}

// highS returns sig with s replaced by n-s.
func highS(sig []byte, n *big.Int) []byte {
	out := bytes.Clone(sig)
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(n, s).FillBytes(out[32:])
	return out
}

func TestP256LowS(t *testing.T) {
	k := mustKey(t, crypto.P256, 5)
	pub := k.Public().Bytes()
	half := new(big.Int).Rsh(p256N, 1)
	x, y := elliptic.UnmarshalCompressed(elliptic.P256(), pub)
	std := &stdecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
	for i := range 64 {
		msg := []byte{byte(i)}
		sig := mustSign(t, k, msg)
		if new(big.Int).SetBytes(sig[32:]).Cmp(half) > 0 {
			t.Fatalf("Sign produced high S: %x", sig)
		}
		// The flipped signature is mathematically valid, so only the low-S
		// rule can reject it.
		h := sha256.Sum256(msg)
		hi := highS(sig, p256N)
		if !stdecdsa.Verify(std, h[:], new(big.Int).SetBytes(hi[:32]), new(big.Int).SetBytes(hi[32:])) {
			t.Fatal("stdlib rejects the high-S twin")
		}
		err := crypto.Verify(crypto.P256, pub, msg, hi)
		if !errors.Is(err, crypto.ErrBadSignature) || !strings.Contains(err.Error(), "low-S") {
			t.Fatalf("high-S signature: %v", err)
		}
		if k.Public().Verify(msg, hi) {
			t.Fatal("PublicKey.Verify accepted high S")
		}
	}
}

func TestScalarRange(t *testing.T) {
	for _, tc := range []struct {
		s crypto.Scheme
		n *big.Int
	}{{crypto.P256, p256N}, {crypto.SM2, sm2N}} {
		k := mustKey(t, tc.s, 6)
		pub := k.Public().Bytes()
		msg := []byte("range")
		sig := mustSign(t, k, msg)
		var nb [32]byte
		tc.n.FillBytes(nb[:])
		r, s := sig[:32], sig[32:]
		zero := make([]byte, 32)
		for name, bad := range map[string][]byte{
			"r=0":   append(bytes.Clone(zero), s...),
			"s=0":   append(bytes.Clone(r), zero...),
			"r=n":   append(nb[:], s...),
			"s=n":   append(bytes.Clone(r), nb[:]...),
			"r+=n":  append(new(big.Int).Add(new(big.Int).SetBytes(r), tc.n).FillBytes(make([]byte, 33))[1:], s...),
			"all 1": bytes.Repeat([]byte{0xff}, 64),
		} {
			if err := crypto.Verify(tc.s, pub, msg, bad); !errors.Is(err, crypto.ErrBadSignature) {
				t.Errorf("%s %s: %v", tc.s, name, err)
			}
		}
	}
}

func TestBadPoints(t *testing.T) {
	sig := make([]byte, 64)
	sig[31], sig[63] = 1, 1
	for _, s := range []crypto.Scheme{crypto.SM2, crypto.P256} {
		k := mustKey(t, s, 9)
		good := k.Public().Bytes()
		var notOnCurve []byte
		// About half of all x have no point; find one.
		for i := range 256 {
			b := bytes.Clone(good)
			b[32] ^= byte(i)
			if _, err := crypto.PublicKeyFromBytes(s, b); err != nil {
				notOnCurve = b
				break
			}
		}
		for name, b := range map[string][]byte{
			"prefix 04":    append([]byte{4}, good[1:]...),
			"prefix 00":    append([]byte{0}, good[1:]...),
			"x = p":        append([]byte{2}, bytes.Repeat([]byte{0xff}, 32)...),
			"zero":         make([]byte, 33),
			"not on curve": notOnCurve,
		} {
			if _, err := crypto.PublicKeyFromBytes(s, b); !errors.Is(err, crypto.ErrBadPublicKey) {
				t.Errorf("%s %s: PublicKeyFromBytes: %v", s, name, err)
			}
			if err := crypto.Verify(s, b, nil, sig); !errors.Is(err, crypto.ErrBadPublicKey) {
				t.Errorf("%s %s: Verify: %v", s, name, err)
			}
		}
	}
	// y = 2 is not the y of any Ed25519 point.
	bad := make([]byte, 32)
	bad[0] = 2
	if _, err := crypto.PublicKeyFromBytes(crypto.Ed25519, bad); !errors.Is(err, crypto.ErrBadPublicKey) {
		t.Errorf("ed25519 non-point: PublicKeyFromBytes: %v", err)
	}
	if err := crypto.Verify(crypto.Ed25519, bad, nil, sig); !errors.Is(err, crypto.ErrBadPublicKey) {
		t.Errorf("ed25519 non-point: Verify: %v", err)
	}
}

// TestNonCanonicalX checks that x is not read modulo p: a second encoding
// of a key would give the same account a second address.
func TestNonCanonicalX(t *testing.T) {
	for _, tc := range []struct {
		s crypto.Scheme
		c elliptic.Curve
	}{{crypto.P256, elliptic.P256()}, {crypto.SM2, sm2.P256()}} {
		p, b := tc.c.Params().P, tc.c.Params().B
		// Find the smallest x on the curve; x+p still fits 32 bytes.
		x := big.NewInt(1)
		for ; ; x.Add(x, big.NewInt(1)) {
			rhs := new(big.Int).Exp(x, big.NewInt(3), p)
			rhs.Sub(rhs, new(big.Int).Mul(x, big.NewInt(3))).Add(rhs, b).Mod(rhs, p)
			if new(big.Int).ModSqrt(rhs, p) != nil {
				break
			}
		}
		enc := func(v *big.Int) []byte { return append([]byte{2}, v.FillBytes(make([]byte, 32))...) }
		if _, err := crypto.PublicKeyFromBytes(tc.s, enc(x)); err != nil {
			t.Fatalf("%s: x=%v: %v", tc.s, x, err)
		}
		if _, err := crypto.PublicKeyFromBytes(tc.s, enc(new(big.Int).Add(x, p))); !errors.Is(err, crypto.ErrBadPublicKey) {
			t.Errorf("%s: x+p accepted (%v)", tc.s, err)
		}
	}
}

// TestZIP215 pins ZIP-215 behaviour that RFC 8032 verifiers reject: with a
// small-order public key (here the identity, canonically and
// non-canonically encoded) the signature R = identity, S = 0 verifies for
// every message. Nobody holds such a key's secret, but anyone can sign for
// it, which is why the account layer should refuse such keys.
func TestZIP215(t *testing.T) {
	identity := make([]byte, 32)
	identity[0] = 1
	nonCanonical := bytes.Repeat([]byte{0xff}, 32) // y = p+1 = 1 (mod p)
	nonCanonical[0], nonCanonical[31] = 0xee, 0x7f
	sig := append(bytes.Clone(identity), make([]byte, 32)...)
	for _, pub := range [][]byte{identity, nonCanonical} {
		if _, err := crypto.PublicKeyFromBytes(crypto.Ed25519, pub); err != nil {
			t.Fatalf("key %x: %v", pub, err)
		}
		for _, msg := range []string{"", "anything"} {
			if err := crypto.Verify(crypto.Ed25519, pub, []byte(msg), sig); err != nil {
				t.Errorf("key %x msg %q: %v", pub, msg, err)
			}
			ok := make([]bool, 2)
			crypto.VerifyBatch([]crypto.Item{
				{Scheme: crypto.Ed25519, PublicKey: pub, Message: []byte(msg), Signature: sig},
				{Scheme: crypto.Ed25519, PublicKey: pub, Message: []byte("x"), Signature: sig},
			}, ok)
			if !ok[0] || !ok[1] {
				t.Errorf("key %x: batch %v", pub, ok)
			}
		}
	}
	// S must still be canonical (S < L): S = L is rejected.
	l := unhex(t, "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	if err := crypto.Verify(crypto.Ed25519, identity, nil, append(bytes.Clone(identity), l...)); !errors.Is(err, crypto.ErrBadSignature) {
		t.Errorf("S = L: %v", err)
	}
}

// TestEd25519Interop checks keys and signatures against the standard
// library, which implements the same RFC 8032 signing.
func TestEd25519Interop(t *testing.T) {
	k := mustKey(t, crypto.Ed25519, 10)
	std := stded25519.NewKeyFromSeed(k.Bytes())
	if !bytes.Equal(std.Public().(stded25519.PublicKey), k.Public().Bytes()) {
		t.Fatal("public key differs from crypto/ed25519")
	}
	msg := []byte("interop")
	sig := mustSign(t, k, msg)
	if !bytes.Equal(sig, stded25519.Sign(std, msg)) {
		t.Fatal("signature differs from crypto/ed25519")
	}
}

func TestP256Interop(t *testing.T) {
	k := mustKey(t, crypto.P256, 11)
	std, err := stdecdsa.ParseRawPrivateKey(elliptic.P256(), k.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("interop")
	sig := mustSign(t, k, msg)
	h := sha256.Sum256(msg)
	if !stdecdsa.Verify(&std.PublicKey, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("crypto/ecdsa rejects our signature")
	}
}

// TestSM2Interop checks the ZA/e computation against gmsm's own, which
// hashes the message itself when given the default uid.
func TestSM2Interop(t *testing.T) {
	k := mustKey(t, crypto.SM2, 12)
	c := sm2.P256()
	x, y := c.ScalarBaseMult(k.Bytes())
	g := &sm2.PrivateKey{PrivateKey: stdecdsa.PrivateKey{
		PublicKey: stdecdsa.PublicKey{Curve: c, X: x, Y: y},
		D:         new(big.Int).SetBytes(k.Bytes()),
	}}
	for i := range 8 {
		msg := bytes.Repeat([]byte{byte(i)}, 10*i)
		sig := mustSign(t, k, msg)
		var rs struct{ R, S *big.Int }
		rs.R, rs.S = new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		der, err := asn1.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		if !sm2.VerifyASN1WithSM2(&g.PublicKey, nil, msg, der) {
			t.Fatal("gmsm rejects our signature")
		}
		der, err = g.Sign(rand.Reader, msg, sm2.NewSM2SignerOption(true, nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := asn1.Unmarshal(der, &rs); err != nil {
			t.Fatal(err)
		}
		theirs := make([]byte, 64)
		rs.R.FillBytes(theirs[:32])
		rs.S.FillBytes(theirs[32:])
		if err := crypto.Verify(crypto.SM2, k.Public().Bytes(), msg, theirs); err != nil {
			t.Fatalf("gmsm signature rejected: %v", err)
		}
	}
}

// TestSM2KnownAnswer is the signature example of GB/T 32918.5 (GM/T 0003.5)
// on the recommended curve: message "message digest", default user id.
func TestSM2KnownAnswer(t *testing.T) {
	d := unhex(t, "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
	pub := unhex(t, "0309F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020")
	sig := unhex(t, "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"+
		"B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
	msg := []byte("message digest")
	k, err := crypto.PrivateKeyFromBytes(crypto.SM2, d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.Public().Bytes(), pub) {
		t.Fatalf("public key %x, want %x", k.Public().Bytes(), pub)
	}
	if err := crypto.Verify(crypto.SM2, pub, msg, sig); err != nil {
		t.Fatal(err)
	}
	if err := crypto.Verify(crypto.SM2, pub, []byte("message digesT"), sig); err == nil {
		t.Fatal("wrong message accepted")
	}
}

// mixedItems returns 302 items, mostly Ed25519 as on the node, a quarter
// of them bad in various ways, and whether each is good.
func mixedItems(t testing.TB) ([]crypto.Item, []bool) {
	r := mrand.New(seeded(13))
	var items []crypto.Item
	var want []bool
	for i := range 300 {
		s := schemes[i%3]
		if i%5 != 0 {
			s = crypto.Ed25519 // mostly Ed25519, as on the node
		}
		k := mustKey(t, s, uint64(100+i%17))
		msg := []byte{byte(i), byte(i >> 8)}
		sig := mustSign(t, k, msg)
		good := r.IntN(4) != 0
		if !good {
			switch r.IntN(3) {
			case 0:
				msg = append(msg, 1)
			case 1:
				sig[r.IntN(64)] ^= 4
			default:
				sig = sig[:63]
			}
		}
		items = append(items, crypto.Item{Scheme: s, PublicKey: k.Public().Bytes(), Message: msg, Signature: sig})
		want = append(want, good)
	}
	items = append(items, crypto.Item{Scheme: 7}, crypto.Item{Scheme: crypto.Ed25519})
	want = append(want, false, false)
	return items, want
}

func TestVerifyBatchMixed(t *testing.T) {
	items, want := mixedItems(t)
	for _, size := range []int{1, 2, 5, 64, 93, 94, 95, 200, len(items)} {
		for lo := 0; lo < len(items); lo += size {
			hi := min(lo+size, len(items))
			ok := make([]bool, hi-lo)
			crypto.VerifyBatch(items[lo:hi], ok)
			for i := range ok {
				if ok[i] != want[lo+i] {
					t.Fatalf("size %d: item %d (%s): batch %v, want %v", size, lo+i, items[lo+i].Scheme, ok[i], want[lo+i])
				}
				if single := crypto.Verify(items[lo+i].Scheme, items[lo+i].PublicKey, items[lo+i].Message, items[lo+i].Signature) == nil; single != ok[i] {
					t.Fatalf("size %d: item %d: batch %v, single %v", size, lo+i, ok[i], single)
				}
			}
		}
	}
	crypto.VerifyBatch(nil, nil)
	defer func() {
		if recover() == nil {
			t.Error("VerifyBatch with short ok did not panic")
		}
	}()
	crypto.VerifyBatch(items[:2], make([]bool, 1))
}

func TestHashKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		h    crypto.Hash
		name string
		in   string
		want string
	}{
		{crypto.SHA256, "sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{crypto.SHA256, "sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		// GB/T 32905-2016 example 1.
		{crypto.SM3, "sm3", "abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		// GB/T 32905-2016 example 2: "abcd" repeated 16 times.
		{crypto.SM3, "sm3", strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	} {
		if got := tc.h.Sum([]byte(tc.in)); hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("%s(%q) = %x, want %s", tc.h, tc.in, got, tc.want)
		}
		w := tc.h.New()
		w.Write([]byte(tc.in))
		if got := hex.EncodeToString(w.Sum(nil)); got != tc.want {
			t.Errorf("%s New(%q) = %s", tc.h, tc.in, got)
		}
		if tc.h.String() != tc.name || !tc.h.Valid() {
			t.Errorf("String/Valid of %d", uint8(tc.h))
		}
		for _, n := range []string{tc.name, strings.ToUpper(tc.name)} {
			if h, err := crypto.ParseHash(n); err != nil || h != tc.h {
				t.Errorf("ParseHash(%q) = %v, %v", n, h, err)
			}
		}
	}
	for _, n := range []string{"", "sha512", "sha-256", "md5"} {
		if _, err := crypto.ParseHash(n); !errors.Is(err, crypto.ErrUnknownHash) {
			t.Errorf("ParseHash(%q) error = %v", n, err)
		}
	}
	if crypto.Hash(0).Valid() || crypto.Hash(3).String() != "hash(3)" {
		t.Error("invalid hash reported as valid")
	}
}

func TestHashSumParts(t *testing.T) {
	r := mrand.New(seeded(14))
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SM3} {
		for _, total := range []int{0, 1, 63, 64, 65, 511, 512, 513, 5000} {
			data := make([]byte, total)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			want := h.Sum(data)
			// Split into up to 4 parts at random points.
			var parts [][]byte
			rest := data
			for len(parts) < 3 && len(rest) > 0 {
				n := r.IntN(len(rest) + 1)
				parts = append(parts, rest[:n])
				rest = rest[n:]
			}
			parts = append(parts, rest, nil)
			if got := h.Sum(parts...); got != want {
				t.Errorf("%s: Sum of %d parts of %d bytes differs", h, len(parts), total)
			}
		}
		if got, want := h.Sum(), h.Sum(nil); got != want {
			t.Errorf("%s: Sum() != Sum(nil)", h)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Sum on invalid hash did not panic")
		}
	}()
	crypto.Hash(0).Sum(nil)
}

func TestHashSumAllocs(t *testing.T) {
	a, b := make([]byte, 32), make([]byte, 32)
	prefix := []byte{1}
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SM3} {
		if n := testing.AllocsPerRun(100, func() { h.Sum(prefix, a, b) }); n != 0 {
			t.Errorf("%s: Sum of three parts allocates %v times", h, n)
		}
		if n := testing.AllocsPerRun(100, func() { h.Sum(a) }); n != 0 {
			t.Errorf("%s: Sum of one part allocates %v times", h, n)
		}
	}
	for _, s := range schemes {
		k := mustKey(t, s, 15)
		pub := k.Public().Bytes()
		if n := testing.AllocsPerRun(100, func() { crypto.Address(s, pub) }); n != 0 {
			t.Errorf("%s: Address allocates %v times", s, n)
		}
		sig := mustSign(t, k, a)
		n := testing.AllocsPerRun(50, func() { crypto.Verify(s, pub, a, sig) })
		t.Logf("%s: Verify allocates %v times per call (inside the libraries)", s, n)
	}
}

func TestAddress(t *testing.T) {
	// Pinned once: a change here changes every account on every chain.
	for _, tc := range []struct {
		s    crypto.Scheme
		pub  string
		want string
	}{
		// Cross-checked with independent SHA-256 and SM3 implementations.
		{crypto.Ed25519, strings.Repeat("00", 32), "be5e9c049a2ff6470f55cf30260f55395ac1b159"},
		{crypto.SM2, "02" + strings.Repeat("00", 32), "1b6f97417925ed404534be53e4bb6ff4ade8ba72"},
		{crypto.P256, "02" + strings.Repeat("00", 32), "0b2f67ff09832148155f93b6f0c0d5aa5f4ba123"},
	} {
		pub := unhex(t, tc.pub)
		got := crypto.Address(tc.s, pub)
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("Address(%s, %s) = %x, want %s", tc.s, tc.pub, got, tc.want)
		}
		// The definition: last 20 bytes of H(scheme || pub).
		h := crypto.SHA256
		if tc.s == crypto.SM2 {
			h = crypto.SM3
		}
		full := h.Sum(append([]byte{byte(tc.s)}, pub...))
		if !bytes.Equal(got[:], full[12:]) {
			t.Errorf("Address(%s) does not match its definition", tc.s)
		}
	}
	// Keys from one fixed scalar, pinned end to end: scalar -> public key
	// -> address. The Ed25519 and P-256 public keys match an independent
	// implementation.
	d := unhex(t, "7989c155f15ebdb57e2363c0d55e6d0bd35a15422672a0a46a4117b68437941e")
	for _, tc := range []struct {
		s         crypto.Scheme
		pub, addr string
	}{
		{crypto.Ed25519, "7ea74943f390115d8e4268586d06d5b3114bf5f7558051efa1cf490bdda6218b", "842b614051138199c6d4d96200834c47deca9620"},
		{crypto.SM2, "037ce0066647d013abb9e1fab48bdb76235bcecfe86b94150dc1854c999676832a", "3af0fab3da5edc0cc3ddee67a26ff0d51f9954bf"},
		{crypto.P256, "03fddb393bcb4209b4e87f7f6cad43262336712fbedcce1e6fa31009465b71a2b2", "d65a12b2ad4b2cc27810fd0932bb2e9c3625055d"},
	} {
		k, err := crypto.PrivateKeyFromBytes(tc.s, d)
		if err != nil {
			t.Fatal(err)
		}
		pub := k.Public().Bytes()
		a := crypto.Address(tc.s, pub)
		if hex.EncodeToString(pub) != tc.pub || hex.EncodeToString(a[:]) != tc.addr {
			t.Errorf("%s: public key %x address %x, want %s %s", tc.s, pub, a, tc.pub, tc.addr)
		}
	}
}
