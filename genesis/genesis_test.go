package genesis

import (
	"errors"
	"strings"
	"testing"
)

func TestGenesisValidate(t *testing.T) {
	good := Doc{ChainID: "c", Hash: "sha256", Token: Token{Issuer: strings.Repeat("a", 40)}}
	if _, _, err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(g *Doc){
		"no chain id":  func(g *Doc) { g.ChainID = "" },
		"bad hash":     func(g *Doc) { g.Hash = "md5" },
		"bad crypto":   func(g *Doc) { g.Crypto = "rsa" },
		"bad issuer":   func(g *Doc) { g.Token.Issuer = "x" },
		"no issuer":    func(g *Doc) { g.Token.Issuer = "" },
		"zero issuer":  func(g *Doc) { g.Token.Issuer = strings.Repeat("0", 40) },
		"bad alloc":    func(g *Doc) { g.Token.Alloc = []Alloc{{Address: "x", Amount: "1"}} },
		"bad amount":   func(g *Doc) { g.Token.Alloc = []Alloc{{Address: good.Token.Issuer, Amount: "-1"}} },
		"float amount": func(g *Doc) { g.Token.Alloc = []Alloc{{Address: good.Token.Issuer, Amount: "1e3"}} },
	} {
		g := good
		mut(&g)
		if _, _, err := g.Validate(); !errors.Is(err, ErrBad) {
			t.Errorf("%s: %v, want ErrBad", name, err)
		}
	}
}

// FuzzParseGenesis: any bytes give a valid genesis or an error.
func FuzzParseGenesis(f *testing.F) {
	f.Add([]byte(`{"chain_id":"c","genesis_time":1,"hash":"sm3","crypto":"sm2","token":{"issuer":"00112233445566778899aabbccddeeff00112233","alloc":[{"address":"00112233445566778899aabbccddeeff00112233","amount":"5"}]}}`))
	f.Add([]byte(`{"chain_id":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Parse(b)
		if err != nil {
			return
		}
		if _, _, err := g.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid genesis: %v", err)
		}
	})
}
