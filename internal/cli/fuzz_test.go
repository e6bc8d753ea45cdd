package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParseSignedTx: any file given to `accord tx send` is read or
// refused with errNotSignedTx, never a panic.
func FuzzParseSignedTx(f *testing.F) {
	f.Add([]byte(`{"tx_id":"ab","chain_id":"accord-dev","tx":"0a0b"}`))
	f.Add([]byte(`{"tx":""}`))
	f.Add([]byte(`{"tx":"zz"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, raw, err := parseSignedTx(b)
		if err != nil && !errors.Is(err, errNotSignedTx) {
			t.Fatalf("error %v is not errNotSignedTx", err)
		}
		if err == nil && len(raw) == 0 {
			t.Fatal("accepted a file with no transaction")
		}
	})
}

// FuzzNormalSerial: a serial either normalises to the chain's form
// (lower-case hex, no leading zero), stable under normalising again, or is
// refused with errBadSerial.
func FuzzNormalSerial(f *testing.F) {
	for _, s := range []string{"0A1F", "0a:1f", "serial=04", "0x10", "", "00", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := normalSerial(s)
		if err != nil {
			if !errors.Is(err, errBadSerial) {
				t.Fatalf("error %v is not errBadSerial", err)
			}
			return
		}
		if n == "" || n[0] == '0' || strings.Trim(n, "0123456789abcdef") != "" {
			t.Fatalf("normalSerial(%q) = %q, not lower-case hex without a leading zero", s, n)
		}
		if again, err := normalSerial(n); err != nil || again != n {
			t.Fatalf("normalSerial(%q) = %q, %v; want it unchanged", n, again, err)
		}
	})
}

// FuzzSummariseChange: a change read from the chain is summarised into
// valid JSON, or left as it was.
func FuzzSummariseChange(f *testing.F) {
	f.Add([]byte(`{"kind":"add_org","org":"org5","ca_pem":"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"}`))
	f.Add([]byte(`{"kind":"add_node","node":{"id":"n","cert_pem":"x"}}`))
	f.Add([]byte(`{"node":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := summariseChange(b)
		if string(out) != string(b) && !json.Valid(out) {
			t.Fatalf("summariseChange(%q) = %q: changed but not JSON", b, out)
		}
	})
}
