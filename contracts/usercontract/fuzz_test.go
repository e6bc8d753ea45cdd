package usercontract

import (
	"bytes"
	"testing"

	"github.com/accord-chain/accord/vm/wasm"
)

// FuzzDecode: the registry's argument and state decoders must never crash,
// and what decodes must re-encode to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(EncodeFields([]byte("counter"), make([]byte, 32), nil), uint8(3))
	f.Add(Meta{Status: Active, Version: 1}.Encode(), uint8(0))
	f.Add(DefaultParams().Encode(), uint8(0))
	old := DefaultParams().Encode()
	old = old[:len(old)-8]
	old[0] = paramsFormat1
	f.Add(old, uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		if fs, err := DecodeFields(b, int(n%8)); err == nil && !bytes.Equal(EncodeFields(fs...), b) {
			t.Fatalf("fields %x re-encode as %x", b, EncodeFields(fs...))
		}
		if m, err := DecodeMeta(b); err == nil && !bytes.Equal(m.Encode(), b) {
			t.Fatalf("meta %x re-encodes as %x", b, m.Encode())
		}
		if p, err := DecodeParams(b); err == nil {
			if err := p.Validate(); err != nil {
				t.Fatalf("decoded parameters do not validate: %v", err)
			}
		}
	})
}

func TestDecodeRefusals(t *testing.T) {
	for _, b := range [][]byte{{0, 0, 0, 5, 'a'}, {0, 0, 0}, EncodeFields([]byte("a"), []byte("b"))} {
		if _, err := DecodeFields(b, 1); err == nil {
			t.Errorf("DecodeFields(%x, 1) accepted", b)
		}
	}
	bad := Meta{Status: Active}.Encode()
	bad[1] = 9
	if _, err := DecodeMeta(bad); err == nil {
		t.Error("a meta with status 9 decoded")
	}
	p := DefaultParams()
	p.TxGasDefault = p.TxGasMax + 1
	if _, err := DecodeParams(p.Encode()); err == nil {
		t.Error("parameters with a default above the maximum decoded")
	}
	if got, err := DecodeParams(DefaultParams().Encode()); err != nil || got != DefaultParams() {
		t.Errorf("default parameters round trip = %+v, %v", got, err)
	}
	// Format 1, stored before the call base existed: 14 fields, and the
	// call base takes its default.
	old := DefaultParams()
	old.Gas.Instr = 3
	b := old.Encode()
	b = b[:len(b)-8]
	b[0] = paramsFormat1
	if got, err := DecodeParams(b); err != nil || got != old || got.Gas.CallBase != wasm.DefaultCallBase {
		t.Errorf("format-1 parameters decode as %+v, %v; want %+v", got, err, old)
	}
	if _, err := DecodeParams(append(b, make([]byte, 8)...)); err == nil {
		t.Error("format-1 parameters with 15 fields decoded")
	}
}
