package memberproof

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDecodeRoundTripAndRefusals(t *testing.T) {
	cert, sig := bytes.Repeat([]byte{0x30}, 500), bytes.Repeat([]byte{7}, 64)
	c, s, err := Decode(Encode(cert, sig))
	if err != nil || !bytes.Equal(c, cert) || !bytes.Equal(s, sig) {
		t.Fatalf("Decode(Encode(cert, sig)) = %d, %d bytes, %v; want the same parts back", len(c), len(s), err)
	}
	for _, h := range []string{
		"",
		"abc",
		".AAAA",
		"AAAA.",
		"AAAA.AAAA.AAAA",
		"AA-_.AAAA",      // URL alphabet
		"AAA.AAAA",       // bad padding
		"AAAA AAAA.AAAA", // space
		Encode(make([]byte, MaxCert+1), sig),
		Encode(cert, make([]byte, MaxSig+1)),
		strings.Repeat("A", maxHeader+1),
	} {
		if _, _, err := Decode(h); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%.40q): %v, want ErrMalformed", h, err)
		}
	}
}

func TestMessageSeparatesChains(t *testing.T) {
	b := bytes.Repeat([]byte{1}, BindingSize)
	if bytes.Equal(Message("a", append([]byte("b"), b...)), Message("ab", b)) {
		t.Fatal("the messages of chains \"a\" and \"ab\" collide")
	}
	if !bytes.HasPrefix(Message("c", b), []byte("accord api member proof v1\x00c\x00")) {
		t.Fatalf("message %q does not start with the domain and chain id", Message("c", b))
	}
}

// FuzzDecode: any header decodes to parts that encode back to it, or is
// refused with ErrMalformed; never a panic.
func FuzzDecode(f *testing.F) {
	f.Add(Encode([]byte{0x30, 0x82}, []byte{1, 2, 3}))
	f.Add("AAAA.AAAA")
	f.Add("")
	f.Add("....")
	f.Fuzz(func(t *testing.T, h string) {
		c, s, err := Decode(h)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode error %v is not ErrMalformed", err)
			}
			return
		}
		if Encode(c, s) != h {
			t.Fatalf("Decode(%q) accepted a header that does not encode back to itself", h)
		}
	})
}
