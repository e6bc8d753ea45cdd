// Package sdk is the Go client of an Accord node: it builds and signs
// transactions, submits them and reads the chain. The CLI and the bench tool
// use it; so can applications. It must not import node internals: it speaks
// only the public API.
package sdk

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/api/pb/pbconnect"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// DefaultTTL is how long a transaction built by the client stays valid.
const DefaultTTL = time.Hour

// Client talks to one node. It is safe for concurrent use.
type Client struct {
	rpc pbconnect.NodeServiceClient
	url string
	hc  *http.Client // for the plain HTTP endpoints (evidence.go)

	mu   sync.Mutex
	info *Info
}

// Info is what a client needs to know about the chain to build transactions.
type Info struct {
	ChainID string
	Hash    crypto.Hash
	Issuer  types.Address
}

// Option configures a Client made by New.
type Option func(*options)

type options struct {
	noCompression bool
	roots         *x509.CertPool    // WithTLS
	key           crypto.PrivateKey // WithMember
	cert          []byte
	err           error // of an option; every call returns it
}

// WithoutCompression asks the node to send its responses uncompressed. By
// default they are gzipped, which on loopback or a fast network costs the
// node more CPU than it saves; the bench turns it off so that measuring a
// node does not load it with compression.
func WithoutCompression() Option {
	return func(o *options) { o.noCompression = true }
}

// New returns a client of the node at url, e.g. "http://127.0.0.1:7070"
// (plain HTTP) or "https://node1.example:7070" (TLS; see WithTLS and
// WithMember). An unusable option or URL makes every call fail with the
// reason.
func New(url string, opts ...Option) *Client {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	hc := &http.Client{Transport: transport(url, &o)}
	var rpcOpts []connect.ClientOption
	if o.noCompression {
		rpcOpts = append(rpcOpts, connect.WithAcceptCompression("gzip", nil, nil))
	}
	return &Client{rpc: pbconnect.NewNodeServiceClient(hc, url, rpcOpts...), url: url, hc: hc}
}

// URL is the node's URL.
func (c *Client) URL() string { return c.url }

// RPC exposes the generated client for calls the SDK does not wrap.
func (c *Client) RPC() pbconnect.NodeServiceClient { return c.rpc }

// Info fetches (once) the chain's id, hash function and issuer.
func (c *Client) Info(ctx context.Context) (*Info, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.info != nil {
		return c.info, nil
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	h, err := crypto.ParseHash(st.Hash)
	if err != nil {
		return nil, fmt.Errorf("node reports hash %q: %w", st.Hash, err)
	}
	issuer, err := types.ParseAddress(st.Issuer)
	if err != nil {
		return nil, fmt.Errorf("node reports issuer %q: %w", st.Issuer, err)
	}
	c.info = &Info{ChainID: st.ChainId, Hash: h, Issuer: issuer}
	return c.info, nil
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (*apipb.StatusResponse, error) {
	r, err := c.rpc.Status(ctx, connect.NewRequest(&apipb.StatusRequest{}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Account returns an account's balance and nonces.
func (c *Client) Account(ctx context.Context, addr types.Address) (*apipb.GetAccountResponse, error) {
	r, err := c.rpc.GetAccount(ctx, connect.NewRequest(&apipb.GetAccountRequest{Address: addr.String()}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Tx returns a committed transaction with its receipt. An uncommitted one
// gives an error for which IsNotFound is true.
func (c *Client) Tx(ctx context.Context, id types.Hash) (*apipb.GetTxResponse, error) {
	r, err := c.rpc.GetTx(ctx, connect.NewRequest(&apipb.GetTxRequest{TxId: id.String()}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Block returns the block at height, or the latest when height is 0.
func (c *Client) Block(ctx context.Context, height uint64) (*apipb.GetBlockResponse, error) {
	req := &apipb.GetBlockRequest{Height: height, Latest: height == 0}
	r, err := c.rpc.GetBlock(ctx, connect.NewRequest(req))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Call describes a contract call to sign.
type Call struct {
	Contract string
	Method   string
	Args     []byte
	// Nonce, when nil, is taken from the node's next_nonce for the sender.
	Nonce *uint64
	// ExpiresAt in unix ms; zero means now plus DefaultTTL.
	ExpiresAt uint64
	// Cert (DER) names the signer by its certificate, on a permissioned
	// chain in certificate mode; CertHash names it by the hash of its
	// certificate registered on chain. Both empty: by public key.
	Cert     []byte
	CertHash types.Hash
	// GasLimit bounds a user-contract call's gas; 0 takes the chain's
	// default.
	GasLimit uint64
}

// Sign builds and signs a transaction for the connected chain.
func (c *Client) Sign(ctx context.Context, key crypto.PrivateKey, call Call) (*types.Tx, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	var nonce uint64
	if call.Nonce != nil {
		nonce = *call.Nonce
	} else {
		acct, err := c.Account(ctx, types.AddressOf(key.Scheme(), key.Public().Bytes()))
		if err != nil {
			return nil, err
		}
		nonce = acct.NextNonce
	}
	return SignOffline(*info, key, nonce, call)
}

// Proposal returns online governance proposal id, or every proposal when
// id is 0.
func (c *Client) Proposal(ctx context.Context, id uint64) (*apipb.GetProposalResponse, error) {
	r, err := c.rpc.GetProposal(ctx, connect.NewRequest(&apipb.GetProposalRequest{Id: id}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg, nil
}

// Submit sends one transaction to the pool.
func (c *Client) Submit(ctx context.Context, tx *types.Tx) (types.Hash, error) {
	r, err := c.rpc.SubmitTx(ctx, connect.NewRequest(&apipb.SubmitTxRequest{Tx: tx.Raw}))
	if err != nil {
		return types.Hash{}, wrap(c.url, err)
	}
	return types.ParseHash(r.Msg.TxId)
}

// SubmitBatch sends encoded transactions in one call; each gets a result.
func (c *Client) SubmitBatch(ctx context.Context, raws [][]byte) ([]*apipb.SubmitResult, error) {
	r, err := c.rpc.SubmitTxs(ctx, connect.NewRequest(&apipb.SubmitTxsRequest{Txs: raws}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	if len(r.Msg.Results) != len(raws) {
		return nil, fmt.Errorf("node answered %d results for %d transactions", len(r.Msg.Results), len(raws))
	}
	return r.Msg.Results, nil
}

// Wait polls until the transaction is committed or ctx ends.
func (c *Client) Wait(ctx context.Context, id types.Hash) (*apipb.GetTxResponse, error) {
	delay := 20 * time.Millisecond
	for {
		r, err := c.Tx(ctx, id)
		if err == nil {
			return r, nil
		}
		if !IsNotFound(err) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s not committed: %w", id, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// Subscribe streams committed blocks from height from (0: the next one).
// It returns once the node has opened the stream, so every block committed
// after it returns reaches the stream: subscribe, then send. ctx bounds the
// whole subscription; cancel it, or let its deadline pass, to end it.
func (c *Client) Subscribe(ctx context.Context, from uint64, includeTxs bool) (*connect.ServerStreamForClient[apipb.SubscribeResponse], error) {
	s, err := c.rpc.Subscribe(ctx, connect.NewRequest(&apipb.SubscribeRequest{FromHeight: from, IncludeTxs: includeTxs}))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	conn, err := s.Conn()
	if err != nil {
		return nil, wrap(c.url, err)
	}
	// Blocks until the node sends the stream's headers, or the request
	// fails: ctx ends, or the node cannot be reached.
	hdr := conn.ResponseHeader()
	if err := ctx.Err(); err != nil {
		_ = s.Close()
		code := connect.CodeCanceled
		if errors.Is(err, context.DeadlineExceeded) {
			code = connect.CodeDeadlineExceeded
		}
		return nil, connect.NewError(code, fmt.Errorf("subscribing at %s: %w", c.url, err))
	}
	if hdr.Get("Content-Type") == "" {
		// No response: the first Receive reports why.
		s.Receive()
		err := s.Err()
		_ = s.Close()
		if err == nil {
			err = fmt.Errorf("node at %s closed the subscription without answering", c.url)
		}
		return nil, wrap(c.url, err)
	}
	return s, nil
}

// Transfer signs and submits a token transfer.
func (c *Client) Transfer(ctx context.Context, key crypto.PrivateKey, to types.Address, amount uint64) (types.Hash, error) {
	return c.call(ctx, key, tokencall.MethodTransfer, tokencall.Transfer(to, amount))
}

// Mint signs and submits a mint by the issuer.
func (c *Client) Mint(ctx context.Context, key crypto.PrivateKey, to types.Address, amount uint64) (types.Hash, error) {
	return c.call(ctx, key, tokencall.MethodMint, tokencall.Mint(to, amount))
}

func (c *Client) call(ctx context.Context, key crypto.PrivateKey, method string, args []byte) (types.Hash, error) {
	tx, err := c.Sign(ctx, key, Call{Contract: tokencall.Name, Method: method, Args: args})
	if err != nil {
		return types.Hash{}, err
	}
	return c.Submit(ctx, tx)
}

// IsNotFound reports whether err is the node's "not found".
func IsNotFound(err error) bool { return connect.CodeOf(err) == connect.CodeNotFound }

// wrap turns a transport failure into a message that names the node.
func wrap(url string, err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) && ce.Code() == connect.CodeUnavailable {
		return fmt.Errorf("cannot reach node at %s (is it running? start one with `accord dev`): %w", url, err)
	}
	return err
}

// ChangeNodes signs a membership change with the chain admin's key and
// sends it; the node forwards it to the leader. It returns the voters'
// node ids after the change. ChainId, Version and Time are filled in when
// zero.
func (c *Client) ChangeNodes(ctx context.Context, admin crypto.PrivateKey, change *apipb.NodeChange) ([]string, error) {
	if change.ChainId == "" {
		info, err := c.Info(ctx)
		if err != nil {
			return nil, err
		}
		change.ChainId = info.ChainID
	}
	req, err := SignNodeChange(admin, change)
	if err != nil {
		return nil, err
	}
	return c.SendNodeChange(ctx, req)
}

// SignNodeChange signs a membership change with the chain admin's key,
// filling in Version and Time when zero; change.ChainId must be set. A
// signed change takes effect at most once: an added node's Raft id is never
// used again, and a removed one never comes back.
func SignNodeChange(admin crypto.PrivateKey, change *apipb.NodeChange) (*apipb.ChangeNodesRequest, error) {
	if change.ChainId == "" {
		return nil, errors.New("sign node change: chain id missing")
	}
	if change.Version == 0 {
		change.Version = 1
	}
	if change.Time == 0 {
		change.Time = uint64(time.Now().UnixMilli())
	}
	body, err := proto.Marshal(change)
	if err != nil {
		return nil, err
	}
	sig, err := admin.Sign(body)
	if err != nil {
		return nil, err
	}
	return &apipb.ChangeNodesRequest{
		Change:    body,
		Signer:    &pb.Signer{Scheme: pb.Scheme(admin.Scheme()), Identity: &pb.Signer_PublicKey{PublicKey: admin.Public().Bytes()}},
		Signature: sig,
	}, nil
}

// SendNodeChange sends a signed membership change (SignNodeChange) and
// returns the voters' node ids after it.
func (c *Client) SendNodeChange(ctx context.Context, req *apipb.ChangeNodesRequest) ([]string, error) {
	r, err := c.rpc.ChangeNodes(ctx, connect.NewRequest(req))
	if err != nil {
		return nil, wrap(c.url, err)
	}
	return r.Msg.Members, nil
}
