package crypto_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/accord-chain/accord/crypto"
)

// FuzzVerify feeds arbitrary keys, messages and signatures to every scheme:
// nothing may panic, errors must wrap a sentinel, and VerifyBatch (with
// and without decoded keys), PublicKey.Verify and Verify must agree.
func FuzzVerify(f *testing.F) {
	msg := []byte("fuzz")
	for _, s := range schemes {
		k := mustKey(f, s, 20)
		sig := mustSign(f, k, msg)
		pub := k.Public().Bytes()
		f.Add(uint8(s), pub, msg, sig)
		bad := bytes.Clone(sig)
		bad[0] ^= 1
		f.Add(uint8(s), pub, msg, bad)
		f.Add(uint8(s), pub[1:], msg, sig)
		f.Add(uint8(s), make([]byte, s.PublicKeySize()), msg, make([]byte, 64))
	}
	f.Add(uint8(0), []byte{}, []byte{}, []byte{})

	// A valid Ed25519 item rides along so that an Ed25519 input is checked
	// by the batch equation, not the single-item shortcut.
	ek := mustKey(f, crypto.Ed25519, 21)
	good := crypto.Item{Scheme: crypto.Ed25519, PublicKey: ek.Public().Bytes(), Message: msg, Signature: mustSign(f, ek, msg)}
	goodKeyed := good
	goodKeyed.Key, _ = crypto.PublicKeyFromBytes(crypto.Ed25519, good.PublicKey)

	f.Fuzz(func(t *testing.T, scheme uint8, pub, msg, sig []byte) {
		s := crypto.Scheme(scheme % 5) // mostly known schemes, some unknown
		err := crypto.Verify(s, pub, msg, sig)
		if err != nil && !errors.Is(err, crypto.ErrBadSignature) &&
			!errors.Is(err, crypto.ErrBadPublicKey) && !errors.Is(err, crypto.ErrUnknownScheme) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		it := crypto.Item{Scheme: s, PublicKey: pub, Message: msg, Signature: sig}
		ok := make([]bool, 3)
		crypto.VerifyBatch([]crypto.Item{it, good, it}, ok)
		if ok[0] != (err == nil) || ok[2] != (err == nil) || !ok[1] {
			t.Fatalf("batch %v, single %v", ok, err)
		}
		one := []bool{err != nil}
		crypto.VerifyBatch([]crypto.Item{it}, one)
		if one[0] != (err == nil) {
			t.Fatalf("batch of one %v, single %v", one[0], err)
		}
		p, perr := crypto.PublicKeyFromBytes(s, pub)
		if perr != nil {
			if err == nil {
				t.Fatalf("Verify accepted a key PublicKeyFromBytes rejects: %v", perr)
			}
			return
		}
		if p.Verify(msg, sig) != (err == nil) {
			t.Fatalf("PublicKey.Verify disagrees with Verify (%v)", err)
		}
		// With the key decoded, Ed25519 takes the precomputed batch path.
		it.Key = p
		crypto.VerifyBatch([]crypto.Item{it, goodKeyed, it}, ok)
		if ok[0] != (err == nil) || ok[2] != (err == nil) || !ok[1] {
			t.Fatalf("batch with decoded keys %v, single %v", ok, err)
		}
		if !bytes.Equal(p.Bytes(), pub) {
			t.Fatal("public key does not round trip")
		}
	})
}
