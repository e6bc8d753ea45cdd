package node

import (
	"fmt"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/api/pb"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
	"github.com/accord-chain/accord/types"
)

// Conversions between the node's values and the node-to-node messages of
// p2p/pb. Every decoder reads bytes from another node (or a Raft entry
// another node proposed) through p2ppb.Decode, which is fuzzed.

// encodeVerdicts answers a TxBatch: a nil error is an admitted
// transaction, any other its reason.
func encodeVerdicts(errs []error) []byte {
	vs := make([]*p2ppb.Verdict, len(errs))
	for i, err := range errs {
		vs[i] = &p2ppb.Verdict{}
		if err != nil {
			vs[i].Reason = api.WireReason(err)
			vs[i].Message = err.Error()
		}
	}
	return p2ppb.Marshal(&p2ppb.Verdicts{Version: p2ppb.Version, Verdicts: vs})
}

// decodeVerdicts reads the leader's answer to want transactions: nil for
// an admitted one, else an *api.RemoteError.
func decodeVerdicts(b []byte, want int) ([]error, error) {
	var m p2ppb.Verdicts
	if err := p2ppb.Decode(b, &m); err != nil {
		return nil, err
	}
	if len(m.Verdicts) != want {
		return nil, fmt.Errorf("%w: %d verdicts for %d transactions", p2ppb.ErrMalformed, len(m.Verdicts), want)
	}
	out := make([]error, want)
	for i, v := range m.Verdicts {
		if v.Reason == p2ppb.Reason_REASON_ADMITTED {
			continue
		}
		refusal, err := api.Refusal(v.Reason, v.Message)
		if err != nil {
			return nil, err
		}
		out[i] = refusal
	}
	return out, nil
}

// decodeHashReport reads a peer's hash of a block; ok is false if the
// peer has none yet.
func decodeHashReport(b []byte) (height uint64, hash types.Hash, ok bool, err error) {
	var m p2ppb.HashReport
	if err := p2ppb.Decode(b, &m); err != nil {
		return 0, hash, false, err
	}
	switch len(m.Hash) {
	case 0:
		return m.Height, hash, false, nil
	case len(hash):
		return m.Height, types.Hash(m.Hash), true, nil
	}
	return 0, hash, false, fmt.Errorf("%w: block hash of %d bytes", p2ppb.ErrMalformed, len(m.Hash))
}

// encodeNodeChange forwards a signed membership change to the leader.
func encodeNodeChange(req *pb.ChangeNodesRequest) []byte {
	return p2ppb.Marshal(&p2ppb.NodeChange{Version: p2ppb.Version, Change: req.Change, Signer: req.Signer, Signature: req.Signature})
}

func decodeNodeChange(b []byte) (*pb.ChangeNodesRequest, error) {
	var m p2ppb.NodeChange
	if err := p2ppb.Decode(b, &m); err != nil {
		return nil, err
	}
	return &pb.ChangeNodesRequest{Change: m.Change, Signer: m.Signer, Signature: m.Signature}, nil
}

func encodeRemovedQuery(id uint64) []byte {
	return p2ppb.Marshal(&p2ppb.RemovedQuery{Version: p2ppb.Version, RaftId: id})
}

// decodeRemovedQuery reads a peer's question whether it was removed: its
// Raft id.
func decodeRemovedQuery(b []byte) (uint64, error) {
	var m p2ppb.RemovedQuery
	if err := p2ppb.Decode(b, &m); err != nil {
		return 0, err
	}
	if m.RaftId == 0 {
		return 0, fmt.Errorf("%w: removal query for raft id 0", p2ppb.ErrMalformed)
	}
	return m.RaftId, nil
}

func encodeRemovedAnswer(removed bool) []byte {
	return p2ppb.Marshal(&p2ppb.RemovedAnswer{Version: p2ppb.Version, Removed: removed})
}

// decodeRemovedAnswer reads a peer's answer to a removal query.
func decodeRemovedAnswer(b []byte) (bool, error) {
	var m p2ppb.RemovedAnswer
	if err := p2ppb.Decode(b, &m); err != nil {
		return false, err
	}
	return m.Removed, nil
}
