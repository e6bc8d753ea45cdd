// Package genesis is a chain's founding document, genesis.json: its chain
// id, time, hash function, the token's issuer and opening balances, and,
// on a permissioned chain, the identity section (organisations, policies,
// parameters, validators). It parses and validates the document; it does
// not create it (internal/provision does) or commit it (chain does).
package genesis

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/strictjson"
	"github.com/accord-chain/accord/types"
)

// Doc is the chain's founding document. Every node of a chain has the
// same bytes; the chain hash of those bytes is the hash of block 0.
type Doc struct {
	ChainID string `json:"chain_id"`
	// Time is the genesis time in unix milliseconds; block 1 comes after it.
	Time uint64 `json:"genesis_time"`
	// Hash is the chain's hash function: "sha256" or "sm3". Fixed forever.
	Hash string `json:"hash"`
	// Crypto is the signature scheme `accord init` used for its keys. Any
	// scheme may sign transactions; this is informational.
	Crypto string `json:"crypto"`
	Token  Token  `json:"token"`
	// Identity, when present, makes the chain permissioned; see
	// Identity.
	Identity *Identity `json:"identity,omitempty"`
}

// Token configures the native token contract.
type Token struct {
	// Issuer is the address allowed to mint and burn on an open chain, and
	// the chain admin that signs node membership changes. Required on an
	// open chain; optional on a permissioned one, where the token.mint and
	// token.burn policies decide who mints.
	Issuer string `json:"issuer,omitempty"`
	// Alloc lists opening balances.
	Alloc []Alloc `json:"alloc,omitempty"`
}

// Alloc is one opening balance. Amount is a decimal string so that
// JSON readers never round it.
type Alloc struct {
	Address string `json:"address"`
	Amount  string `json:"amount"`
}

// ErrBad is returned for a genesis document that fails validation.
var ErrBad = errors.New("bad genesis")

// Validate checks the document and returns its parsed parts. The issuer
// is the zero address when a permissioned chain names none.
func (g *Doc) Validate() (crypto.Hash, types.Address, error) {
	var issuer types.Address
	if g.ChainID == "" || len(g.ChainID) > types.MaxChainIDLen {
		return 0, issuer, fmt.Errorf("%w: chain_id must be 1 to %d bytes", ErrBad, types.MaxChainIDLen)
	}
	h, err := crypto.ParseHash(g.Hash)
	if err != nil {
		return 0, issuer, fmt.Errorf("%w: hash: %v", ErrBad, err)
	}
	if g.Crypto != "" {
		if _, err := crypto.ParseScheme(g.Crypto); err != nil {
			return 0, issuer, fmt.Errorf("%w: crypto: %v", ErrBad, err)
		}
	}
	switch {
	case g.Token.Issuer == "" && g.Identity == nil:
		return 0, issuer, fmt.Errorf("%w: token.issuer is required on an open chain, where it alone mints (a chain with an identity section mints by policy and may leave it out)", ErrBad)
	case g.Token.Issuer != "":
		if issuer, err = types.ParseAddress(g.Token.Issuer); err != nil {
			return 0, issuer, fmt.Errorf("%w: token.issuer: %v", ErrBad, err)
		}
		if issuer == (types.Address{}) {
			return 0, issuer, fmt.Errorf("%w: token.issuer: the zero address has no key; name the issuer's address or, on a permissioned chain, leave it out", ErrBad)
		}
	}
	for i, a := range g.Token.Alloc {
		if _, err := types.ParseAddress(a.Address); err != nil {
			return 0, issuer, fmt.Errorf("%w: token.alloc[%d]: %v", ErrBad, i, err)
		}
		if _, err := strconv.ParseUint(a.Amount, 10, 64); err != nil {
			return 0, issuer, fmt.Errorf("%w: token.alloc[%d].amount: %v", ErrBad, i, err)
		}
	}
	return h, issuer, g.validateIdentity()
}

// Load reads and validates a genesis file, returning the document and
// its exact bytes (which are hashed).
func Load(path string) (*Doc, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	g, err := Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, b, nil
}

// Parse decodes and validates a genesis document. Unknown fields and
// trailing data are errors.
func Parse(b []byte) (*Doc, error) {
	var g Doc
	if err := strictjson.Decode(b, &g); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBad, err)
	}
	if _, _, err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}
