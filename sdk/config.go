package sdk

import (
	"context"

	"connectrpc.com/connect"

	apipb "github.com/accord-chain/accord/api/pb"
)

// Config returns the chain's configuration as of the last block: on a
// permissioned chain its organisations, CAs, policies, parameters,
// validators, frozen accounts and revoked certificates (Permissioned is
// false on an open chain).
func (c *Client) Config(ctx context.Context) (*apipb.GetConfigResponse, error) {
	r, err := c.rpc.GetConfig(ctx, connect.NewRequest(&apipb.GetConfigRequest{}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}
