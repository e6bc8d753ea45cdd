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
