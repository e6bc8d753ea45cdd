package sdk

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/contracts/usercontract/usercall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// ContractOp is a lifecycle operation of the registry: install, upgrade,
// freeze, unfreeze or revoke.
type ContractOp string

// Lifecycle operations.
const (
	OpInstall  ContractOp = usercall.MethodInstall
	OpUpgrade  ContractOp = usercall.MethodUpgrade
	OpFreeze   ContractOp = usercall.MethodFreeze
	OpUnfreeze ContractOp = usercall.MethodUnfreeze
	OpRevoke   ContractOp = usercall.MethodRevoke
)

// UploadCode sends code to the registry in chunks (usercall.ChunkSize
// each) and waits until every chunk is committed. It returns the code hash
// that install and upgrade pin. cert names a member on a permissioned
// chain in certificate mode (nil otherwise).
func (c *Client) UploadCode(ctx context.Context, key crypto.PrivateKey, cert []byte, code []byte) ([32]byte, error) {
	hash, chunks := usercall.Upload(code)
	info, err := c.Info(ctx)
	if err != nil {
		return hash, err
	}
	acct, err := c.Account(ctx, types.AddressOf(key.Scheme(), key.Public().Bytes()))
	if err != nil {
		return hash, err
	}
	nonce := acct.NextNonce
	var ids []types.Hash
	var raws [][]byte
	flush := func() error {
		if len(raws) == 0 {
			return nil
		}
		res, err := c.SubmitBatch(ctx, raws)
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Error != "" {
				return fmt.Errorf("uploading contract code: %s", r.Error)
			}
		}
		raws = raws[:0]
		return nil
	}
	for _, args := range chunks {
		tx, err := SignOffline(*info, key, nonce, Call{Contract: usercall.Name, Method: usercall.MethodUpload, Args: args, Cert: cert})
		if err != nil {
			return hash, err
		}
		nonce++
		ids = append(ids, tx.ID)
		raws = append(raws, tx.Raw)
		// The pool keeps a bounded window of future nonces per sender.
		if len(raws) == 32 {
			if err := flush(); err != nil {
				return hash, err
			}
			if _, err := c.WaitOK(ctx, ids[len(ids)-1]); err != nil {
				return hash, fmt.Errorf("uploading contract code: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return hash, err
	}
	for _, id := range ids {
		if _, err := c.WaitOK(ctx, id); err != nil {
			return hash, fmt.Errorf("uploading contract code: %w", err)
		}
	}
	return hash, nil
}

// ContractLifecycle signs and submits a lifecycle operation on an open
// chain, where the token issuer's key decides. For install and upgrade,
// code must be uploaded first (UploadCode) and hash is its hash; args go to
// the contract's init (upgrade) export. On a permissioned chain these are
// governance changes instead.
func (c *Client) ContractLifecycle(ctx context.Context, key crypto.PrivateKey, cert []byte, op ContractOp, name string, hash [32]byte, args []byte, gas uint64) (types.Hash, error) {
	var a []byte
	switch op {
	case OpInstall, OpUpgrade:
		a = usercall.InstallArgs(name, hash, args)
	case OpFreeze, OpUnfreeze, OpRevoke:
		a = usercall.NameArgs(name)
	default:
		return types.Hash{}, fmt.Errorf("unknown contract operation %q", op)
	}
	tx, err := c.Sign(ctx, key, Call{Contract: usercall.Name, Method: string(op), Args: a, Cert: cert, GasLimit: gas})
	if err != nil {
		return types.Hash{}, err
	}
	return c.Submit(ctx, tx)
}

// CallContract signs and submits a call of an installed contract: args are
// JSON by convention, gas 0 takes the chain's default. Wait (or WaitOK)
// for its receipt: status, gas_used, result and events.
func (c *Client) CallContract(ctx context.Context, key crypto.PrivateKey, cert []byte, name, method string, args []byte, gas uint64) (types.Hash, error) {
	tx, err := c.Sign(ctx, key, Call{Contract: name, Method: method, Args: args, Cert: cert, GasLimit: gas})
	if err != nil {
		return types.Hash{}, err
	}
	return c.Submit(ctx, tx)
}

// QueryContract runs a read-only call of an installed contract on
// committed state.
func (c *Client) QueryContract(ctx context.Context, name, method string, args []byte) (*apipb.QueryContractResponse, error) {
	r, err := c.rpc.QueryContract(ctx, connect.NewRequest(&apipb.QueryContractRequest{Name: name, Method: method, Args: args}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Contracts lists the installed contracts.
func (c *Client) Contracts(ctx context.Context) (*apipb.ListContractsResponse, error) {
	r, err := c.rpc.ListContracts(ctx, connect.NewRequest(&apipb.ListContractsRequest{}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Contract describes one installed contract.
func (c *Client) Contract(ctx context.Context, name string) (*apipb.ContractView, error) {
	r, err := c.rpc.GetContract(ctx, connect.NewRequest(&apipb.GetContractRequest{Name: name}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}
