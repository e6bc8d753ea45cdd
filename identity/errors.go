package identity

import "errors"

// Sentinel errors. Every error this package returns wraps one of them, and
// its message names the organisation, serial or policy involved.
var (
	// ErrBadCert is returned for bytes that are not a certificate this
	// package accepts (malformed, too large, wrong fields or key type).
	ErrBadCert = errors.New("identity: bad certificate")
	// ErrUnknownOrg is returned for an organisation the configuration does
	// not list.
	ErrUnknownOrg = errors.New("identity: unknown organisation")
	// ErrUnknownCA is returned for a certificate that no CA of its
	// organisation signed.
	ErrUnknownCA = errors.New("identity: certificate not signed by a CA of its organisation")
	// ErrExpired is returned for a certificate (or CA) outside its validity
	// period at the block time, either expired or not yet valid.
	ErrExpired = errors.New("identity: certificate expired or not yet valid")
	// ErrRevoked is returned for a revoked certificate.
	ErrRevoked = errors.New("identity: certificate revoked")
	// ErrWrongRole is returned when a member's role does not allow what it
	// attempts.
	ErrWrongRole = errors.New("identity: wrong role")
	// ErrBadRole is returned for a role name or number that is not a role.
	ErrBadRole = errors.New("identity: bad role")
	// ErrUnknownMember is returned for a certificate hash or public key that
	// is not registered.
	ErrUnknownMember = errors.New("identity: unknown member")
	// ErrWrongMode is returned for a signer reference the chain's identity
	// mode does not allow (a key in certificate mode or the reverse).
	ErrWrongMode = errors.New("identity: wrong identity mode")
	// ErrFrozen is returned for a frozen account that tries to send.
	ErrFrozen = errors.New("identity: account frozen")
	// ErrBadConfig is returned for an invalid or non-canonical
	// configuration.
	ErrBadConfig = errors.New("identity: bad configuration")
	// ErrBadPolicy is returned for an invalid policy.
	ErrBadPolicy = errors.New("identity: bad policy")
	// ErrPolicy is returned when endorsements or a caller do not satisfy a
	// policy; the message says what is missing.
	ErrPolicy = errors.New("identity: policy not satisfied")
	// ErrBadEndorsement is returned for an endorsement whose signature does
	// not verify over the proposal's digest: forged, or made for another
	// change, proposal or chain.
	ErrBadEndorsement = errors.New("identity: bad endorsement")
	// ErrProposalExpired is returned for a proposal endorsed or executed
	// after its deadline.
	ErrProposalExpired = errors.New("identity: proposal expired")
	// ErrLookup wraps an error of a Lookup: the chain state could not be
	// read, which says nothing about the member.
	ErrLookup = errors.New("identity: reading registered members")
	// ErrBadKey is returned for a key that cannot be used or decoded.
	ErrBadKey = errors.New("identity: bad key")
)
