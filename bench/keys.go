package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// Roles of derived keys and addresses: each has its own domain, so that a
// payer never coincides with a distributor or a merchant.
const (
	rolePayer       = "payer"
	roleDistributor = "distributor"
	roleMerchant    = "merchant"
)

// derive is the 32-byte seed of the i-th key or address of a role.
func derive(seed uint64, role string, i int) [32]byte {
	h := sha256.New()
	io.WriteString(h, "accord-bench/"+role+"/")
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	h.Write(b[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// deriveKey returns the i-th key of a role: the same seed, role and index
// always give the same key.
func deriveKey(s crypto.Scheme, seed uint64, role string, i int) (crypto.PrivateKey, error) {
	return crypto.GenerateKey(s, rand.NewChaCha8(derive(seed, role, i)))
}

// accountSet is a set of derived keys and their addresses.
type accountSet struct {
	keys  []crypto.PrivateKey
	addrs []types.Address
}

// deriveKeys derives keys [0, n) of a role over all cores.
func deriveKeys(ctx context.Context, s crypto.Scheme, seed uint64, role string, n int, prog *progress) (*accountSet, error) {
	set := &accountSet{keys: make([]crypto.PrivateKey, n), addrs: make([]types.Address, n)}
	err := parallel(ctx, n, prog, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			k, err := deriveKey(s, seed, role, i)
			if err != nil {
				return err
			}
			set.keys[i] = k
			set.addrs[i] = types.AddressOf(s, k.Public().Bytes())
		}
		return nil
	})
	return set, err
}

// merchantAddrs derives n merchant addresses; merchants only receive, so
// they need no keys.
func merchantAddrs(seed uint64, n int) []types.Address {
	out := make([]types.Address, n)
	for i := range out {
		d := derive(seed, roleMerchant, i)
		copy(out[i][:], d[:])
	}
	return out
}
