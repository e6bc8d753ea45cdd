package api

import (
	"encoding/json"
	"testing"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/types"
)

// TestDescribeArgs: the explorer shows pay and governance calls decoded,
// bytes as hex and numbers as decimal strings, a proposal's change as
// JSON; what it cannot read it leaves out.
func TestDescribeArgs(t *testing.T) {
	owner := types.Address{0xab, 0xcd}
	payment := types.Hash{0x01, 0x02}
	change := &govcall.Change{Kind: govcall.KindFreeze, Address: owner.String()}
	for _, c := range []struct {
		contract, method string
		args             []byte
		want             map[string]string
	}{
		{paycall.Name, paycall.MethodPay, paycall.Pay(types.Hash{}, "cafe-1", 7, owner),
			map[string]string{"merchant": "cafe-1", "amount": "7", "to": owner.String(), "request": ""}},
		{paycall.Name, paycall.MethodRefund, paycall.Refund(payment, paycall.Place{Merchant: "cafe-1", Day: 20429, Height: 12, Index: 3}, 2),
			map[string]string{"payment": payment.String(), "amount": "2", "merchant": "cafe-1", "day": "2025-12-07", "height": "12", "index": "3"}},
		{paycall.Name, paycall.MethodAddMerchant, paycall.AddMerchant("cafe-1", "Corner Café", owner),
			map[string]string{"id": "cafe-1", "name": "Corner Café", "owner": owner.String()}},
		{govcall.Name, govcall.MethodPropose, govcall.Args(govcall.ProposeArgs{Change: change.Encode(), Deadline: 1234}),
			map[string]string{"change": `{"kind":"freeze","address":"` + owner.String() + `"}`, "deadline": "1234"}},
	} {
		got := describeArgs(c.contract, c.method, c.args)
		var m map[string]string
		if err := json.Unmarshal([]byte(got), &m); err != nil {
			t.Fatalf("%s.%s: %q: %v", c.contract, c.method, got, err)
		}
		if len(m) != len(c.want) {
			t.Errorf("%s.%s: %v, want %v", c.contract, c.method, m, c.want)
		}
		for k, v := range c.want {
			if m[k] != v {
				t.Errorf("%s.%s: %s = %q, want %q (all: %v)", c.contract, c.method, k, m[k], v, m)
			}
		}
	}
	for _, c := range [][3]string{{"pay", "pay", "\xff\xff"}, {"pay", "no_such_method", ""}, {"nobody", "x", ""}} {
		if got := describeArgs(c[0], c[1], []byte(c[2])); got != "" {
			t.Errorf("describeArgs(%q, %q, %q) = %q, want nothing", c[0], c[1], c[2], got)
		}
	}

}

// FuzzDescribeArgs: any arguments bytes of any native method describe as
// nothing or as a JSON object of strings, never a panic (they come from
// transactions, failed ones included).
func FuzzDescribeArgs(f *testing.F) {
	owner := types.Address{1}
	f.Add("pay", paycall.MethodPay, paycall.Pay(types.Hash{}, "m", 1, owner))
	f.Add("gov", govcall.MethodPropose, govcall.Args(govcall.ProposeArgs{Change: (&govcall.Change{Kind: govcall.KindFreeze, Address: owner.String()}).Encode()}))
	f.Add("gov", govcall.MethodVote, []byte{0x08, 0x01, 0x10, 0x05})
	f.Add("token", "transfer", []byte{0x0a, 0x14})
	f.Fuzz(func(t *testing.T, contract, method string, args []byte) {
		got := describeArgs(contract, method, args)
		if got == "" {
			return
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(got), &m); err != nil {
			t.Fatalf("describeArgs(%q, %q, %x) = %q: not a JSON object of strings: %v", contract, method, args, got, err)
		}
	})
}
