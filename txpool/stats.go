package txpool

import (
	"errors"

	"github.com/accord-chain/accord/types"
)

// Reason classifies a rejected transaction in Stats.
type Reason uint8

// Rejection reasons, one per admission error.
const (
	ReasonTooLarge      Reason = iota // types.ErrTooLarge
	ReasonMalformed                   // types.ErrMalformed, ErrVersion, ErrNoSigner
	ReasonUnknownScheme               // types.ErrUnknownScheme
	ReasonWrongChain                  // types.ErrWrongChain
	ReasonExpired                     // types.ErrExpired
	ReasonBadSignature                // types.ErrBadSignature
	ReasonDuplicate                   // ErrDuplicate
	ReasonStaleNonce                  // ErrStaleNonce
	ReasonNonceGap                    // ErrNonceGap
	ReasonPoolFull                    // ErrPoolFull
	ReasonState                       // State could not give the sender's nonce
	ReasonClosed                      // ErrClosed
	ReasonPolicy                      // refused by the chain's Check
	NumReasons                        // the number of reasons, for arrays indexed by Reason
)

var reasonNames = [NumReasons]string{
	ReasonTooLarge:      "too_large",
	ReasonMalformed:     "malformed",
	ReasonUnknownScheme: "unknown_scheme",
	ReasonWrongChain:    "wrong_chain",
	ReasonExpired:       "expired",
	ReasonBadSignature:  "bad_signature",
	ReasonDuplicate:     "duplicate",
	ReasonStaleNonce:    "stale_nonce",
	ReasonNonceGap:      "nonce_gap",
	ReasonPoolFull:      "pool_full",
	ReasonState:         "state_error",
	ReasonClosed:        "closed",
	ReasonPolicy:        "policy",
}

// String is the reason's name in snake case, fit for a metric label.
func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Stats are the pool's counters since New.
type Stats struct {
	Admitted    uint64
	Rejected    [NumReasons]uint64 // indexed by Reason
	StateErrors uint64             // failed State reads, in Submit or Update
	Verified    uint64             // signatures checked
	CacheHits   uint64             // signatures found verified before
	Expired     uint64             // dropped from the pool on expiring before a block took them
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	v := p.verifier.Stats()
	s := Stats{
		Admitted:    p.admitted.Load(),
		StateErrors: p.stateErr.Load(),
		Expired:     p.expired.Load(),
		Verified:    v.Verified,
		CacheHits:   v.CacheHits,
	}
	for r := range s.Rejected {
		s.Rejected[r] = p.rejected[r].Load()
	}
	return s
}

// rejections counts a call's rejections, added to the pool's counters once.
type rejections [NumReasons]uint64

func (p *Pool) tally(r *rejections) {
	for i, n := range r {
		if n > 0 {
			p.rejected[i].Add(n)
		}
	}
}

func decodeReason(err error) Reason {
	switch {
	case errors.Is(err, types.ErrTooLarge):
		return ReasonTooLarge
	case errors.Is(err, types.ErrUnknownScheme):
		return ReasonUnknownScheme
	}
	return ReasonMalformed
}

func checkReason(err error) Reason {
	if errors.Is(err, types.ErrExpired) {
		return ReasonExpired
	}
	return ReasonWrongChain
}
