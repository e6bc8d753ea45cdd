package sdk

import (
	"context"

	"connectrpc.com/connect"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/types"
)

// Merchant reads a merchant of the pay contract.
func (c *Client) Merchant(ctx context.Context, id string) (*apipb.Merchant, error) {
	r, err := c.rpc.GetMerchant(ctx, connect.NewRequest(&apipb.GetMerchantRequest{Id: id}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Merchants lists up to limit merchants (0: the node's default) with ids
// after after, in id order.
func (c *Client) Merchants(ctx context.Context, limit uint32, after string) (*apipb.ListMerchantsResponse, error) {
	r, err := c.rpc.ListMerchants(ctx, connect.NewRequest(&apipb.ListMerchantsRequest{Limit: limit, After: after}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Statement reads a merchant's statement of a UTC day (YYYY-MM-DD); list
// adds the day's entries.
func (c *Client) Statement(ctx context.Context, merchant, day string, list bool) (*apipb.Statement, error) {
	r, err := c.rpc.GetStatement(ctx, connect.NewRequest(&apipb.GetStatementRequest{Merchant: merchant, Day: day, List: list}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// PaymentRequest reads a payment request.
func (c *Client) PaymentRequest(ctx context.Context, id types.Hash) (*apipb.PaymentRequest, error) {
	r, err := c.rpc.GetPaymentRequest(ctx, connect.NewRequest(&apipb.GetPaymentRequestRequest{Id: id.String()}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Payment reads a payment.
func (c *Client) Payment(ctx context.Context, id types.Hash) (*apipb.Payment, error) {
	r, err := c.rpc.GetPayment(ctx, connect.NewRequest(&apipb.GetPaymentRequest{Id: id.String()}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// PaymentPlace reads where payment id is recorded, which a refund names
// (paycall.Refund): its merchant and block time from GetPayment, its
// index in the block from GetTx.
func (c *Client) PaymentPlace(ctx context.Context, id types.Hash) (paycall.Place, error) {
	p, err := c.Payment(ctx, id)
	if err != nil {
		return paycall.Place{}, err
	}
	t, err := c.Tx(ctx, id)
	if err != nil {
		return paycall.Place{}, err
	}
	return paycall.Place{Merchant: p.Merchant, Day: paycall.Day(p.Time), Height: p.Height, Index: t.Index}, nil
}

// AccountTxs lists an account's committed transactions, newest first:
// up to limit (0: the node's default) before the cursor (empty: from the
// newest). The answer's Next is the cursor of the next page.
func (c *Client) AccountTxs(ctx context.Context, addr types.Address, limit uint32, before string) (*apipb.ListAccountTxsResponse, error) {
	r, err := c.rpc.ListAccountTxs(ctx, connect.NewRequest(&apipb.ListAccountTxsRequest{Account: addr.String(), Limit: limit, Before: before}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}
