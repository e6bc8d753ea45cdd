package identity

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// Proposal is a change that needs endorsements. Its digest binds the chain,
// the proposal id, the deadline and the payload, so an endorsement of one
// change cannot be used for another change, another proposal or another
// chain.
type Proposal struct {
	ChainID string
	// ID identifies the proposal on its chain: the proposal number of an
	// online vote, or a nonce chosen by whoever collects endorsements
	// offline. The caller must refuse an ID it has applied before, which
	// is what stops an endorsed change from being replayed.
	ID uint64
	// Deadline is the last block time (unix ms) at which the proposal may
	// be endorsed or applied; 0 means none.
	Deadline uint64
	// Payload is the change, as the caller encodes it.
	Payload []byte
}

// endorseDomain separates endorsement digests from every other signed
// message of the chain.
const endorseDomain = "accord/endorsement/v1\x00"

// Digest is the message endorsers sign: H(domain || len(chain id) || chain
// id || id || deadline || H(payload)) with the chain hash h.
func (p *Proposal) Digest(h crypto.Hash) types.Hash {
	var b []byte
	b = append(b, endorseDomain...)
	b = binary.AppendUvarint(b, uint64(len(p.ChainID)))
	b = append(b, p.ChainID...)
	b = binary.BigEndian.AppendUint64(b, p.ID)
	b = binary.BigEndian.AppendUint64(b, p.Deadline)
	ph := h.Sum(p.Payload)
	b = append(b, ph[:]...)
	return types.Hash(h.Sum(b))
}

// Open checks that the proposal's deadline has not passed at block time at.
func (p *Proposal) Open(at uint64) error {
	if p.Deadline != 0 && at > p.Deadline {
		return fmt.Errorf("%w: proposal %d closed at %d, block time is %d (unix ms)", ErrProposalExpired, p.ID, p.Deadline, at)
	}
	return nil
}

// Endorsement is one member's signature of a proposal's digest.
type Endorsement struct {
	Signer    Ref
	Signature []byte
}

// Endorse signs p's digest with k, naming the signer by ref.
func Endorse(k crypto.PrivateKey, ref Ref, p *Proposal, h crypto.Hash) (Endorsement, error) {
	d := p.Digest(h)
	sig, err := k.Sign(d[:])
	if err != nil {
		return Endorsement{}, fmt.Errorf("identity: endorse proposal %d: %w", p.ID, err)
	}
	return Endorsement{Signer: ref, Signature: sig}, nil
}

// Endorser verifies one endorsement of p at block time at and returns its
// signer: a valid member whose signature of p's digest verifies.
func (r *Registry) Endorser(e Endorsement, p *Proposal, at uint64) (Member, error) {
	d := p.Digest(r.h)
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, err := r.endorser(e, &d, at)
	if err != nil {
		return Member{}, err
	}
	return *m, nil
}

func (r *Registry) endorser(e Endorsement, d *types.Hash, at uint64) (*Member, error) {
	m, err := r.resolve(e.Signer, at)
	if err != nil {
		return nil, fmt.Errorf("endorser: %w", err)
	}
	if err := m.Verify(d[:], e.Signature); err != nil {
		return nil, fmt.Errorf("%w: signature of %s does not verify for this proposal (forged, or made for another change or chain): %v",
			ErrBadEndorsement, m, err)
	}
	return m, nil
}

// Endorsed checks that es endorse p well enough for policy at block time
// at: the proposal is open, every endorsement is valid and from a role
// the policy counts, and the endorsing organisations, each counted once,
// satisfy the policy. Any bad endorsement fails the whole check, so a
// caller applies a change only when Endorsed returns nil.
func (r *Registry) Endorsed(policy Policy, p *Proposal, es []Endorsement, at uint64) error {
	if err := p.Open(at); err != nil {
		return err
	}
	d := p.Digest(r.h)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if err := policy.validate(r.ids); err != nil {
		return err
	}
	var orgs []string
	for i, e := range es {
		m, err := r.endorser(e, &d, at)
		if err != nil {
			return fmt.Errorf("endorsement %d: %w", i, err)
		}
		if !policy.Counts(m.Role) {
			return fmt.Errorf("endorsement %d: %w: %s may not endorse under %s", i, ErrWrongRole, m, policy)
		}
		if !slices.Contains(orgs, m.Org) {
			orgs = append(orgs, m.Org)
		}
	}
	return policy.Check(orgs, r.ids)
}

// ChangeConfig checks that es endorse p under the current governance
// policy, and that p's payload is a valid configuration encoding keeping
// the mode; it returns the decoded configuration for the caller to apply
// with SetConfig.
func (r *Registry) ChangeConfig(p *Proposal, es []Endorsement, at uint64) (Config, error) {
	r.mu.RLock()
	gov, mode := r.cfg.Governance, r.cfg.Mode
	r.mu.RUnlock()
	if err := r.Endorsed(gov, p, es, at); err != nil {
		return Config{}, err
	}
	cfg, err := DecodeConfig(p.Payload)
	if err != nil {
		return Config{}, err
	}
	if cfg.Mode != mode {
		return Config{}, fmt.Errorf("%w: identity mode is fixed at genesis (%s), cannot become %s", ErrBadConfig, mode, cfg.Mode)
	}
	return cfg, nil
}
