package pay

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/pay/pb"
)

// DescribeArgs decodes a call's arguments into a map for display (the
// API's args_json). Amounts are decimal strings so that JSON readers never
// round; ids and addresses are hex.
func DescribeArgs(method string, args []byte) (map[string]string, error) {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	switch method {
	case paycall.MethodAddMerchant:
		var a pb.AddMerchantArgs
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		return map[string]string{"id": a.Id, "name": a.Name, "owner": hex.EncodeToString(a.Owner)}, nil
	case paycall.MethodRequest:
		var a pb.RequestArgs
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		return map[string]string{"merchant": a.Merchant, "amount": u(a.Amount), "expires_at": u(a.ExpiresAt), "memo": a.Memo}, nil
	case paycall.MethodCancel:
		var a pb.CancelArgs
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		return map[string]string{"request": hex.EncodeToString(a.Request)}, nil
	case paycall.MethodPay:
		var a pb.PayArgs
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		return map[string]string{"merchant": a.Merchant, "amount": u(a.Amount), "request": hex.EncodeToString(a.Request), "to": hex.EncodeToString(a.To)}, nil
	case paycall.MethodRefund:
		var a pb.RefundArgs
		if err := decode(args, &a); err != nil {
			return nil, err
		}
		return map[string]string{"payment": hex.EncodeToString(a.Payment), "amount": u(a.Amount), "merchant": a.Merchant,
			"day": paycall.FormatDay(a.Day), "height": u(a.Height), "index": u(uint64(a.Index))}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownMethod, method)
}
