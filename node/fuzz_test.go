package node

import (
	"encoding/json"
	"testing"
)

// FuzzParseConfig: any bytes give a config that validates, or an error;
// never a panic.
func FuzzParseConfig(f *testing.F) {
	b, _ := json.Marshal(DefaultConfig())
	f.Add(b)
	f.Add([]byte(`{"api":"127.0.0.1:1","solo":{"block_interval":"5ms","max_block_txs":3}}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err == nil && c.Validate() != nil {
			t.Fatal("ParseConfig returned an invalid config without an error")
		}
	})
}

// FuzzParseGenesis: any bytes give a valid genesis or an error.
func FuzzParseGenesis(f *testing.F) {
	f.Add([]byte(`{"chain_id":"c","genesis_time":1,"hash":"sm3","crypto":"sm2","token":{"issuer":"00112233445566778899aabbccddeeff00112233","alloc":[{"address":"00112233445566778899aabbccddeeff00112233","amount":"5"}]}}`))
	f.Add([]byte(`{"chain_id":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGenesis(b)
		if err != nil {
			return
		}
		if _, _, err := g.Validate(); err != nil {
			t.Fatalf("ParseGenesis accepted an invalid genesis: %v", err)
		}
	})
}

func FuzzDecodeRaws(f *testing.F) {
	f.Add(encodeRaws(nil))
	f.Add(encodeRaws([][]byte{{1, 2, 3}, {}, []byte("tx")}))
	f.Add([]byte{0, 0, 0, 9, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := decodeRaws(b)
		if err != nil {
			return
		}
		if again := encodeRaws(items); string(again) != string(b) {
			t.Fatalf("decode then encode changed the bytes")
		}
	})
}

func FuzzDecodeVerdicts(f *testing.F) {
	f.Add(encodeVerdicts([]verdict{{}, {code: 8, reason: "pool_full", msg: "pool full"}}), 2)
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0}, 1)
	f.Fuzz(func(t *testing.T, b []byte, want int) {
		vs, err := decodeVerdicts(b, want)
		if err != nil {
			return
		}
		if again := encodeVerdicts(vs); string(again) != string(b) {
			t.Fatalf("decode then encode changed the bytes")
		}
	})
}
