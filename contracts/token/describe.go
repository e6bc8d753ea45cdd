package token

import (
	"fmt"
	"strconv"

	"github.com/accord-chain/accord/types/pb"
)

// DescribeArgs decodes a call's arguments into a map for display (the API's
// args_json). Amounts are decimal strings so that JSON readers never round.
func DescribeArgs(method string, args []byte) (map[string]string, error) {
	switch method {
	case MethodMint:
		var m pb.MintArgs
		if err := decode(args, &m); err != nil {
			return nil, err
		}
		return map[string]string{"to": fmt.Sprintf("%x", m.To), "amount": strconv.FormatUint(m.Amount, 10)}, nil
	case MethodTransfer:
		var m pb.TransferArgs
		if err := decode(args, &m); err != nil {
			return nil, err
		}
		return map[string]string{"to": fmt.Sprintf("%x", m.To), "amount": strconv.FormatUint(m.Amount, 10)}, nil
	case MethodBurn:
		var m pb.BurnArgs
		if err := decode(args, &m); err != nil {
			return nil, err
		}
		return map[string]string{"amount": strconv.FormatUint(m.Amount, 10)}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownMethod, method)
}
