package sdk

import (
	"context"
	"fmt"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// TxError is a transaction that was committed but did not succeed: its
// receipt's status is failed (it ran and was reverted; only the sender's
// nonce moved) or invalid (it could not run in its block). WaitOK returns
// it; match it with errors.As.
type TxError struct {
	ID      types.Hash
	Height  uint64
	Status  pb.TxStatus
	Message string // the receipt's reason
}

func (e *TxError) Error() string {
	return fmt.Sprintf("transaction %s %s at height %d: %s", e.ID, statusWord(e.Status), e.Height, e.Message)
}

func statusWord(s pb.TxStatus) string {
	switch s {
	case pb.TxStatus_TX_STATUS_FAILED:
		return "failed"
	case pb.TxStatus_TX_STATUS_INVALID:
		return "was invalid"
	}
	return s.String()
}

// WaitOK is Wait for callers that want success or an error: it returns
// the committed transaction when its receipt is OK, and a *TxError with
// the receipt's reason when it failed or was invalid.
func (c *Client) WaitOK(ctx context.Context, id types.Hash) (*apipb.GetTxResponse, error) {
	r, err := c.Wait(ctx, id)
	if err != nil {
		return nil, err
	}
	if s := r.Receipt.GetStatus(); s != pb.TxStatus_TX_STATUS_OK {
		return r, &TxError{ID: id, Height: r.Height, Status: s, Message: r.Receipt.GetMessage()}
	}
	return r, nil
}
