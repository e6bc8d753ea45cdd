// Package paycall builds calls to the native payments contract ("pay") and
// reads what clients need of it: method names, encoded arguments, merchant
// ids, UTC days and payment URIs. It imports no part of the executor, so a
// client (the SDK, the CLI, the bench) links none; package pay decodes what
// this package encodes.
package paycall

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/contracts/pay/pb"
	"github.com/accord-chain/accord/types"
)

// Name is the contract's name in transactions.
const Name = "pay"

// Methods.
const (
	MethodAddMerchant = "add_merchant"
	MethodRequest     = "request"
	MethodCancel      = "cancel"
	MethodPay         = "pay"
	MethodRefund      = "refund"
)

// Version is the version of every argument and state message.
const Version = 1

// Limits on what a merchant and a request carry.
const (
	MaxIDLen   = 64
	MaxNameLen = 128
	MaxMemoLen = 256
)

// ErrBadID is returned by CheckID.
var ErrBadID = errors.New("bad merchant id")

// CheckID reports whether id can name a merchant: 1 to 64 bytes of
// letters, digits, '.', '_' and '-'.
func CheckID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return fmt.Errorf("%w: %q is %d bytes, want 1 to %d", ErrBadID, id, len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q has %q; use letters, digits, '.', '_' and '-'", ErrBadID, id, c)
		}
	}
	return nil
}

// AddMerchant encodes the arguments of "add_merchant".
func AddMerchant(id, name string, owner types.Address) []byte {
	return marshal(&pb.AddMerchantArgs{Version: Version, Id: id, Name: name, Owner: owner[:]})
}

// Request encodes the arguments of "request": expiresAt in unix ms, 0 for
// never.
func Request(merchant string, amount, expiresAt uint64, memo string) []byte {
	return marshal(&pb.RequestArgs{Version: Version, Merchant: merchant, Amount: amount, ExpiresAt: expiresAt, Memo: memo})
}

// Cancel encodes the arguments of "cancel".
func Cancel(request types.Hash) []byte {
	return marshal(&pb.CancelArgs{Version: Version, Request: request[:]})
}

// Pay encodes the arguments of "pay". request is zero to pay without one;
// with one, amount may be 0 (the request's). owner is the merchant's
// owner as read from the chain (GetMerchant), or zero: naming it lets the
// payment run in parallel with others to the same merchant.
func Pay(request types.Hash, merchant string, amount uint64, owner types.Address) []byte {
	a := &pb.PayArgs{Version: Version, Merchant: merchant, Amount: amount}
	if owner != (types.Address{}) {
		a.To = owner[:]
	}
	if !request.IsZero() {
		a.Request = request[:]
	}
	return marshal(a)
}

// Place is where a payment is recorded: the key of its statement entry,
// which is its only record. A refund names it; GetPayment returns what a
// client needs to fill it in (the merchant, the block's time and height)
// and GetTx the index.
type Place struct {
	Merchant string
	Day      uint32 // the UTC day of the payment's block (Day)
	Height   uint64 // the payment's block
	Index    uint32 // the payment's index in its block
}

// Refund encodes the arguments of "refund" of amount of payment, which is
// recorded at at.
func Refund(payment types.Hash, at Place, amount uint64) []byte {
	return marshal(&pb.RefundArgs{Version: Version, Payment: payment[:], Amount: amount,
		Merchant: at.Merchant, Day: at.Day, Height: at.Height, Index: at.Index})
}

// dayMillis is one day in unix milliseconds.
const dayMillis = 24 * 60 * 60 * 1000

// Day is the UTC day of a block time (unix ms): days since 1970-01-01.
func Day(ms uint64) uint32 { return uint32(ms / dayMillis) }

// FormatDay writes a day as YYYY-MM-DD.
func FormatDay(d uint32) string {
	return time.UnixMilli(int64(d) * dayMillis).UTC().Format(time.DateOnly)
}

// ParseDay reads YYYY-MM-DD as a UTC day.
func ParseDay(s string) (uint32, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Unix() < 0 {
		return 0, fmt.Errorf("day %q: want YYYY-MM-DD, 1970-01-01 or later", s)
	}
	return uint32(t.Unix() / (dayMillis / 1000)), nil
}

// URI is a payment request as a wallet reads it from a QR code:
//
//	accord:pay?chain=CHAIN&merchant=M&request=ID&amount=N
type URI struct {
	Chain    string
	Merchant string
	Request  types.Hash
	Amount   uint64
}

// String encodes u.
func (u URI) String() string {
	q := url.Values{}
	q.Set("chain", u.Chain)
	q.Set("merchant", u.Merchant)
	q.Set("request", u.Request.String())
	q.Set("amount", strconv.FormatUint(u.Amount, 10))
	return "accord:pay?" + q.Encode()
}

// ErrBadURI is returned by ParseURI.
var ErrBadURI = errors.New("bad payment URI")

// ParseURI reads a payment URI written by URI.String.
func ParseURI(s string) (URI, error) {
	const scheme = "accord:pay?"
	if len(s) < len(scheme) || s[:len(scheme)] != scheme {
		return URI{}, fmt.Errorf("%w: %q does not start with %s", ErrBadURI, s, scheme)
	}
	q, err := url.ParseQuery(s[len(scheme):])
	if err != nil {
		return URI{}, fmt.Errorf("%w: %q: malformed query", ErrBadURI, s)
	}
	u := URI{Chain: q.Get("chain"), Merchant: q.Get("merchant")}
	if u.Chain == "" || CheckID(u.Merchant) != nil {
		return URI{}, fmt.Errorf("%w: %q needs chain and a valid merchant", ErrBadURI, s)
	}
	if u.Request, err = types.ParseHash(q.Get("request")); err != nil {
		return URI{}, fmt.Errorf("%w: request: %w", ErrBadURI, err)
	}
	if u.Amount, err = strconv.ParseUint(q.Get("amount"), 10, 64); err != nil || u.Amount == 0 {
		return URI{}, fmt.Errorf("%w: amount %q is not a positive integer", ErrBadURI, q.Get("amount"))
	}
	return u, nil
}

func marshal(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("paycall: encoding %T cannot fail: %v", m, err))
	}
	return b
}
