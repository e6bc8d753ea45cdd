package pay_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/pay/pb"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	typespb "github.com/accord-chain/accord/types/pb"
)

const chainID = "pay-test"

// day0 is 2026-12-07 00:00 UTC in unix ms; blocks are timed from it.
const day0 = uint64(1796601600000)

const dayMs = 24 * 3600 * 1000

// harness is a chain running the token and pay contracts. Account 0 is
// the token issuer; every account starts with 1,000,000.
type harness struct {
	t      *testing.T
	ex     *execution.Executor
	state  *exectest.State
	accts  []*exectest.Account
	height uint64
	time   uint64
	prev   types.Hash
	// places holds where each payment sent is recorded, as a client
	// reads it from the payment's transaction (pay.PaymentPlace).
	places map[types.Hash]paycall.Place
}

func newHarness(t testing.TB, n int) *harness {
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256, Workers: 1}, token.New(), pay.New())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{ex: ex, time: day0 + 1000, places: map[types.Hash]paycall.Place{}}
	if tt, ok := t.(*testing.T); ok {
		h.t = tt
	}
	var alloc []token.Alloc
	for i := range n {
		a := exectest.NewAccount(crypto.Ed25519, uint64(300+i), chainID, crypto.SHA256)
		h.accts = append(h.accts, a)
		alloc = append(alloc, token.Alloc{Address: a.Address, Amount: 1_000_000})
	}
	ws, err := token.Genesis(h.accts[0].Address, alloc)
	if err != nil {
		t.Fatal(err)
	}
	h.state = exectest.NewState(ws)
	return h
}

func (h *harness) addr(i int) types.Address { return h.accts[i].Address }

// refund is the arguments of a refund of amount of payment, at the
// payment's place.
func (h *harness) refund(payment types.Hash, amount uint64) []byte {
	return paycall.Refund(payment, h.places[payment], amount)
}

// payment reads a payment at its place.
func (h *harness) payment(id types.Hash) *pb.Payment {
	h.t.Helper()
	p, err := pay.GetPayment(h.state, id, h.places[id])
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// block executes txs as the next block, at the harness's time, and
// commits it.
func (h *harness) block(txs ...*types.Tx) []*typespb.Receipt {
	h.height++
	res, err := h.ex.Execute(h.state, &execution.BlockInput{Height: h.height, Time: h.time, PrevHash: h.prev, Txs: txs})
	if err != nil {
		h.t.Fatalf("block %d: %v", h.height, err)
	}
	h.state.Apply(res.Writes)
	for i, tx := range txs {
		if at, ok := pay.PaymentPlace(tx.Body.Contract, tx.Body.Method, tx.Body.Args, h.height, h.time, uint32(i)); ok {
			h.places[tx.ID] = at
		}
	}
	h.prev = res.Hash
	h.time += 1000
	return res.Receipts
}

// call runs one transaction in its own block and returns its receipt.
func (h *harness) call(from int, method string, args []byte) (*types.Tx, *typespb.Receipt) {
	tx := h.accts[from].Tx(paycall.Name, method, args)
	return tx, h.block(tx)[0]
}

func (h *harness) ok(from int, method string, args []byte) *types.Tx {
	h.t.Helper()
	tx, rc := h.call(from, method, args)
	if rc.Status != typespb.TxStatus_TX_STATUS_OK {
		h.t.Fatalf("%s by account %d: %s %q, want ok", method, from, rc.Status, rc.Message)
	}
	return tx
}

// fails checks that a call fails with a message starting with reason.
func (h *harness) fails(from int, method string, args []byte, reason string) {
	h.t.Helper()
	_, rc := h.call(from, method, args)
	if rc.Status != typespb.TxStatus_TX_STATUS_FAILED || !strings.HasPrefix(rc.Message, reason) {
		h.t.Fatalf("%s by account %d: %s %q, want failed with %q", method, from, rc.Status, rc.Message, reason)
	}
}

func (h *harness) balance(i int) uint64 {
	b, err := token.Balance(h.state, h.addr(i))
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// addMerchant registers merchant id owned by account owner (the issuer,
// account 0, sends it).
func (h *harness) addMerchant(id string, owner int) {
	h.t.Helper()
	h.ok(0, paycall.MethodAddMerchant, paycall.AddMerchant(id, "Shop "+id, h.addr(owner)))
}

func TestMerchants(t *testing.T) {
	h := newHarness(t, 3)
	h.addMerchant("cafe-1", 1)
	m, err := pay.GetMerchant(h.state, "cafe-1")
	if err != nil || m == nil || types.Address(m.Owner) != h.addr(1) || m.Name != "Shop cafe-1" || m.CreatedHeight != 1 {
		t.Fatalf("merchant = %v, %v; want cafe-1 owned by account 1 from height 1", m, err)
	}
	h.fails(0, paycall.MethodAddMerchant, paycall.AddMerchant("cafe-1", "again", h.addr(2)), "merchant_exists")
	h.fails(1, paycall.MethodAddMerchant, paycall.AddMerchant("cafe-2", "x", h.addr(1)), "not_authorised")
	h.fails(0, paycall.MethodAddMerchant, paycall.AddMerchant("bad/id", "x", h.addr(1)), "malformed arguments")
	h.fails(0, paycall.MethodAddMerchant, paycall.AddMerchant(strings.Repeat("a", 65), "x", h.addr(1)), "malformed arguments")
	if m, _ := pay.GetMerchant(h.state, "cafe-2"); m != nil {
		t.Fatal("a non-issuer registered cafe-2")
	}
}

func TestByPolicyLeavesAddMerchantToTheGate(t *testing.T) {
	h := newHarness(t, 2)
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256}, token.NewByPolicy(), pay.NewByPolicy())
	if err != nil {
		t.Fatal(err)
	}
	h.ex = ex
	h.ok(1, paycall.MethodAddMerchant, paycall.AddMerchant("m", "M", h.addr(1)))
}

func TestRequestIsPaidOnce(t *testing.T) {
	h := newHarness(t, 4)
	h.addMerchant("shop", 1)
	h.fails(2, paycall.MethodRequest, paycall.Request("shop", 500, 0, "lunch"), "not_owner")
	h.fails(1, paycall.MethodRequest, paycall.Request("nope", 500, 0, ""), "unknown_merchant")
	h.fails(1, paycall.MethodRequest, paycall.Request("shop", 0, 0, ""), "malformed arguments")
	req := h.ok(1, paycall.MethodRequest, paycall.Request("shop", 500, 0, "lunch"))

	h.fails(2, paycall.MethodPay, paycall.Pay(req.ID, "shop", 499, h.addr(1)), "wrong_amount")
	h.fails(2, paycall.MethodPay, paycall.Pay(req.ID, "shop", 0, h.addr(2)), "wrong_merchant")
	payTx := h.ok(2, paycall.MethodPay, paycall.Pay(req.ID, "shop", 0, h.addr(1)))
	if b1, b2 := h.balance(1), h.balance(2); b1 != 1_000_500 || b2 != 999_500 {
		t.Fatalf("balances after paying 500: owner %d, payer %d; want 1000500, 999500", b1, b2)
	}
	r, _ := pay.GetRequest(h.state, req.ID)
	if pay.RequestStatus(r, h.time) != "paid" || types.Hash(r.Payment) != payTx.ID {
		t.Fatalf("request after payment: %v, want paid by %s", r, payTx.ID)
	}
	h.fails(3, paycall.MethodPay, paycall.Pay(req.ID, "shop", 500, h.addr(1)), "already_paid")
	h.fails(2, paycall.MethodPay, paycall.Pay(req.ID, "shop", 0, types.Address{}), "already_paid")
	if b3 := h.balance(3); b3 != 1_000_000 {
		t.Fatalf("a second payment moved money: payer balance %d", b3)
	}
	p := h.payment(payTx.ID)
	if p == nil || p.Amount != 500 || types.Address(p.Payer) != h.addr(2) || types.Hash(p.Request) != req.ID {
		t.Fatalf("payment = %v", p)
	}
}

func TestExpiredAndCancelledRequests(t *testing.T) {
	h := newHarness(t, 3)
	h.addMerchant("shop", 1)
	h.fails(1, paycall.MethodRequest, paycall.Request("shop", 10, h.time-1, ""), "expired")
	soon := h.ok(1, paycall.MethodRequest, paycall.Request("shop", 10, h.time+1500, ""))
	h.time += 5000
	h.fails(2, paycall.MethodPay, paycall.Pay(soon.ID, "shop", 0, h.addr(1)), "expired")

	later := h.ok(1, paycall.MethodRequest, paycall.Request("shop", 10, 0, ""))
	h.fails(2, paycall.MethodCancel, paycall.Cancel(later.ID), "not_owner")
	h.ok(1, paycall.MethodCancel, paycall.Cancel(later.ID))
	h.fails(2, paycall.MethodPay, paycall.Pay(later.ID, "shop", 0, h.addr(1)), "cancelled")
	h.fails(1, paycall.MethodCancel, paycall.Cancel(later.ID), "cancelled")
	if b := h.balance(2); b != 1_000_000 {
		t.Fatalf("payer balance %d after refused payments, want 1000000", b)
	}
}

func TestPayWithoutRequest(t *testing.T) {
	h := newHarness(t, 3)
	h.addMerchant("shop", 1)
	h.ok(2, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 70, h.addr(1)))
	h.ok(2, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 30, types.Address{})) // no hint: still pays
	h.fails(2, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 0, h.addr(1)), "malformed arguments")
	h.fails(2, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 2_000_000, h.addr(1)), "insufficient balance")
	h.fails(2, paycall.MethodPay, paycall.Pay(types.Hash{}, "ghost", 1, h.addr(1)), "unknown_merchant")
	if b1, b2 := h.balance(1), h.balance(2); b1 != 1_000_100 || b2 != 999_900 {
		t.Fatalf("balances %d, %d; want 1000100, 999900", b1, b2)
	}
}

func TestRefundsNeverExceedThePayment(t *testing.T) {
	h := newHarness(t, 4)
	h.addMerchant("shop", 1)
	p := h.ok(2, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 100, h.addr(1)))
	other := h.ok(3, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 5, h.addr(1)))
	h.fails(2, paycall.MethodRefund, h.refund(p.ID, 10), "not_owner")
	r := h.ok(1, paycall.MethodRefund, h.refund(p.ID, 60))
	// A refund must name the payment's place: another payment's, a
	// refund's, a wrong day's or an empty place is no payment.
	at := h.places[p.ID]
	refundAt := paycall.Place{Merchant: "shop", Day: at.Day, Height: h.height}
	h.fails(1, paycall.MethodRefund, paycall.Refund(p.ID, h.places[other.ID], 1), "unknown_payment")
	h.fails(1, paycall.MethodRefund, paycall.Refund(p.ID, refundAt, 1), "unknown_payment")
	h.fails(1, paycall.MethodRefund, paycall.Refund(r.ID, refundAt, 1), "unknown_payment")
	h.fails(1, paycall.MethodRefund, paycall.Refund(p.ID, paycall.Place{Merchant: "shop", Day: at.Day, Height: at.Height, Index: 1}, 1), "unknown_payment")
	h.fails(1, paycall.MethodRefund, paycall.Refund(p.ID, paycall.Place{Merchant: "shop", Day: at.Day + 1, Height: at.Height}, 1), "unknown_payment")
	h.fails(1, paycall.MethodRefund, paycall.Refund(p.ID, paycall.Place{}, 1), "malformed arguments")
	h.ok(1, paycall.MethodRefund, h.refund(p.ID, 40))
	h.fails(1, paycall.MethodRefund, h.refund(p.ID, 1), "refund_exceeds_payment")
	h.fails(1, paycall.MethodRefund, h.refund(types.Hash{1}, 1), "malformed arguments")
	h.fails(1, paycall.MethodRefund, paycall.Refund(types.Hash{1}, at, 1), "unknown_payment")
	if b1, b2 := h.balance(1), h.balance(2); b1 != 1_000_005 || b2 != 1_000_000 {
		t.Fatalf("after a full refund: owner %d, payer %d; want both 1000000", b1, b2)
	}
	got := h.payment(p.ID)
	if got.Refunded != 100 || got.Amount != 100 || got.Merchant != "shop" || types.Address(got.Payer) != h.addr(2) || got.Height != at.Height {
		t.Fatalf("payment after refunds: %v, want 100 of 100 refunded, paid by account 2 to shop at height %d", got, at.Height)
	}
	if o := h.payment(other.ID); o == nil || o.Refunded != 0 || o.Amount != 5 {
		t.Fatalf("the other payment: %v, want 5 with nothing refunded", o)
	}
}

// entries reads a merchant's day entries from state in key order.
func entries(t testing.TB, s *exectest.State, merchant string, day uint32) []pay.EntryAt {
	lo, hi := pay.EntryBounds(merchant, day)
	var out []pay.EntryAt
	for _, k := range s.Keys() {
		if k >= string(lo) && k < string(hi) {
			v, _ := s.Get([]byte(k))
			e, err := pay.DecodeEntry([]byte(k), v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, e)
		}
	}
	return out
}

func TestStatement(t *testing.T) {
	h := newHarness(t, 4)
	h.addMerchant("shop", 1)
	day := paycall.Day(h.time)
	p1 := h.accts[2].Tx(paycall.Name, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 100, h.addr(1)))
	p2 := h.accts[3].Tx(paycall.Name, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 50, h.addr(1)))
	h.block(p1, p2)
	r1 := h.ok(1, paycall.MethodRefund, h.refund(p1.ID, 30))
	h.time += dayMs // the next day
	p3 := h.ok(2, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 7, h.addr(1)))

	ps, rs, err := pay.DayTotals(entries(t, h.state, "shop", day))
	if err != nil || ps != (pay.Totals{Count: 2, Sum: 150}) || rs != (pay.Totals{Count: 1, Sum: 30}) {
		t.Fatalf("day totals: %v %v %v; want payments 2/150, refunds 1/30", ps, rs, err)
	}
	es := entries(t, h.state, "shop", day)
	want := []types.Hash{p1.ID, p2.ID, r1.ID}
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d", len(es), len(want))
	}
	for i, e := range es {
		if types.Hash(e.Id) != want[i] {
			t.Fatalf("entry %d is %x, want %s (block order)", i, e.Id, want[i])
		}
	}
	if es[2].Kind != pay.KindRefund || !bytes.Equal(es[2].Payment, p1.ID[:]) || es[2].Amount != 30 {
		t.Fatalf("refund entry = %v", es[2])
	}
	if got, w := pay.Root(crypto.SHA256, es), types.MerkleRoot(crypto.SHA256, want); got != w {
		t.Fatalf("root %s, want %s", got, w)
	}
	ps, rs, _ = pay.DayTotals(entries(t, h.state, "shop", day+1))
	if es := entries(t, h.state, "shop", day+1); ps != (pay.Totals{Count: 1, Sum: 7}) || rs != (pay.Totals{}) || len(es) != 1 || types.Hash(es[0].Id) != p3.ID {
		t.Fatalf("next day: %v %v %d entries", ps, rs, len(es))
	}
}

func TestDays(t *testing.T) {
	if d := paycall.FormatDay(paycall.Day(day0)); d != "2026-12-07" {
		t.Fatalf("day of day0 is %s", d)
	}
	if d := paycall.FormatDay(paycall.Day(day0 - 1)); d != "2026-12-06" {
		t.Fatalf("one ms before day0 is %s", d)
	}
	d, err := paycall.ParseDay("2026-12-07")
	if err != nil || d != paycall.Day(day0) {
		t.Fatalf("ParseDay = %d, %v", d, err)
	}
	for _, bad := range []string{"", "2026-13-01", "07-12-2026", "1969-12-31"} {
		if _, err := paycall.ParseDay(bad); err == nil {
			t.Errorf("ParseDay(%q) accepted", bad)
		}
	}
}

func TestURI(t *testing.T) {
	u := paycall.URI{Chain: "dev", Merchant: "cafe-1", Request: types.Hash{0xab}, Amount: 1250}
	s := u.String()
	if !strings.HasPrefix(s, "accord:pay?") || !strings.Contains(s, "merchant=cafe-1") || !strings.Contains(s, "amount=1250") {
		t.Fatalf("URI %q", s)
	}
	got, err := paycall.ParseURI(s)
	if err != nil || got != u {
		t.Fatalf("ParseURI(%q) = %v, %v; want %v", s, got, err, u)
	}
	for _, bad := range []string{"", "accord:pay?", "http://x", "accord:pay?chain=c&merchant=m&request=zz&amount=1",
		"accord:pay?chain=c&merchant=m&request=" + types.Hash{}.String() + "&amount=0"} {
		if _, err := paycall.ParseURI(bad); !errors.Is(err, paycall.ErrBadURI) {
			t.Errorf("ParseURI(%q) = %v, want ErrBadURI", bad, err)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	f.Add(paycall.URI{Chain: "dev", Merchant: "m", Request: types.Hash{1}, Amount: 5}.String())
	f.Add("accord:pay?chain=%zz")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := paycall.ParseURI(s)
		if err != nil {
			return
		}
		back, err := paycall.ParseURI(u.String())
		if err != nil || back != u {
			t.Fatalf("%q parsed to %v, which does not round-trip: %v, %v", s, u, back, err)
		}
	})
}

// FuzzCall feeds arbitrary arguments to every method: a call either
// succeeds or fails with one of the contract's errors, never panics, and
// fails the same way twice (its message goes into the block).
func FuzzCall(f *testing.F) {
	h := newHarness(f, 3)
	w, err := pay.GenesisMerchant("shop", "Shop", h.addr(1))
	if err != nil {
		f.Fatal(err)
	}
	h.state.Apply([]execution.Write{w})
	f.Add(uint8(3), paycall.Pay(types.Hash{}, "shop", 5, h.addr(1)))
	f.Add(uint8(1), paycall.Request("shop", 5, 0, "memo"))
	// One payment, so that refunds can find one.
	paid := h.accts[2].Tx(paycall.Name, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 50, h.addr(1)))
	if rc := h.block(paid); rc[0].Status != typespb.TxStatus_TX_STATUS_OK {
		f.Fatalf("payment: %s", rc[0].Message)
	}
	f.Add(uint8(4), h.refund(paid.ID, 5))
	f.Add(uint8(4), h.refund(types.Hash{1}, 5))
	f.Add(uint8(0), paycall.AddMerchant("m", "n", h.addr(2)))
	methods := []string{paycall.MethodAddMerchant, paycall.MethodRequest, paycall.MethodCancel, paycall.MethodPay, paycall.MethodRefund}
	f.Fuzz(func(t *testing.T, m uint8, args []byte) {
		in := &execution.CallInput{Sender: h.addr(int(m) % 3), Height: 5, Time: day0, Contract: paycall.Name, Method: methods[int(m)%len(methods)], Args: args}
		r1, err := h.ex.Simulate(h.state, in)
		if err != nil {
			t.Fatal(err)
		}
		r2, _ := h.ex.Simulate(h.state, in)
		if (r1.Err == nil) != (r2.Err == nil) || (r1.Err != nil && r1.Err.Error() != r2.Err.Error()) {
			t.Fatalf("two runs differ: %v, %v", r1.Err, r2.Err)
		}
	})
}

func TestDescribeArgs(t *testing.T) {
	m, err := pay.DescribeArgs(paycall.MethodPay, paycall.Pay(types.Hash{1}, "shop", 12, types.Address{2}))
	if err != nil || m["merchant"] != "shop" || m["amount"] != "12" || m["request"][:2] != "01" || m["to"][:2] != "02" {
		t.Fatalf("DescribeArgs(pay) = %v, %v", m, err)
	}
	if _, err := pay.DescribeArgs(paycall.MethodRefund, []byte{0xff}); !errors.Is(err, pay.ErrBadArgs) {
		t.Fatalf("bad args: %v, want ErrBadArgs", err)
	}
}

// TestCheck: the admission check, which stops a payment once nothing can
// fail, refuses and accepts what a block would.
func TestCheck(t *testing.T) {
	h := newHarness(t, 3)
	h.addMerchant("shop", 1)
	req := h.ok(1, paycall.MethodRequest, paycall.Request("shop", 10, 0, ""))
	check := func(from int, args []byte) error {
		t.Helper()
		failure, err := h.ex.Check(h.state, &execution.CallInput{Sender: h.addr(from), Height: h.height + 1, Time: h.time,
			Contract: paycall.Name, Method: paycall.MethodPay, Args: args})
		if err != nil {
			t.Fatal(err)
		}
		return failure
	}
	if err := check(2, paycall.Pay(req.ID, "shop", 0, h.addr(1))); err != nil {
		t.Fatalf("Check of a payable request: %v", err)
	}
	h.ok(2, paycall.MethodPay, paycall.Pay(req.ID, "shop", 0, h.addr(1)))
	if err := check(2, paycall.Pay(req.ID, "shop", 0, h.addr(1))); !errors.Is(err, pay.ErrAlreadyPaid) {
		t.Fatalf("Check of a paid request: %v, want already_paid", err)
	}
	if err := check(2, paycall.Pay(types.Hash{}, "shop", 5_000_000, h.addr(1))); !errors.Is(err, token.ErrInsufficient) {
		t.Fatalf("Check of an unaffordable payment: %v, want insufficient balance", err)
	}
}

func TestRequestStatus(t *testing.T) {
	for _, c := range []struct {
		r    *pb.Request
		now  uint64
		want string
	}{
		{&pb.Request{}, 5, "open"},
		{&pb.Request{ExpiresAt: 10}, 10, "open"},
		{&pb.Request{ExpiresAt: 10}, 11, "expired"},
		{&pb.Request{Status: 1, ExpiresAt: 10}, 11, "paid"},
		{&pb.Request{Status: 2}, 11, "cancelled"},
	} {
		if got := pay.RequestStatus(c.r, c.now); got != c.want {
			t.Errorf("RequestStatus(%v, %d) = %s, want %s", c.r, c.now, got, c.want)
		}
	}
}

func TestDayTotalsRejectsBadEntries(t *testing.T) {
	big := pay.EntryAt{Entry: &pb.Entry{Kind: pay.KindPayment, Amount: 1 << 63}}
	if _, _, err := pay.DayTotals([]pay.EntryAt{big, big}); !errors.Is(err, pay.ErrSumOverflow) {
		t.Errorf("two payments of 2^63: %v, want ErrSumOverflow", err)
	}
	odd := pay.EntryAt{Entry: &pb.Entry{Kind: 9, Amount: 1}}
	if _, _, err := pay.DayTotals([]pay.EntryAt{odd}); !errors.Is(err, execution.ErrCorrupt) {
		t.Errorf("an entry of kind 9: %v, want ErrCorrupt", err)
	}
	ps, rs, err := pay.DayTotals([]pay.EntryAt{{Entry: &pb.Entry{Kind: pay.KindPayment, Amount: 5}}, {Entry: &pb.Entry{Kind: pay.KindRefund, Amount: 2}}})
	if err != nil || ps != (pay.Totals{Count: 1, Sum: 5}) || rs != (pay.Totals{Count: 1, Sum: 2}) {
		t.Errorf("totals %v %v %v, want 1/5 and 1/2", ps, rs, err)
	}
}

// TestPaymentEmitsOneEvent: a payment's receipt carries only pay.pay,
// which names the merchant, its owner and the amount, not what the
// transaction carries (its id, the payer as sender), and the request only
// when there is one; a refund keeps the token's event beside its own.
func TestPaymentEmitsOneEvent(t *testing.T) {
	h := newHarness(t, 3)
	h.addMerchant("shop", 1)
	tx, rc := h.call(2, paycall.MethodPay, paycall.Pay(types.Hash{}, "shop", 70, h.addr(1)))
	if len(rc.Events) != 1 || rc.Events[0].Contract != paycall.Name || rc.Events[0].Name != paycall.MethodPay {
		t.Fatalf("payment events %v, want pay.pay alone", rc.Events)
	}
	a := attrMap(rc.Events[0].Attributes)
	// The payment's id and payer are its transaction's id and sender.
	if len(a) != 3 || a["to"] != h.addr(1).String() || a["amount"] != "70" || a["merchant"] != "shop" {
		t.Fatalf("pay event attributes %v, want merchant, to and amount alone", a)
	}
	req := h.ok(1, paycall.MethodRequest, paycall.Request("shop", 40, 0, ""))
	_, rc = h.call(2, paycall.MethodPay, paycall.Pay(req.ID, "shop", 0, h.addr(1)))
	if a := attrMap(rc.Events[0].Attributes); len(a) != 4 || a["request"] != req.ID.String() || a["amount"] != "40" || a["to"] != h.addr(1).String() {
		t.Fatalf("paying a request: event attributes %v, want merchant, to, amount and the request", a)
	}
	_, rc = h.call(1, paycall.MethodRefund, h.refund(tx.ID, 5))
	if len(rc.Events) != 2 || rc.Events[0].Name != token.MethodTransfer || rc.Events[1].Name != paycall.MethodRefund {
		t.Fatalf("refund events %v, want token.transfer and pay.refund", rc.Events)
	}
}
