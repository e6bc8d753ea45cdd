package api

import (
	"errors"
	"testing"

	"github.com/accord-chain/accord/store"
)

func TestCursor(t *testing.T) {
	c := store.Cursor{Height: 42, Index: 7}
	if s := FormatCursor(c); s != "42.7" {
		t.Fatalf("FormatCursor = %q, want 42.7", s)
	}
	if got, err := ParseCursor("42.7"); err != nil || got != c {
		t.Fatalf("ParseCursor(42.7) = %v, %v", got, err)
	}
	if got, err := ParseCursor(""); err != nil || !got.IsZero() {
		t.Fatalf("ParseCursor(\"\") = %v, %v; want the start", got, err)
	}
	for _, bad := range []string{"42", "x.1", "1.x", "1.99999999999", "-1.2", "1.2.3"} {
		if _, err := ParseCursor(bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("ParseCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

// FuzzParseCursor: what parses writes back the same way.
func FuzzParseCursor(f *testing.F) {
	f.Add("42.7")
	f.Add("18446744073709551615.4294967295")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil || s == "" {
			return
		}
		back, err := ParseCursor(FormatCursor(c))
		if err != nil || back != c {
			t.Fatalf("%q parsed to %v, which does not round-trip: %v, %v", s, c, back, err)
		}
	})
}
