package pay_test

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

type dayKey struct {
	merchant string
	day      uint32
}

// TestPaymentsKeepInvariants runs random blocks of requests, payments
// (with and without a request, some with a stale owner hint), cancels and
// refunds, over days, and checks after every block: the balances sum to
// the supply; no payment has more refunded than paid, and each has what
// its refund events add up to; no request is paid
// twice; and each merchant's day totals and entries equal what the
// day's pay and refund events add up to, in block order.
func TestPaymentsKeepInvariants(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		h := newHarness(t, 5)
		merchants := []string{"a", "b"}
		h.addMerchant("a", 1)
		h.addMerchant("b", 2)
		var requests, payments []types.Hash
		paidBy := map[types.Hash]int{}
		refunded := map[types.Hash]uint64{}
		events := map[dayKey][2]pay.Totals{}
		ids := map[dayKey][]types.Hash{}
		touched := map[dayKey]bool{}
		for range rapid.IntRange(1, 12).Draw(rt, "blocks") {
			if rapid.Bool().Draw(rt, "next day") {
				h.time += dayMs / 2
			}
			var txs []*types.Tx
			for range rapid.IntRange(1, 8).Draw(rt, "txs") {
				from := rapid.IntRange(0, 4).Draw(rt, "from")
				m := rapid.SampledFrom(merchants).Draw(rt, "merchant")
				owner := h.addr(1)
				if m == "b" {
					owner = h.addr(2)
				}
				if rapid.IntRange(0, 9).Draw(rt, "stale hint") == 0 {
					owner = h.addr(3)
				}
				amount := rapid.Uint64Range(0, 300_000).Draw(rt, "amount")
				var args []byte
				method := rapid.SampledFrom([]string{"request", "pay", "payreq", "refund", "cancel"}).Draw(rt, "method")
				switch method {
				case "request":
					args = paycall.Request(m, amount, 0, "")
				case "pay":
					args = paycall.Pay(types.Hash{}, m, amount, owner)
				case "payreq", "cancel":
					if len(requests) == 0 {
						continue
					}
					r := rapid.SampledFrom(requests).Draw(rt, "request")
					args = paycall.Pay(r, m, 0, owner)
					if method == "cancel" {
						args = paycall.Cancel(r)
					}
				case "refund":
					if len(payments) == 0 {
						continue
					}
					args = h.refund(rapid.SampledFrom(payments).Draw(rt, "payment"), amount/4)
				}
				if method == "payreq" {
					method = "pay"
				}
				txs = append(txs, h.accts[from].Tx(paycall.Name, method, args))
			}
			if len(txs) == 0 {
				continue
			}
			day := paycall.Day(h.time)
			rcs := h.block(txs...)
			for i, rc := range rcs {
				if rc.Status != pb.TxStatus_TX_STATUS_OK {
					if rc.Status == pb.TxStatus_TX_STATUS_INVALID {
						rt.Fatalf("tx %d invalid: %s", i, rc.Message)
					}
					continue
				}
				switch txs[i].Body.Method {
				case paycall.MethodRequest:
					requests = append(requests, txs[i].ID)
				case paycall.MethodPay:
					payments = append(payments, txs[i].ID)
				}
				for _, ev := range rc.Events {
					if ev.Contract != paycall.Name || (ev.Name != paycall.MethodPay && ev.Name != paycall.MethodRefund) {
						continue
					}
					a := attrMap(ev.Attributes)
					k := dayKey{a["merchant"], day}
					n, _ := strconv.ParseUint(a["amount"], 10, 64)
					tot := events[k]
					j := 0
					if ev.Name == paycall.MethodRefund {
						j = 1
						pid, _ := types.ParseHash(a["payment"])
						refunded[pid] += n
					}
					tot[j].Count++
					tot[j].Sum += n
					events[k] = tot
					ids[k] = append(ids[k], txs[i].ID)
					touched[k] = true
					if r := a["request"]; r != "" {
						rid, _ := types.ParseHash(r)
						if paidBy[rid]++; paidBy[rid] > 1 {
							rt.Fatalf("request %s paid twice", rid)
						}
					}
				}
			}
			checkSupply(rt, h)
			for _, p := range payments {
				rec, err := pay.GetPayment(h.state, p, h.places[p])
				if err != nil || rec == nil || rec.Refunded > rec.Amount || rec.Refunded != refunded[p] {
					rt.Fatalf("payment %s: %v, %v: refunded more than paid, or not the %d its refund events add up to", p, rec, err, refunded[p])
				}
			}
			for k := range touched {
				es := entries(t, h.state, k.merchant, k.day)
				ps, rs, err := pay.DayTotals(es)
				if err != nil || ps != events[k][0] || rs != events[k][1] {
					rt.Fatalf("%s on day %d: totals %v %v, events add up to %v", k.merchant, k.day, ps, rs, events[k])
				}
				if len(es) != len(ids[k]) {
					rt.Fatalf("%s on day %d: %d entries, %d events", k.merchant, k.day, len(es), len(ids[k]))
				}
				for i, e := range es {
					if types.Hash(e.Id) != ids[k][i] {
						rt.Fatalf("%s on day %d: entry %d is %x, want %s", k.merchant, k.day, i, e.Id, ids[k][i])
					}
				}
			}
		}
	})
}

func attrMap(as []*pb.Attribute) map[string]string {
	m := map[string]string{}
	for _, a := range as {
		m[a.Key] = a.Value
	}
	return m
}

// checkSupply checks that the balances in state add up to the supply.
func checkSupply(rt *rapid.T, h *harness) {
	supply, err := token.Supply(h.state)
	if err != nil {
		rt.Fatal(err)
	}
	pfx := string(token.BalanceKey(types.Address{})[:len(token.BalanceKey(types.Address{}))-20])
	var sum uint64
	for _, k := range h.state.Keys() {
		if strings.HasPrefix(k, pfx) {
			v, _ := h.state.Get([]byte(k))
			sum += binary.BigEndian.Uint64(v)
		}
	}
	if sum != supply {
		rt.Fatalf("balances sum to %d, supply is %d", sum, supply)
	}
}
