package api

import (
	"fmt"
	"testing"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/token"
)

// TestClassifyPayErrors: the pay contract's refusals at admission reach
// clients with the reasons docs/payments.md names, not as internal errors.
func TestClassifyPayErrors(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("%w: paid by x", pay.ErrAlreadyPaid):         "already_paid",
		fmt.Errorf("%w: at 5", pay.ErrExpired):                  "expired",
		fmt.Errorf("%w: by the merchant", pay.ErrCancelled):     "cancelled",
		fmt.Errorf("%w: at most 3", pay.ErrRefundExceeds):       "refund_exceeds_payment",
		fmt.Errorf("%w: no merchant", pay.ErrUnknownMerchant):   "unknown_merchant",
		fmt.Errorf("%w: only the owner", pay.ErrNotOwner):       "not_owner",
		fmt.Errorf("%w: have 1, need 2", token.ErrInsufficient): "insufficient_balance",
	} {
		code, got := Classify(err)
		if got != want || code == connect.CodeInternal {
			t.Errorf("Classify(%v) = %s %s, want %s", err, code, got, want)
		}
	}
}
