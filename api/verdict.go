package api

import (
	"fmt"
	"strings"

	"connectrpc.com/connect"

	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// A leader's verdict on a transaction another node forwarded travels as
// Accord's own reason (p2p/pb.Reason, one per reason string of the table
// in errors.go), never as an RPC library's code; the forwarding node turns
// it back into the error its client sees.

// WireReason is the reason a leader sends for a refused transaction.
func WireReason(err error) p2ppb.Reason {
	code, reason := Classify(err)
	// Two reason strings each name two errors, told apart by their code.
	if reason == "not_registered" && code == connect.CodeInvalidArgument {
		return p2ppb.Reason_REASON_UNBOUND
	}
	if reason == "expired" && code == connect.CodeFailedPrecondition {
		return p2ppb.Reason_REASON_REQUEST_EXPIRED
	}
	if v, ok := p2ppb.Reason_value["REASON_"+strings.ToUpper(reason)]; ok && v != 0 {
		return p2ppb.Reason(v)
	}
	return p2ppb.Reason_REASON_INTERNAL
}

// Refusal is the error a forwarding node returns for a leader's refusal
// r with message msg: a *RemoteError with the code and reason the leader
// classified it with. A reason this node does not know is an error.
func Refusal(r p2ppb.Reason, msg string) (*RemoteError, error) {
	switch r {
	case p2ppb.Reason_REASON_UNBOUND:
		return &RemoteError{Code: connect.CodeInvalidArgument, Reason: "not_registered", Msg: msg}, nil
	case p2ppb.Reason_REASON_NOT_REGISTERED:
		return &RemoteError{Code: connect.CodePermissionDenied, Reason: "not_registered", Msg: msg}, nil
	case p2ppb.Reason_REASON_REQUEST_EXPIRED:
		return &RemoteError{Code: connect.CodeFailedPrecondition, Reason: "expired", Msg: msg}, nil
	}
	name, ok := p2ppb.Reason_name[int32(r)]
	if !ok || r == p2ppb.Reason_REASON_ADMITTED {
		return nil, fmt.Errorf("%w: verdict reason %d is unknown to this node (run the same release on every node)", p2ppb.ErrMalformed, r)
	}
	reason := strings.ToLower(strings.TrimPrefix(name, "REASON_"))
	return &RemoteError{Code: reasonCode(reason), Reason: reason, Msg: msg}, nil
}

// reasonCode is the API code of a reason string Classify returns (the
// first row of the table that has it); CodeInternal for "internal".
func reasonCode(reason string) connect.Code {
	for _, r := range reasons {
		if r.reason == reason {
			return r.code
		}
	}
	return connect.CodeInternal
}
