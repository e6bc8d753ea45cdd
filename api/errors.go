package api

import (
	"errors"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/pay"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/usercontract"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
)

// reasons maps admission errors to an API status and a stable reason string
// that scripts can match on. The first match wins.
var reasons = []struct {
	err    error
	code   connect.Code
	reason string
}{
	{txpool.ErrPoolFull, connect.CodeResourceExhausted, "pool_full"},
	{txpool.ErrDuplicate, connect.CodeAlreadyExists, "duplicate"},
	{txpool.ErrStaleNonce, connect.CodeFailedPrecondition, "stale_nonce"},
	{txpool.ErrNonceGap, connect.CodeFailedPrecondition, "nonce_gap"},
	{types.ErrTooLarge, connect.CodeInvalidArgument, "too_large"},
	{types.ErrWrongChain, connect.CodeInvalidArgument, "wrong_chain"},
	{types.ErrExpired, connect.CodeInvalidArgument, "expired"},
	{types.ErrBadSignature, connect.CodeInvalidArgument, "bad_signature"},
	{types.ErrUnknownScheme, connect.CodeInvalidArgument, "unknown_scheme"},
	{types.ErrVersion, connect.CodeInvalidArgument, "bad_version"},
	{types.ErrNoSigner, connect.CodeInvalidArgument, "malformed"},
	{types.ErrUnbound, connect.CodeInvalidArgument, "not_registered"},
	{types.ErrWeakKey, connect.CodeInvalidArgument, "weak_key"},
	{types.ErrMalformed, connect.CodeInvalidArgument, "malformed"},
	{txpool.ErrClosed, connect.CodeUnavailable, "closed"},
	{ErrNoQuorum, connect.CodeUnavailable, "no_quorum"},
	{token.ErrNotIssuer, connect.CodePermissionDenied, "not_issuer"},
	{token.ErrInsufficient, connect.CodeFailedPrecondition, "insufficient_balance"},
	{token.ErrOverflow, connect.CodeFailedPrecondition, "overflow"},
	{token.ErrBadAmount, connect.CodeInvalidArgument, "bad_amount"},
	{token.ErrBadAddress, connect.CodeInvalidArgument, "bad_address"},
	{token.ErrBadArgs, connect.CodeInvalidArgument, "bad_args"},
	// Before identity's errors: a non-admin's gov call wraps ErrWrongRole too.
	{governance.ErrNotAdmin, connect.CodePermissionDenied, "not_admin"},
	{identity.ErrUnknownCA, connect.CodePermissionDenied, "unknown_ca"},
	{identity.ErrUnknownOrg, connect.CodePermissionDenied, "unknown_org"},
	{identity.ErrExpired, connect.CodePermissionDenied, "cert_expired"},
	{identity.ErrRevoked, connect.CodePermissionDenied, "cert_revoked"},
	{identity.ErrWrongRole, connect.CodePermissionDenied, "wrong_role"},
	{identity.ErrFrozen, connect.CodePermissionDenied, "frozen"},
	{identity.ErrUnknownMember, connect.CodePermissionDenied, "not_registered"},
	{identity.ErrWrongMode, connect.CodeInvalidArgument, "wrong_mode"},
	{identity.ErrBadCert, connect.CodeInvalidArgument, "bad_cert"},
	{identity.ErrPolicy, connect.CodePermissionDenied, "policy"},
	{identity.ErrBadEndorsement, connect.CodeInvalidArgument, "bad_endorsement"},
	{identity.ErrProposalExpired, connect.CodeFailedPrecondition, "proposal_expired"},
	{governance.ErrReplay, connect.CodeAlreadyExists, "replay"},
	{governance.ErrNoProposal, connect.CodeNotFound, "no_proposal"},
	{governance.ErrClosed, connect.CodeFailedPrecondition, "proposal_closed"},
	{governance.ErrDuplicate, connect.CodeAlreadyExists, "already_voted"},
	{governance.ErrBadChange, connect.CodeInvalidArgument, "bad_change"},
	{governance.ErrBadArgs, connect.CodeInvalidArgument, "bad_args"},
	{pay.ErrAlreadyPaid, connect.CodeFailedPrecondition, "already_paid"},
	{pay.ErrExpired, connect.CodeFailedPrecondition, "expired"},
	{pay.ErrCancelled, connect.CodeFailedPrecondition, "cancelled"},
	{pay.ErrRefundExceeds, connect.CodeFailedPrecondition, "refund_exceeds_payment"},
	{pay.ErrUnknownMerchant, connect.CodeNotFound, "unknown_merchant"},
	{pay.ErrUnknownRequest, connect.CodeNotFound, "unknown_request"},
	{pay.ErrUnknownPayment, connect.CodeNotFound, "unknown_payment"},
	{pay.ErrMerchantExists, connect.CodeAlreadyExists, "merchant_exists"},
	{pay.ErrNotOwner, connect.CodePermissionDenied, "not_owner"},
	{pay.ErrNotAuthorised, connect.CodePermissionDenied, "not_authorised"},
	{pay.ErrWrongAmount, connect.CodeInvalidArgument, "wrong_amount"},
	{pay.ErrWrongMerchant, connect.CodeInvalidArgument, "wrong_merchant"},
	{pay.ErrBadArgs, connect.CodeInvalidArgument, "bad_args"},
	{usercontract.ErrNotAllowed, connect.CodePermissionDenied, "not_allowed"},
	{usercontract.ErrFrozen, connect.CodeFailedPrecondition, "contract_frozen"},
	{usercontract.ErrRevoked, connect.CodeFailedPrecondition, "contract_revoked"},
	{usercontract.ErrExists, connect.CodeAlreadyExists, "contract_exists"},
	{usercontract.ErrNotInstalled, connect.CodeNotFound, "contract_not_installed"},
	{usercontract.ErrCode, connect.CodeInvalidArgument, "bad_code"},
	{usercontract.ErrBadEncoding, connect.CodeInvalidArgument, "bad_args"},
	{usercontract.ErrBadParams, connect.CodeInvalidArgument, "bad_params"},
	{execution.ErrUnknownContract, connect.CodeInvalidArgument, "unknown_contract"},
	{execution.ErrUnknownMethod, connect.CodeInvalidArgument, "unknown_method"},
}

// Classify maps an admission error to its API code and reason string.
func Classify(err error) (connect.Code, string) {
	var remote *RemoteError
	if errors.As(err, &remote) {
		return remote.Code, remote.Reason
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.code, r.reason
		}
	}
	return connect.CodeInternal, "internal"
}
