package crypto_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/accord-chain/accord/crypto"
)

func TestKeyCacheGet(t *testing.T) {
	c := crypto.NewKeyCache(100)
	for _, s := range schemes {
		pub := mustKey(t, s, 40).Public().Bytes()
		k1, err := c.Get(s, pub)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		k2, err := c.Get(s, pub)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if k1 != k2 {
			t.Errorf("%s: second Get decoded the key again", s)
		}
		if k1.Scheme() != s || !bytes.Equal(k1.Bytes(), pub) {
			t.Errorf("%s: cached key is %s %x, want %x", s, k1.Scheme(), k1.Bytes(), pub)
		}
		pub[len(pub)-1] ^= 1 // the caller's slice is not retained
		if k, _ := c.Get(s, pub); k == k1 {
			t.Errorf("%s: a changed encoding found the old key", s)
		}
	}
}

func TestKeyCacheErrors(t *testing.T) {
	c := crypto.NewKeyCache(100)
	bad := make([]byte, 32)
	bad[0] = 2 // y = 2 is no Ed25519 point
	for _, tc := range []struct {
		s    crypto.Scheme
		pub  []byte
		want error
	}{
		{crypto.Ed25519, bad, crypto.ErrBadPublicKey},
		{crypto.SM2, make([]byte, 33), crypto.ErrBadPublicKey},
		{crypto.P256, make([]byte, 32), crypto.ErrBadPublicKey},
		{9, make([]byte, 33), crypto.ErrUnknownScheme},
	} {
		for range 2 {
			if _, err := c.Get(tc.s, tc.pub); !errors.Is(err, tc.want) {
				t.Errorf("%s %x: got %v, want %v", tc.s, tc.pub, err, tc.want)
			}
		}
	}
	if n := c.Len(); n != 0 {
		t.Errorf("%d failed keys cached, want none", n)
	}
	// The same bytes under another scheme are another key.
	pub := mustKey(t, crypto.P256, 41).Public().Bytes()
	if k, err := c.Get(crypto.P256, pub); err != nil || k.Scheme() != crypto.P256 {
		t.Fatalf("p256: %v %v", k, err)
	}
	if k, err := c.Get(crypto.SM2, pub); err == nil && k.Scheme() != crypto.SM2 {
		t.Fatalf("sm2 Get of a p256 encoding returned a %s key", k.Scheme())
	}
}

// edKeys returns n distinct Ed25519 public keys; deriving them is cheap.
func edKeys(t testing.TB, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = mustKey(t, crypto.Ed25519, uint64(5000+i)).Public().Bytes()
	}
	return out
}

func TestKeyCacheBounded(t *testing.T) {
	const size = 64
	c := crypto.NewKeyCache(size)
	keys := edKeys(t, 10*size)
	hot := keys[0]
	hotKey, err := c.Get(crypto.Ed25519, hot)
	if err != nil {
		t.Fatal(err)
	}
	for i, pub := range keys[1:] {
		if _, err := c.Get(crypto.Ed25519, pub); err != nil {
			t.Fatal(err)
		}
		if n := c.Len(); n > size {
			t.Fatalf("after %d keys the cache holds %d, limit %d", i+2, n, size)
		}
		// A key in steady use is never dropped.
		if k, _ := c.Get(crypto.Ed25519, hot); k != hotKey {
			t.Fatalf("after %d keys the key in use was dropped", i+2)
		}
	}
	if n := c.Len(); n < size/4 {
		t.Errorf("cache holds %d of %d, expected it to fill", n, size)
	}
}

func TestKeyCacheConcurrent(t *testing.T) {
	c := crypto.NewKeyCache(32)
	keys := edKeys(t, 100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				pub := keys[(i*7+g)%len(keys)]
				k, err := c.Get(crypto.Ed25519, pub)
				if err != nil || !bytes.Equal(k.Bytes(), pub) {
					t.Errorf("Get %x: %v", pub, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n > 32 {
		t.Errorf("cache holds %d, limit 32", n)
	}
}

// foreignKey implements PublicKey outside the package; VerifyBatch must
// not trust it.
type foreignKey struct{ crypto.PublicKey }

func (foreignKey) Verify(msg, sig []byte) bool { return true }

// TestVerifyBatchKeys checks that a Key changes no verdict: a batch with
// every key decoded, with some decoded, and with keys that do not belong
// to their items gives the same results as Verify.
func TestVerifyBatchKeys(t *testing.T) {
	c := crypto.NewKeyCache(1000)
	items, want := mixedItems(t)
	withKeys := make([]crypto.Item, len(items))
	wrong := make([]crypto.Item, len(items))
	for i, it := range items {
		withKeys[i], wrong[i] = it, it
		if k, err := c.Get(it.Scheme, it.PublicKey); err == nil {
			withKeys[i].Key = k
		}
		// Each item gets a key that is not its own: another signer's,
		// another scheme's, one made by a private key, or a foreign type.
		other := items[(i+1)%len(items)]
		switch i % 4 {
		case 0:
			wrong[i].Key, _ = c.Get(other.Scheme, other.PublicKey)
		case 1:
			s := crypto.Scheme(int(it.Scheme)%3 + 1)
			wrong[i].Key = mustKey(t, s, uint64(100+i%17)).Public()
		case 2:
			wrong[i].Key = mustKey(t, it.Scheme%4, 999).Public()
		default:
			wrong[i].Key = foreignKey{}
		}
	}
	partial := make([]crypto.Item, len(items))
	for i := range partial {
		partial[i] = withKeys[i]
		if i%3 == 0 {
			partial[i].Key = nil
		}
	}
	for name, set := range map[string][]crypto.Item{"keys": withKeys, "some keys": partial, "wrong keys": wrong} {
		for _, size := range []int{1, 2, 5, 64, 93, 94, 95, 200, len(set)} {
			for lo := 0; lo < len(set); lo += size {
				hi := min(lo+size, len(set))
				ok := make([]bool, hi-lo)
				crypto.VerifyBatch(set[lo:hi], ok)
				for i := range ok {
					if ok[i] != want[lo+i] {
						t.Fatalf("%s, size %d: item %d (%s): batch %v, Verify %v", name, size, lo+i, set[lo+i].Scheme, ok[i], want[lo+i])
					}
				}
			}
		}
	}
}

func TestPublicKeyVerifyExpanded(t *testing.T) {
	// A key from PublicKeyFromBytes (expanded) and from PrivateKey.Public
	// (not) agree on good and tampered signatures.
	for i := range 20 {
		k := mustKey(t, crypto.Ed25519, uint64(70+i))
		parsed, err := crypto.PublicKeyFromBytes(crypto.Ed25519, k.Public().Bytes())
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte(fmt.Sprint("m", i))
		sig := mustSign(t, k, msg)
		if i%2 == 1 {
			sig[i] ^= 0x10
		}
		a, b := k.Public().Verify(msg, sig), parsed.Verify(msg, sig)
		if a != b || a != (i%2 == 0) {
			t.Fatalf("signature %d: Public().Verify %v, parsed Verify %v", i, a, b)
		}
	}
}
