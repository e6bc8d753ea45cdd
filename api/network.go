package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// ErrNoQuorum is what a node that cannot reach a majority of its network
// answers to writes: nothing it admitted could commit.
var ErrNoQuorum = errors.New("no quorum: this node cannot reach a majority of the network; retry on another node or when the network heals")

// ErrBadNodeChange marks a ChangeNodes request that is malformed or not
// signed by the chain's admin.
var ErrBadNodeChange = errors.New("bad node change")

// MaxClockSkew bounds how far a NodeChange's time may be from the node's
// clock. A change replayed within it does nothing: Raft ids are never
// reused, so an add is refused once its id was used (a member, or removed)
// and a remove once the id is gone; a change takes effect at most once.
const MaxClockSkew = 5 * time.Minute

// Network is what the API needs from a multi-node network. Solo nodes have
// none (Deps.Network nil).
type Network interface {
	// Leader returns the leader's node id ("" when none is known) and the
	// current term.
	Leader() (nodeID string, term uint64)
	// Peers describes the other nodes.
	Peers() []*pb.PeerStatus
	// Available returns nil when transactions admitted now can commit, or
	// an error wrapping ErrNoQuorum.
	Available() error
	// Forward hands transactions this node admitted from its clients to
	// the leader, and returns the leader's verdict on each (nil: admitted
	// there, or already known). An error for the whole batch means the
	// leader could not be reached.
	Forward(ctx context.Context, raws [][]byte) ([]error, error)
	// ChangeNodes carries out a membership change whose signature
	// VerifyNodeChange accepted (c is req's decoded change), forwarding it
	// to the leader if need be, and returns the voters' node ids after it.
	ChangeNodes(ctx context.Context, req *pb.ChangeNodesRequest, c *pb.NodeChange) ([]string, error)
	// Members returns the voters by Raft id, from this node's committed
	// member list, and the highest Raft id the network ever used.
	Members() (members []*pb.Member, maxID uint64)
}

// BFTNetwork is a Network run by BFT consensus: status shows its round
// and validators.
type BFTNetwork interface {
	Network
	// Round is this node's round; Validators each validator with the
	// highest round this node received from it.
	BFTStatus() (round uint64, validators []*pb.ValidatorStatus)
	// Evidence is the equivocations this node has seen, oldest first.
	Evidence() []Evidence
}

// Evidence is two conflicting messages (two proposals or two votes for
// one round) signed by one validator, as served by GET /v1/evidence.
// A and B are the encoded accord.bft.v1.Message, in hex.
type Evidence struct {
	Validator string `json:"validator"`
	Round     uint64 `json:"round"`
	A         string `json:"a"`
	B         string `json:"b"`
}

// serveEvidence answers GET /v1/evidence: {"evidence": [...]}.
func (s *Server) serveEvidence(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	b, ok := s.d.Network.(BFTNetwork)
	if !ok || s.d.Consensus != "bft" {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "this node runs " + s.d.Consensus + " consensus: evidence of equivocation is kept by bft nodes only"})
		return
	}
	ev := b.Evidence()
	if ev == nil {
		ev = []Evidence{}
	}
	_ = json.NewEncoder(w).Encode(struct {
		Evidence []Evidence `json:"evidence"`
	}{ev})
}

// RemoteError is a transaction refused by the leader a node forwarded it
// to, with the leader's classification.
type RemoteError struct {
	Code   connect.Code
	Reason string
	Msg    string
}

func (e *RemoteError) Error() string { return e.Msg }

// ChangeNodes implements the service.
func (s *Server) ChangeNodes(ctx context.Context, req *connect.Request[pb.ChangeNodesRequest]) (*connect.Response[pb.ChangeNodesResponse], error) {
	if s.d.Network == nil {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("this node runs %s consensus: membership changes need raft", s.d.Consensus))
	}
	c, err := VerifyNodeChange(req.Msg, s.d.ChainID, s.d.Issuer, s.d.Clock.Now())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	members, err := s.d.Network.ChangeNodes(ctx, req.Msg, c)
	if err != nil {
		code := connect.CodeFailedPrecondition
		if errors.Is(err, ErrNoQuorum) {
			code = connect.CodeUnavailable
		}
		return nil, connect.NewError(code, err)
	}
	return connect.NewResponse(&pb.ChangeNodesResponse{Members: members}), nil
}

// VerifyNodeChange decodes a signed change and checks that the chain's
// admin (issuer) signed it, for this chain (chainID), recently.
func VerifyNodeChange(req *pb.ChangeNodesRequest, chainID string, issuer types.Address, now time.Time) (*pb.NodeChange, error) {
	c := &pb.NodeChange{}
	if err := proto.Unmarshal(req.Change, c); err != nil {
		return nil, fmt.Errorf("%w: change: %v", ErrBadNodeChange, err)
	}
	if err := CheckNodeChange(c); err != nil {
		return nil, err
	}
	if c.ChainId != chainID {
		return nil, fmt.Errorf("%w: signed for chain %q, this is %q", ErrBadNodeChange, c.ChainId, chainID)
	}
	if d := time.Duration(int64(c.Time)-now.UnixMilli()) * time.Millisecond; d > MaxClockSkew || d < -MaxClockSkew {
		return nil, fmt.Errorf("%w: signed at %s, more than %s from this node's clock", ErrBadNodeChange, time.UnixMilli(int64(c.Time)).UTC().Format(time.RFC3339), MaxClockSkew)
	}
	signer := req.Signer
	pub := signer.GetPublicKey()
	if pub == nil {
		return nil, fmt.Errorf("%w: signer must be the admin's public key", ErrBadNodeChange)
	}
	scheme := crypto.Scheme(signer.Scheme)
	if !scheme.Valid() {
		return nil, fmt.Errorf("%w: %v", ErrBadNodeChange, crypto.ErrUnknownScheme)
	}
	if issuer == (types.Address{}) {
		return nil, fmt.Errorf("%w: this chain's genesis names no admin (token.issuer), so its nodes cannot be changed this way", ErrBadNodeChange)
	}
	if types.Address(crypto.Address(scheme, pub)) != issuer {
		return nil, fmt.Errorf("%w: signer is not the chain's admin %s", ErrBadNodeChange, issuer)
	}
	if err := crypto.Verify(scheme, pub, req.Change, req.Signature); err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrBadNodeChange, err)
	}
	return c, nil
}

// CheckNodeChange checks a change's fields, whoever signed it.
func CheckNodeChange(c *pb.NodeChange) error {
	switch {
	case c.Version != 1:
		return fmt.Errorf("%w: version %d, want 1", ErrBadNodeChange, c.Version)
	case c.Id == 0:
		return fmt.Errorf("%w: id must be non-zero", ErrBadNodeChange)
	case c.Op == "add" && (c.NodeId == "" || c.P2PAddress == ""):
		return fmt.Errorf("%w: adding a node needs its node_id and p2p_address", ErrBadNodeChange)
	case c.Op != "add" && c.Op != "remove":
		return fmt.Errorf("%w: op %q, want add or remove", ErrBadNodeChange, c.Op)
	}
	return nil
}
