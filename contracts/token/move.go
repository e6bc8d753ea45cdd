package token

import (
	"fmt"
	"strconv"

	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
)

// Move takes amount from from's balance and credits it to to, within the
// token's namespace, and emits the token's transfer event: how another
// native contract (pay) moves money while the token keeps its invariant.
// The caller's Predict declares the same keys with DeclareMove. A move to
// oneself changes no balance but still needs the amount.
func Move(ctx *execution.Context, from, to types.Address, amount uint64) error {
	return move(ctx, from, to, amount, true)
}

// MoveQuiet is Move without the transfer event, for a caller whose own
// event names both accounts and the amount (a pay payment): one event
// less makes every receipt, its hash and its stream smaller.
func MoveQuiet(ctx *execution.Context, from, to types.Address, amount uint64) error {
	return move(ctx, from, to, amount, false)
}

func move(ctx *execution.Context, from, to types.Address, amount uint64, emit bool) error {
	return ctx.Within(Name, func() error {
		if amount == 0 {
			return fmt.Errorf("%w: move of 0", ErrBadAmount)
		}
		fk := balanceKey(from)
		have, err := getU64(ctx, fk[:])
		if err != nil {
			return err
		}
		if have < amount {
			return fmt.Errorf("%w: have %d, need %d", ErrInsufficient, have, amount)
		}
		if to != from {
			setBalance(ctx, fk[:], have-amount)
			if err := credit(ctx, to, amount); err != nil {
				return err
			}
		}
		if emit {
			ctx.Emit(MethodTransfer, attrs("from", hexAddr(from), "to", hexAddr(to), "amount", strconv.FormatUint(amount, 10))...)
		}
		return nil
	})
}

// DeclareMove declares the keys of Move: from's balance exclusively, to's
// as a credit, so that moves to one account commute.
func DeclareMove(acc *execution.AccessList, from, to types.Address) {
	acc.Within(Name, func() {
		fk := balanceKey(from)
		acc.Exclusive(fk[:])
		if to != from {
			tk := balanceKey(to)
			acc.Credit(tk[:])
		}
	})
}

// IssuedBy reports whether a is the token's issuer, reading the issuer
// within the token's namespace; DeclareIssuer declares that read.
func IssuedBy(ctx *execution.Context, a types.Address) (bool, error) {
	var is bool
	err := ctx.Within(Name, func() error {
		v, err := ctx.Get([]byte(issuerKey))
		is = len(v) == len(a) && types.Address(v) == a
		return err
	})
	return is, err
}

// DeclareIssuer declares IssuedBy's read.
func DeclareIssuer(acc *execution.AccessList) {
	acc.Within(Name, func() { acc.Read([]byte(issuerKey)) })
}
