// Package pay is the native payments contract, named "pay": merchants,
// payment requests paid at most once, payments with or without a request,
// refunds never above what was paid, and each merchant's daily statement.
//
// Money moves through the token contract's balances (token.Move), so the
// sum of all balances stays the supply. A merchant's account is its owner,
// fixed at registration.
//
// State, within the contract's namespace (see execution.ContractKey):
//
//	"m/" + merchant id                       Merchant (never changes)
//	"r/" + request id (32)                   Request
//	"e/" + merchant + "/" + day(4) + height(8) + index(4)
//	                                         Entry: the day's payments and
//	                                         refunds in block order
//
// Request, payment and refund ids are their transactions' ids; days are
// UTC days of the block time (paycall.Day), big-endian. A day's totals
// are summed from its entries when a statement is read (DayTotals): day
// counters in state would cost every payment two more writes. A payment's
// entry is its only record (payer, request, amount refunded): a second
// record keyed by its id would cost every payment one more write, so a
// refund names the entry's key, the payment's place (paycall.Place),
// which clients read from the payment's transaction.
//
// Parallel execution. Pay is an execution.Predictor. A payment reads the
// merchant (declared read: nobody writes it after registration, so
// payments to one merchant do not order each other), debits the payer's
// balance, credits the owner's balance (a credit, which commutes), and
// writes its own statement entry (a key no other transaction touches). A
// merchant paid by most of a block therefore does not serialise it. The
// day's statement is its entries, which are in state in block order:
// their totals (DayTotals) and the Merkle root over their ids (Root). A
// payment must name the owner (PayArgs.to) to be predicted; a refund,
// whose payer only the payment's entry knows, and a cancel, whose
// merchant only the request knows, cannot be: each makes its block run in
// order, with the same result.
//
// The package reads and writes state only through an execution.Context (or,
// for queries, an execution.StateReader). It must stay deterministic.
package pay

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/pay/pb"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
	typespb "github.com/accord-chain/accord/types/pb"
)

// Name is the contract's name in transactions.
const Name = paycall.Name

// Errors a call fails with, wrapped with detail; a receipt's message
// starts with the sentinel's text, so the reasons the issue names
// (already_paid, expired, cancelled, refund_exceeds_payment) lead it.
var (
	ErrAlreadyPaid      = errors.New("already_paid")
	ErrExpired          = errors.New("expired")
	ErrCancelled        = errors.New("cancelled")
	ErrRefundExceeds    = errors.New("refund_exceeds_payment")
	ErrUnknownMerchant  = errors.New("unknown_merchant")
	ErrMerchantExists   = errors.New("merchant_exists")
	ErrUnknownRequest   = errors.New("unknown_request")
	ErrUnknownPayment   = errors.New("unknown_payment")
	ErrNotOwner         = errors.New("not_owner")
	ErrNotAuthorised    = errors.New("not_authorised")
	ErrWrongAmount      = errors.New("wrong_amount")
	ErrWrongMerchant    = errors.New("wrong_merchant")
	ErrBadArgs          = errors.New("malformed arguments")
	ErrSumOverflow      = errors.New("sum_overflow")
	ErrUnknownMethod    = execution.ErrUnknownMethod
	errCorrupt          = execution.ErrCorrupt
	errBadAmountMessage = "amount must be more than 0"
)

// Request states.
const (
	statusOpen      = 0
	statusPaid      = 1
	statusCancelled = 2
)

// Entry kinds.
const (
	KindPayment = 1
	KindRefund  = 2
)

// Pay is the contract.
type Pay struct {
	byPolicy bool
}

// New returns the contract of an open chain, where the token issuer adds
// merchants.
func New() *Pay { return &Pay{} }

// NewByPolicy returns the contract of a permissioned chain: add_merchant
// is authorised by the chain's method policy "pay.add_merchant", which the
// execution Gate checks before the call.
func NewByPolicy() *Pay { return &Pay{byPolicy: true} }

// Name returns "pay".
func (*Pay) Name() string { return Name }

// Call runs one method.
func (p *Pay) Call(ctx *execution.Context, method string, args []byte) error {
	switch method {
	case paycall.MethodAddMerchant:
		return p.addMerchant(ctx, args)
	case paycall.MethodRequest:
		return request(ctx, args)
	case paycall.MethodCancel:
		return cancel(ctx, args)
	case paycall.MethodPay:
		return pay(ctx, args)
	case paycall.MethodRefund:
		return refund(ctx, args)
	}
	return fmt.Errorf("%w: pay has no method %q (it has add_merchant, request, cancel, pay, refund)", ErrUnknownMethod, method)
}

// Predict declares the keys a call touches; see the package comment.
func (p *Pay) Predict(acc *execution.AccessList, sender types.Address, method string, args []byte) bool {
	switch method {
	case paycall.MethodAddMerchant:
		a := new(pb.AddMerchantArgs)
		if decode(args, a) != nil {
			return true
		}
		acc.Exclusive(merchantKey(a.Id))
		if !p.byPolicy {
			token.DeclareIssuer(acc)
		}
	case paycall.MethodRequest:
		a := new(pb.RequestArgs)
		if decode(args, a) != nil {
			return true
		}
		acc.Read(merchantKey(a.Merchant))
		id := acc.TxID()
		acc.Exclusive(requestKey(id[:]))
	case paycall.MethodCancel:
		// Only the request names its merchant, whose owner may cancel:
		// a cancel runs its block in order.
		return false
	case paycall.MethodPay:
		a := new(pb.PayArgs)
		if decode(args, a) != nil {
			return true
		}
		if len(a.To) != len(types.Address{}) {
			return false
		}
		acc.Keep(a)
		acc.Read(merchantKey(a.Merchant))
		if len(a.Request) > 0 {
			acc.Exclusive(requestKey(a.Request))
		}
		token.DeclareMove(acc, sender, types.Address(a.To))
		acc.Exclusive(entryKey(a.Merchant, paycall.Day(acc.Time()), acc.Height(), uint32(acc.TxIndex())))
	case paycall.MethodRefund:
		return false
	}
	return true
}

func (p *Pay) addMerchant(ctx *execution.Context, args []byte) error {
	var a pb.AddMerchantArgs
	if err := decode(args, &a); err != nil {
		return err
	}
	if err := paycall.CheckID(a.Id); err != nil {
		return fmt.Errorf("%w: %w", ErrBadArgs, err)
	}
	if len(a.Name) > paycall.MaxNameLen || !utf8.ValidString(a.Name) {
		return fmt.Errorf("%w: name must be valid UTF-8 of at most %d bytes", ErrBadArgs, paycall.MaxNameLen)
	}
	owner, err := address("owner", a.Owner)
	if err != nil {
		return err
	}
	if !p.byPolicy {
		is, err := token.IssuedBy(ctx, ctx.Sender())
		if err != nil {
			return err
		}
		if !is {
			return fmt.Errorf("%w: on an open chain only the token issuer adds merchants, not %s", ErrNotAuthorised, ctx.Sender())
		}
	}
	k := merchantKey(a.Id)
	v, err := ctx.Get(k)
	if err != nil {
		return err
	}
	if v != nil {
		return fmt.Errorf("%w: merchant %q is registered", ErrMerchantExists, a.Id)
	}
	ctx.Set(k, marshal(&pb.Merchant{Version: paycall.Version, Id: a.Id, Name: a.Name, Owner: owner[:], CreatedHeight: ctx.Height()}))
	ctx.Emit(paycall.MethodAddMerchant, attrs("merchant", a.Id, "owner", hexOf(owner[:]))...)
	return nil
}

func request(ctx *execution.Context, args []byte) error {
	var a pb.RequestArgs
	if err := decode(args, &a); err != nil {
		return err
	}
	m, err := merchant(ctx, a.Merchant)
	if err != nil {
		return err
	}
	if types.Address(m.Owner) != ctx.Sender() {
		return fmt.Errorf("%w: only the owner of merchant %q (%x) may request payments", ErrNotOwner, m.Id, m.Owner)
	}
	if a.Amount == 0 {
		return fmt.Errorf("%w: %s", ErrBadArgs, errBadAmountMessage)
	}
	if len(a.Memo) > paycall.MaxMemoLen || !utf8.ValidString(a.Memo) {
		return fmt.Errorf("%w: memo must be valid UTF-8 of at most %d bytes", ErrBadArgs, paycall.MaxMemoLen)
	}
	if a.ExpiresAt != 0 && a.ExpiresAt <= ctx.Time() {
		return fmt.Errorf("%w: the request expires at %d, before this block (%d)", ErrExpired, a.ExpiresAt, ctx.Time())
	}
	id := ctx.TxID()
	ctx.Set(requestKey(id[:]), marshal(&pb.Request{Version: paycall.Version, Merchant: a.Merchant, Amount: a.Amount,
		ExpiresAt: a.ExpiresAt, Memo: a.Memo, CreatedHeight: ctx.Height()}))
	ctx.Emit(paycall.MethodRequest, attrs("request", hexOf(id[:]), "merchant", a.Merchant, "amount", strconv.FormatUint(a.Amount, 10))...)
	return nil
}

func cancel(ctx *execution.Context, args []byte) error {
	var a pb.CancelArgs
	if err := decode(args, &a); err != nil {
		return err
	}
	r, err := getRequest(ctx, a.Request)
	if err != nil {
		return err
	}
	m, err := merchant(ctx, r.Merchant)
	if err != nil {
		return err
	}
	if types.Address(m.Owner) != ctx.Sender() {
		return fmt.Errorf("%w: only the owner of merchant %q may cancel its requests", ErrNotOwner, m.Id)
	}
	if err := payable(ctx, r); err != nil {
		return err
	}
	r.Status = statusCancelled
	ctx.Set(requestKey(a.Request), marshal(r))
	ctx.Emit(paycall.MethodCancel, attrs("request", hexOf(a.Request), "merchant", r.Merchant)...)
	return nil
}

// payable reports why r cannot be paid (or cancelled) now, if it cannot.
func payable(ctx *execution.Context, r *pb.Request) error {
	switch {
	case r.Status == statusPaid:
		return fmt.Errorf("%w: the request was paid by %x", ErrAlreadyPaid, r.Payment)
	case r.Status == statusCancelled:
		return fmt.Errorf("%w: the merchant cancelled the request", ErrCancelled)
	case r.ExpiresAt != 0 && ctx.Time() > r.ExpiresAt:
		return fmt.Errorf("%w: the request expired at %d, block time %d", ErrExpired, r.ExpiresAt, ctx.Time())
	}
	return nil
}

func pay(ctx *execution.Context, args []byte) error {
	a, err := decodeArgs[pb.PayArgs](ctx, args)
	if err != nil {
		return err
	}
	amount := a.Amount
	var r *pb.Request
	if len(a.Request) > 0 {
		if r, err = getRequest(ctx, a.Request); err != nil {
			return err
		}
		if r.Merchant != a.Merchant {
			return fmt.Errorf("%w: the request is for merchant %q, not %q", ErrWrongMerchant, r.Merchant, a.Merchant)
		}
		if amount == 0 {
			amount = r.Amount
		}
		if amount != r.Amount {
			return fmt.Errorf("%w: the request is for %d, not %d", ErrWrongAmount, r.Amount, amount)
		}
		if err := payable(ctx, r); err != nil {
			return err
		}
	}
	if amount == 0 {
		return fmt.Errorf("%w: %s", ErrBadArgs, errBadAmountMessage)
	}
	m, err := merchant(ctx, a.Merchant)
	if err != nil {
		return err
	}
	owner := types.Address(m.Owner)
	if len(a.To) > 0 && !equal(a.To, owner[:]) {
		return fmt.Errorf("%w: merchant %q is paid to %s, not %x", ErrWrongMerchant, m.Id, owner, a.To)
	}
	payer := ctx.Sender()
	// The pay event below names the owner and the amount, and the payer
	// is the transaction's sender, so the token's transfer event would
	// only repeat them.
	if err := token.MoveQuiet(ctx, payer, owner, amount); err != nil {
		return err
	}
	if ctx.Checking() {
		return nil // nothing below can fail: the admission check may stop
	}
	id := ctx.TxID()
	if r != nil {
		r.Status, r.Payment = statusPaid, id[:]
		ctx.Set(requestKey(a.Request), marshal(r))
	}
	ctx.Set(entryKey(m.Id, paycall.Day(ctx.Time()), ctx.Height(), uint32(ctx.TxIndex())), encodeEntry(&pb.Entry{
		Version: paycall.Version, Kind: KindPayment, Id: id[:], Amount: amount, Payer: payer[:], Request: a.Request}))
	// The event names only what its receipt and transaction do not: the
	// payment's id is its transaction's id and the payer its sender
	// (the account history and watch --account index the sender), so a
	// smaller receipt is hashed, stored and streamed. One string holds the
	// hex of the owner and the request, sliced per attribute.
	var raw [len(types.Address{}) + len(types.Hash{})]byte
	n := copy(raw[:], owner[:])
	n += copy(raw[n:], a.Request)
	h := hex.EncodeToString(raw[:n])
	ctx.Emit(paycall.MethodPay, attrs("merchant", m.Id, "to", h[:40],
		"amount", strconv.FormatUint(amount, 10), "request", h[40:])...)
	return nil
}

func refund(ctx *execution.Context, args []byte) error {
	var a pb.RefundArgs
	if err := decode(args, &a); err != nil {
		return err
	}
	if a.Amount == 0 {
		return fmt.Errorf("%w: %s", ErrBadArgs, errBadAmountMessage)
	}
	if len(a.Payment) != len(types.Hash{}) {
		return fmt.Errorf("%w: payment id is %d bytes, want 32", ErrBadArgs, len(a.Payment))
	}
	if err := paycall.CheckID(a.Merchant); err != nil {
		return fmt.Errorf("%w: %w", ErrBadArgs, err)
	}
	at := paycall.Place{Merchant: a.Merchant, Day: a.Day, Height: a.Height, Index: a.Index}
	pk := entryKey(at.Merchant, at.Day, at.Height, at.Index)
	v, err := ctx.Get(pk)
	if err != nil {
		return err
	}
	p, err := paymentEntry(v, types.Hash(a.Payment))
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("%w: no payment %x at merchant %q, day %s, height %d, index %d",
			ErrUnknownPayment, a.Payment, at.Merchant, paycall.FormatDay(at.Day), at.Height, at.Index)
	}
	m, err := merchant(ctx, at.Merchant)
	if err != nil {
		return err
	}
	owner := types.Address(m.Owner)
	if owner != ctx.Sender() {
		return fmt.Errorf("%w: only the owner of merchant %q may refund its payments", ErrNotOwner, m.Id)
	}
	total, carry := bits.Add64(p.Refunded, a.Amount, 0)
	if carry != 0 || total > p.Amount {
		return fmt.Errorf("%w: payment of %d has %d refunded, so at most %d more", ErrRefundExceeds, p.Amount, p.Refunded, p.Amount-p.Refunded)
	}
	payer, err := address("payer", p.Payer)
	if err != nil {
		return fmt.Errorf("%w: payment %x: %w", errCorrupt, a.Payment, err)
	}
	if err := token.Move(ctx, owner, payer, a.Amount); err != nil {
		return err
	}
	p.Refunded = total
	ctx.Set(pk, encodeEntry(p))
	id := ctx.TxID()
	ctx.Set(entryKey(m.Id, paycall.Day(ctx.Time()), ctx.Height(), uint32(ctx.TxIndex())),
		encodeEntry(&pb.Entry{Version: paycall.Version, Kind: KindRefund, Id: id[:], Amount: a.Amount, Payment: a.Payment}))
	ctx.Emit(paycall.MethodRefund, attrs("refund", hexOf(id[:]), "payment", hexOf(a.Payment), "merchant", m.Id,
		"payer", hexOf(payer[:]), "amount", strconv.FormatUint(a.Amount, 10))...)
	return nil
}

// merchantRecord is what a call needs of a merchant: its id and owner.
type merchantRecord struct {
	Id    string
	Owner types.Address
}

func merchant(ctx *execution.Context, id string) (merchantRecord, error) {
	if err := paycall.CheckID(id); err != nil {
		return merchantRecord{}, fmt.Errorf("%w: %w", ErrBadArgs, err)
	}
	v, err := ctx.Get(merchantKey(id))
	if err != nil {
		return merchantRecord{}, err
	}
	if v == nil {
		return merchantRecord{}, fmt.Errorf("%w: no merchant %q", ErrUnknownMerchant, id)
	}
	return decodeMerchant(id, v)
}

// decodeMerchant reads merchant id's record v as decodeState would decode
// a pb.Merchant (the same records accepted, TestDecodeMerchantMatchesProtobuf),
// keeping only the id and the owner: every payment reads its merchant
// twice, at admission and in its block, and protobuf's reflection (or a
// cache of decoded records) cost more than this walk over five fields.
func decodeMerchant(id string, v []byte) (merchantRecord, error) {
	var (
		version    uint64
		rid, owner []byte
	)
	bad := func(why string) (merchantRecord, error) {
		return merchantRecord{}, fmt.Errorf("%w: merchant %q: %s", errCorrupt, id, why)
	}
	for b := v; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return bad("not a valid Merchant message")
		}
		b = b[n:]
		switch {
		case (num == 1 || num == 5) && typ == protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return bad("not a valid Merchant message")
			}
			if num == 1 {
				version = uint64(uint32(x))
			}
			b = b[n:]
		case num >= 2 && num <= 4 && typ == protowire.BytesType:
			x, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return bad("not a valid Merchant message")
			}
			switch num {
			case 2, 3: // strings: protobuf checks each occurrence's UTF-8
				if !utf8.Valid(x) {
					return bad("not a valid Merchant message")
				}
				if num == 2 {
					rid = x
				}
			case 4:
				owner = x
			}
			b = b[n:]
		default:
			return bad("Merchant has unknown fields")
		}
	}
	if version != paycall.Version {
		return bad(fmt.Sprintf("Merchant version %d, this node knows %d", version, paycall.Version))
	}
	if len(owner) != len(types.Address{}) {
		return bad(fmt.Sprintf("a %d-byte owner", len(owner)))
	}
	m := merchantRecord{Id: id, Owner: types.Address(owner)}
	if string(rid) != id {
		m.Id = string(rid)
	}
	return m, nil
}

func getRequest(ctx *execution.Context, id []byte) (*pb.Request, error) {
	if len(id) != len(types.Hash{}) {
		return nil, fmt.Errorf("%w: request id is %d bytes, want 32", ErrBadArgs, len(id))
	}
	v, err := ctx.Get(requestKey(id))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%w: no request %x", ErrUnknownRequest, id)
	}
	r := new(pb.Request)
	return r, decodeState(v, r)
}

// Relative keys.

func merchantKey(id string) []byte { return append([]byte("m/"), id...) }

func requestKey(id []byte) []byte { return append([]byte("r/"), id...) }

func dayPrefix(pfx, merchant string, day uint32) []byte {
	k := make([]byte, 0, len(pfx)+len(merchant)+1+4+16)
	k = append(append(append(k, pfx...), merchant...), '/')
	return binary.BigEndian.AppendUint32(k, day)
}

func entryKey(merchant string, day uint32, height uint64, index uint32) []byte {
	k := binary.BigEndian.AppendUint64(dayPrefix("e/", merchant, day), height)
	return binary.BigEndian.AppendUint32(k, index)
}

// decodeArgs returns the call's arguments as Predict kept them, or decodes
// them.
func decodeArgs[T any, P interface {
	*T
	versioned
}](ctx *execution.Context, args []byte) (P, error) {
	if a, ok := ctx.Kept().(P); ok {
		return a, nil
	}
	a := P(new(T))
	return a, decode(args, a)
}

type versioned interface {
	proto.Message
	GetVersion() uint32
}

// decode reads an args message: unknown fields and versions are rejected,
// so one args value has one meaning on every node. The error names the
// message but not protobuf's reason, whose text varies by design.
func decode(args []byte, m versioned) error {
	name := m.ProtoReflect().Descriptor().Name()
	if err := (proto.UnmarshalOptions{}).Unmarshal(args, m); err != nil {
		return fmt.Errorf("%w: not a valid %s message", ErrBadArgs, name)
	}
	if len(m.ProtoReflect().GetUnknown()) > 0 {
		return fmt.Errorf("%w: %s has unknown fields", ErrBadArgs, name)
	}
	if v := m.GetVersion(); v != paycall.Version {
		return fmt.Errorf("%w: %s version %d, this node knows %d", ErrBadArgs, name, v, paycall.Version)
	}
	return nil
}

// decodeState reads a state record the contract wrote.
func decodeState(v []byte, m versioned) error {
	if err := decode(v, m); err != nil {
		return fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return nil
}

func marshal(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("pay: encoding %T cannot fail: %v", m, err))
	}
	return b
}

func address(field string, b []byte) (types.Address, error) {
	if len(b) != len(types.Address{}) {
		return types.Address{}, fmt.Errorf("%w: %s is %d bytes, want 20", ErrBadArgs, field, len(b))
	}
	return types.Address(b), nil
}

func equal(a, b []byte) bool { return string(a) == string(b) }

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// attrs builds an event's attributes from key, value pairs, leaving out
// empty values, in one allocation.
func attrs(kv ...string) []*typespb.Attribute {
	n := len(kv) / 2
	type block struct {
		a [6]typespb.Attribute
		p [6]*typespb.Attribute
	}
	if n > 6 {
		panic("pay: more than 6 event attributes")
	}
	b := new(block)
	out := b.p[:0:n]
	for i := range n {
		if kv[2*i+1] == "" {
			continue
		}
		a := &b.a[len(out)]
		a.Key, a.Value = kv[2*i], kv[2*i+1]
		out = append(out, a)
	}
	return out
}
