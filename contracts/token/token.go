// Package token is the native digital-currency contract, named "token".
//
// One issuer, set at genesis, mints and burns (on a permissioned chain,
// whoever the "token.mint" and "token.burn" policies allow: NewByPolicy);
// anyone transfers from their own balance. Amounts are unsigned 64-bit integers in the currency's
// smallest unit. The sum of all balances always equals the supply.
//
// State, within the contract's namespace (see execution.ContractKey):
//
//	"issuer"               20-byte address
//	"supply"               u64 big-endian
//	"b/" + 20-byte address u64 big-endian balance; absent means 0, and a
//	                       balance that reaches 0 is deleted
//
// The token is an execution.Predictor, so blocks of its calls run in
// parallel. A transfer reads and writes its sender's balance and only adds
// to its recipient's (execution.Context.AddUint64, declared as a credit):
// transfers to one merchant commute and do not serialise a block. Mint and
// burn read and write the supply and read the issuer, so they run in block
// order among themselves; a mint credits its recipient.
//
// Crediting relies on one invariant: every balance is at most the supply,
// and the supply never exceeds 2^64-1 (genesis and mint check it), so adding
// an amount that has left another balance, or that mint has just added to
// the supply, can never overflow a balance. A state that breaks it (one
// written by hand) still executes correctly: the executor detects the
// overflow and runs the block sequentially, where the credit fails with
// ErrOverflow.
//
// The package reads and writes state only through an execution.Context (or,
// for queries, an execution.StateReader). It must stay deterministic.
package token

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Name is the contract's name in transactions.
const Name = tokencall.Name

// Methods; tokencall encodes their arguments.
const (
	MethodMint     = tokencall.MethodMint
	MethodBurn     = tokencall.MethodBurn
	MethodTransfer = tokencall.MethodTransfer
)

// Errors a call fails with, wrapped with detail; a receipt's message starts
// with the sentinel's text.
var (
	ErrNotIssuer     = errors.New("not the issuer")
	ErrInsufficient  = errors.New("insufficient balance")
	ErrOverflow      = execution.ErrOverflow
	ErrBadAmount     = errors.New("bad amount")
	ErrBadAddress    = errors.New("bad address")
	ErrBadArgs       = errors.New("malformed arguments")
	ErrUnknownMethod = execution.ErrUnknownMethod
)

// Relative keys within the namespace.
const (
	issuerKey  = "issuer"
	supplyKey  = "supply"
	balancePfx = "b/"
)

// Token is the contract. Its zero value is ready to use and holds no state.
type Token struct {
	byPolicy bool
}

// New returns the token contract.
func New() *Token { return &Token{} }

// NewByPolicy returns the token contract of a permissioned chain: mint and
// burn are authorised by the chain's method policies ("token.mint",
// "token.burn"), which the execution Gate checks before the call, not by
// the issuer key. Only a chain with a Gate that enforces such policies may
// use it.
func NewByPolicy() *Token { return &Token{byPolicy: true} }

// Name returns "token".
func (*Token) Name() string { return Name }

// Call runs one method.
func (t *Token) Call(ctx *execution.Context, method string, args []byte) error {
	switch method {
	case MethodTransfer:
		return transfer(ctx, args)
	case MethodMint:
		return mint(ctx, args, t.byPolicy)
	case MethodBurn:
		return burn(ctx, args, t.byPolicy)
	}
	return fmt.Errorf("%w: token has no method %q (it has mint, burn, transfer)", ErrUnknownMethod, method)
}

// Predict declares the keys a call touches; see execution.Predictor. It
// decodes the arguments as Call does, and keeps them for Call: a call that
// fails before touching state declares nothing but what it reads first.
func (*Token) Predict(acc *execution.AccessList, sender types.Address, method string, args []byte) bool {
	switch method {
	case MethodTransfer:
		a := new(pb.TransferArgs)
		if decode(args, a) != nil {
			return true
		}
		acc.Keep(a)
		to, err := address("to", a.To)
		if err != nil || a.Amount == 0 {
			return true
		}
		fk := balanceKey(sender)
		acc.Exclusive(fk[:])
		if to != sender {
			tk := balanceKey(to)
			acc.Credit(tk[:])
		}
	case MethodMint:
		acc.Exclusive([]byte(issuerKey))
		a := new(pb.MintArgs)
		if decode(args, a) != nil {
			return true
		}
		acc.Keep(a)
		to, err := address("to", a.To)
		if err != nil || a.Amount == 0 {
			return true
		}
		acc.Exclusive([]byte(supplyKey))
		tk := balanceKey(to)
		acc.Credit(tk[:])
	case MethodBurn:
		acc.Exclusive([]byte(issuerKey))
		fk := balanceKey(sender)
		acc.Exclusive(fk[:])
		acc.Exclusive([]byte(supplyKey))
	}
	return true
}

// transfer moves amount from the sender to args.to. A transfer to oneself
// succeeds when the balance covers the amount, changes no balance and still
// emits its event: it is accepted like any other so that clients need no
// special case, and it cannot create money.
func transfer(ctx *execution.Context, args []byte) error {
	a, err := decodeArgs[pb.TransferArgs](ctx, args)
	if err != nil {
		return err
	}
	to, err := address("to", a.To)
	if err != nil {
		return err
	}
	if a.Amount == 0 {
		return fmt.Errorf("%w: transfer of 0", ErrBadAmount)
	}
	from := ctx.Sender()
	fk, have, err := covered(ctx, a.Amount)
	if err != nil {
		return err
	}
	if to != from {
		setBalance(ctx, fk[:], have-a.Amount)
		if err := credit(ctx, to, a.Amount); err != nil {
			return err
		}
	}
	ctx.Emit(MethodTransfer, attrs("from", hexAddr(from), "to", hexAddr(to), "amount", strconv.FormatUint(a.Amount, 10))...)
	return nil
}

func mint(ctx *execution.Context, args []byte, byPolicy bool) error {
	if err := onlyIssuer(ctx, MethodMint, byPolicy); err != nil {
		return err
	}
	a, err := decodeArgs[pb.MintArgs](ctx, args)
	if err != nil {
		return err
	}
	to, err := address("to", a.To)
	if err != nil {
		return err
	}
	if a.Amount == 0 {
		return fmt.Errorf("%w: mint of 0", ErrBadAmount)
	}
	supply, err := getU64(ctx, []byte(supplyKey))
	if err != nil {
		return err
	}
	newSupply, carry := bits.Add64(supply, a.Amount, 0)
	if carry != 0 {
		return fmt.Errorf("%w: supply %d plus %d exceeds %d", ErrOverflow, supply, a.Amount, uint64(math.MaxUint64))
	}
	setU64(ctx, []byte(supplyKey), newSupply)
	if err := credit(ctx, to, a.Amount); err != nil {
		return err
	}
	ctx.Emit(MethodMint, attrs("to", hexAddr(to), "amount", strconv.FormatUint(a.Amount, 10))...)
	return nil
}

// burn destroys amount from the issuer's own balance.
func burn(ctx *execution.Context, args []byte, byPolicy bool) error {
	if err := onlyIssuer(ctx, MethodBurn, byPolicy); err != nil {
		return err
	}
	var a pb.BurnArgs
	if err := decode(args, &a); err != nil {
		return err
	}
	if a.Amount == 0 {
		return fmt.Errorf("%w: burn of 0", ErrBadAmount)
	}
	from := ctx.Sender()
	fk, have, err := covered(ctx, a.Amount)
	if err != nil {
		return err
	}
	supply, err := getU64(ctx, []byte(supplyKey))
	if err != nil {
		return err
	}
	if supply < a.Amount {
		return fmt.Errorf("%w: token supply %d is less than the issuer's balance %d", execution.ErrCorrupt, supply, have)
	}
	setBalance(ctx, fk[:], have-a.Amount)
	setU64(ctx, []byte(supplyKey), supply-a.Amount)
	ctx.Emit(MethodBurn, attrs("from", hexAddr(from), "amount", strconv.FormatUint(a.Amount, 10))...)
	return nil
}

// credit adds amount to a balance without reading it, so that credits to
// one account commute (see the package comment for why it cannot overflow).
func credit(ctx *execution.Context, to types.Address, amount uint64) error {
	tk := balanceKey(to)
	err := ctx.AddUint64(tk[:], amount)
	if errors.Is(err, ErrOverflow) {
		return fmt.Errorf("%w: balance of %s would exceed %d", ErrOverflow, to, uint64(math.MaxUint64))
	}
	return err
}

// covered reads the sender's balance key and balance, and checks that the
// balance covers amount.
func covered(ctx *execution.Context, amount uint64) (key [len(balancePfx) + len(types.Address{})]byte, have uint64, err error) {
	key = balanceKey(ctx.Sender())
	if have, err = getU64(ctx, key[:]); err != nil {
		return key, 0, err
	}
	if have < amount {
		return key, have, fmt.Errorf("%w: have %d, need %d", ErrInsufficient, have, amount)
	}
	return key, have, nil
}

func onlyIssuer(ctx *execution.Context, method string, byPolicy bool) error {
	v, err := ctx.Get([]byte(issuerKey))
	if err != nil || byPolicy {
		// By policy the Gate has decided; the issuer is still read, as
		// Predict declares, so both paths touch the same keys.
		return err
	}
	if v == nil {
		return fmt.Errorf("%w: the token has no issuer, so nobody can %s", ErrNotIssuer, method)
	}
	if len(v) != len(types.Address{}) {
		return fmt.Errorf("%w: token issuer is %d bytes, want 20", execution.ErrCorrupt, len(v))
	}
	if issuer, s := types.Address(v), ctx.Sender(); issuer != s {
		return fmt.Errorf("%w: only %s may %s, not %s", ErrNotIssuer, issuer, method, s)
	}
	return nil
}

// decodeArgs returns the call's arguments as Predict kept them, or decodes
// them.
func decodeArgs[T any, P interface {
	*T
	proto.Message
}](ctx *execution.Context, args []byte) (P, error) {
	if a, ok := ctx.Kept().(P); ok {
		return a, nil
	}
	a := P(new(T))
	return a, decode(args, a)
}

// decode reads a native args message. Unknown fields are rejected, as in
// transactions, so that one args value has one meaning on every node. The
// error names the message but not protobuf's reason: that text varies
// between runs by design, and a receipt's message must not.
func decode(args []byte, m proto.Message) error {
	if err := (proto.UnmarshalOptions{}).Unmarshal(args, m); err != nil {
		return fmt.Errorf("%w: not a valid %s message", ErrBadArgs, m.ProtoReflect().Descriptor().Name())
	}
	if len(m.ProtoReflect().GetUnknown()) > 0 {
		return fmt.Errorf("%w: %s has unknown fields", ErrBadArgs, m.ProtoReflect().Descriptor().Name())
	}
	return nil
}

func address(field string, b []byte) (types.Address, error) {
	if len(b) != len(types.Address{}) {
		return types.Address{}, fmt.Errorf("%w: %s is %d bytes, want 20", ErrBadAddress, field, len(b))
	}
	return types.Address(b), nil
}

func balanceKey(a types.Address) (k [len(balancePfx) + len(types.Address{})]byte) {
	copy(k[copy(k[:], balancePfx):], a[:])
	return k
}

func getU64(ctx *execution.Context, key []byte) (uint64, error) {
	v, err := ctx.Get(key)
	if err != nil {
		return 0, err
	}
	return decodeU64(key, v)
}

func decodeU64(key, v []byte) (uint64, error) {
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("%w: token entry %q is %d bytes, want 8", execution.ErrCorrupt, key, len(v))
}

func setU64(ctx *execution.Context, key []byte, v uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	ctx.Set(key, b[:])
}

func setBalance(ctx *execution.Context, key []byte, v uint64) {
	if v == 0 {
		ctx.Delete(key)
		return
	}
	setU64(ctx, key, v)
}

// attrBlock holds up to three event attributes and the pointers Emit
// takes, so that one allocation serves an event's attributes.
type attrBlock struct {
	a [3]pb.Attribute
	p [3]*pb.Attribute
}

// attrs builds an event's attributes from key, value pairs.
func attrs(kv ...string) []*pb.Attribute {
	x := new(attrBlock)
	n := len(kv) / 2
	for i := range n {
		x.a[i].Key, x.a[i].Value = kv[2*i], kv[2*i+1]
		x.p[i] = &x.a[i]
	}
	return x.p[:n:n]
}

// hexAddr is a.String() in one allocation rather than two.
func hexAddr(a types.Address) string {
	var b [2 * len(types.Address{})]byte
	hex.Encode(b[:], a[:])
	return string(b[:])
}
