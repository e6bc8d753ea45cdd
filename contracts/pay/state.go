package pay

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/pay/pb"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
)

// GetMerchant reads a merchant; nil when there is none.
func GetMerchant(state execution.StateReader, id string) (*pb.Merchant, error) {
	m := new(pb.Merchant)
	ok, err := read(state, merchantKey(id), m)
	if !ok {
		return nil, err
	}
	return m, nil
}

// GetRequest reads a payment request; nil when there is none.
func GetRequest(state execution.StateReader, id types.Hash) (*pb.Request, error) {
	r := new(pb.Request)
	ok, err := read(state, requestKey(id[:]), r)
	if !ok {
		return nil, err
	}
	return r, nil
}

// RequestStatus names a request's state at block time now: open, paid,
// cancelled or expired.
func RequestStatus(r *pb.Request, now uint64) string {
	switch {
	case r.Status == statusPaid:
		return "paid"
	case r.Status == statusCancelled:
		return "cancelled"
	case r.ExpiresAt != 0 && now > r.ExpiresAt:
		return "expired"
	}
	return "open"
}

// GetPayment reads payment id, recorded at at (PaymentPlace); nil when
// there is no such payment there. The result's Time is left 0: the
// caller knows the block's time.
func GetPayment(state execution.StateReader, id types.Hash, at paycall.Place) (*pb.Payment, error) {
	if paycall.CheckID(at.Merchant) != nil {
		return nil, nil
	}
	v, err := state.Get(execution.ContractKey(Name, entryKey(at.Merchant, at.Day, at.Height, at.Index)))
	if err != nil {
		return nil, err
	}
	e, err := paymentEntry(v, id)
	if e == nil {
		return nil, err
	}
	return &pb.Payment{Version: e.Version, Merchant: at.Merchant, Payer: e.Payer, Amount: e.Amount,
		Refunded: e.Refunded, Request: e.Request, Height: at.Height}, nil
}

// PaymentPlace is where a transaction's payment is recorded, given the
// transaction's call (contract, method, args), its block's height and
// time, and its index in the block; false when the call is not a
// payment. Whether the payment succeeded, GetPayment tells.
func PaymentPlace(contract, method string, args []byte, height, time uint64, index uint32) (paycall.Place, bool) {
	if contract != Name || method != paycall.MethodPay {
		return paycall.Place{}, false
	}
	var a pb.PayArgs
	if decode(args, &a) != nil {
		return paycall.Place{}, false
	}
	return paycall.Place{Merchant: a.Merchant, Day: paycall.Day(time), Height: height, Index: index}, true
}

// paymentEntry decodes v, the value at a payment's place, if it is the
// entry of payment id; nil when v is nil or another entry.
func paymentEntry(v []byte, id types.Hash) (*pb.Entry, error) {
	if v == nil {
		return nil, nil
	}
	e := new(pb.Entry)
	if err := decodeState(v, e); err != nil {
		return nil, err
	}
	if e.Kind != KindPayment || string(e.Id) != string(id[:]) {
		return nil, nil
	}
	return e, nil
}

// Totals are a day's count and sum of one kind of entry.
type Totals struct{ Count, Sum uint64 }

// DayTotals adds up a day's entries (read from EntryBounds): the
// statement's payments and refunds. The entries are the day's record on
// chain, so the totals need no counters of their own, which each payment
// would have to write.
func DayTotals(entries []EntryAt) (payments, refunds Totals, err error) {
	for _, e := range entries {
		t := &payments
		switch e.Kind {
		case KindPayment:
		case KindRefund:
			t = &refunds
		default:
			return payments, refunds, fmt.Errorf("%w: entry %d/%d has kind %d", errCorrupt, e.Height, e.Index, e.Kind)
		}
		var carry uint64
		if t.Sum, carry = bits.Add64(t.Sum, e.Amount, 0); carry != 0 {
			return payments, refunds, fmt.Errorf("%w: the day's amounts add up to more than 2^64", ErrSumOverflow)
		}
		t.Count++
	}
	return payments, refunds, nil
}

// MerchantBounds is the [lower, upper) range of the full state keys of
// every merchant, in id order; MerchantKey is one merchant's.
func MerchantBounds() (lower, upper []byte) {
	return execution.ContractKey(Name, []byte("m/")), execution.ContractKey(Name, []byte("m0"))
}

// MerchantKey is the full state key of a merchant.
func MerchantKey(id string) []byte { return execution.ContractKey(Name, merchantKey(id)) }

// DecodeMerchant decodes a merchant record read from state.
func DecodeMerchant(v []byte) (*pb.Merchant, error) {
	m := new(pb.Merchant)
	return m, decodeState(v, m)
}

// EntryBounds is the [lower, upper) range of the full state keys of a
// merchant's entries of one day, in block order.
func EntryBounds(merchant string, day uint32) (lower, upper []byte) {
	lower = execution.ContractKey(Name, dayPrefix("e/", merchant, day))
	upper = execution.ContractKey(Name, dayPrefix("e/", merchant, day+1))
	return lower, upper
}

// EntryAt is one entry of a day with its place in the chain.
type EntryAt struct {
	*pb.Entry
	Height uint64
	Index  uint32
}

// DecodeEntry decodes an entry from its full key and value.
func DecodeEntry(key, v []byte) (EntryAt, error) {
	if len(key) < 12 {
		return EntryAt{}, fmt.Errorf("%w: entry key %q is too short", errCorrupt, key)
	}
	e := new(pb.Entry)
	if err := decodeState(v, e); err != nil {
		return EntryAt{}, err
	}
	if len(e.Id) != len(types.Hash{}) {
		return EntryAt{}, fmt.Errorf("%w: entry %q has a %d-byte id", errCorrupt, key, len(e.Id))
	}
	tail := key[len(key)-12:]
	return EntryAt{Entry: e, Height: binary.BigEndian.Uint64(tail), Index: binary.BigEndian.Uint32(tail[8:])}, nil
}

// Root is the Merkle root (types.MerkleRoot with the chain's hash) over
// the ids of a day's entries in block order: what a merchant checks its
// own records against.
func Root(h crypto.Hash, entries []EntryAt) types.Hash {
	ids := make([]types.Hash, len(entries))
	for i, e := range entries {
		ids[i] = types.Hash(e.Id)
	}
	return types.MerkleRoot(h, ids)
}

func read(state execution.StateReader, key []byte, m versioned) (bool, error) {
	v, err := state.Get(execution.ContractKey(Name, key))
	if err != nil || v == nil {
		return false, err
	}
	if err := decodeState(v, m); err != nil {
		return false, err
	}
	return true, nil
}

// GenesisMerchant is the state write that registers a merchant at genesis
// (height 0), for chains and tests that start with merchants.
func GenesisMerchant(id, name string, owner types.Address) (execution.Write, error) {
	if err := paycall.CheckID(id); err != nil {
		return execution.Write{}, err
	}
	return execution.Write{Key: MerchantKey(id), Value: marshal(&pb.Merchant{Version: paycall.Version, Id: id, Name: name, Owner: owner[:]})}, nil
}
