package governance

import (
	"errors"
	"fmt"

	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/types"
)

// Gate enforces the configuration in state on every transaction: its
// signer must be a valid member (known CA, not expired, not revoked, a
// role that may send, not frozen) and its call allowed by the method
// policies. It implements execution.Gate.
type Gate struct{ loader *Loader }

// NewGate returns the gate reading configurations through loader.
func NewGate(loader *Loader) *Gate { return &Gate{loader: loader} }

// Block implements execution.Gate.
func (g *Gate) Block(state execution.StateReader, _, time uint64) (execution.BlockGate, error) {
	reg, err := g.loader.Registry(state)
	if err != nil {
		return nil, err
	}
	return blockGate{reg: reg, at: time}, nil
}

type blockGate struct {
	reg *identity.Registry
	at  uint64
}

// Signer resolves and binds the signer. A transaction that arrives
// unbound (decoded from a peer's block, never through this node's pool)
// has had no signature check, so it gets one here.
func (b blockGate) Signer(tx *types.Tx) (any, error, error) {
	verified := tx.Bound()
	m, err := Sender(b.reg, tx, b.at)
	if errors.Is(err, identity.ErrLookup) {
		return nil, nil, err
	}
	if err != nil {
		return nil, err, nil
	}
	if !verified {
		if err := tx.Verify(); err != nil {
			return nil, err, nil
		}
	}
	return m, nil, nil
}

func (b blockGate) Call(signer any, tx *types.Tx) error {
	m, _ := signer.(identity.Member)
	return b.reg.Authorize(m, tx.Body.Contract+"."+tx.Body.Method)
}

// Ref is the identity reference of a transaction's signer.
func Ref(tx *types.Tx) identity.Ref {
	switch {
	case tx.Cert != nil:
		return identity.Ref{Cert: tx.Cert}
	case !tx.CertHash.IsZero():
		return identity.Ref{CertHash: tx.CertHash}
	}
	return identity.Ref{Scheme: tx.Scheme, PublicKey: tx.PublicKey}
}

// Sender resolves tx's signer in reg at time at (unix ms), checks that it
// may send, and binds tx to the member's key (types.Tx.Bind). The error
// wraps an identity sentinel (ErrUnknownCA, ErrExpired, ErrRevoked,
// ErrWrongRole, ErrFrozen, ErrUnknownMember, ErrWrongMode, ...) or
// identity.ErrLookup when state could not be read.
func Sender(reg *identity.Registry, tx *types.Tx, at uint64) (identity.Member, error) {
	m, err := reg.Sender(Ref(tx), at)
	if err != nil {
		return identity.Member{}, err
	}
	if m.Scheme != tx.Scheme {
		return identity.Member{}, fmt.Errorf("%w: the transaction says %s, the signer's certified key is %s", types.ErrMalformed, tx.Scheme, m.Scheme)
	}
	if err := tx.Bind(m.PublicKey); err != nil {
		return identity.Member{}, err
	}
	return m, nil
}
