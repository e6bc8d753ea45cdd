// Package governance is the native contract that holds a permissioned
// chain's configuration, named "gov", and the execution Gate that enforces
// it.
//
// State, within the contract's namespace (see execution.ContractKey):
//
//	"config"             identity.Config (Encode): an accord.identity.v1.Config
//	"params"             Params: a Params message (absent: node defaults)
//	"nodes"              []Node sorted by id: a Nodes message, the validators
//	"next"               u64 big-endian: the next online proposal id (absent: 1)
//	"cert/" + hash       DER of a certificate registered on chain
//	"key/" + address     identity.Key of a key registered on chain (key mode)
//	"prop/" + u64 id     an online Proposal: a Proposal message
//	"applied/" + u64 id  present once the offline change with that id applied
//
// The messages are those of proto/accord/governance/v1 and
// proto/accord/identity/v1, encoded canonically; so are the calls'
// arguments, which govcall builds and decodes. Decoders refuse versions
// and fields they do not know.
//
// A chain whose genesis has no identity section has none of these: it is
// open, has no Gate and does not register this contract.
//
// Changes (Change) need endorsements (identity.Endorsement) that satisfy
// the policy "gov.<kind>" if the configuration sets one, else its
// governance policy. They arrive two ways. Offline: whoever collected the
// endorsements submits the change with them in one transaction ("submit"),
// under an id from OfflineIDBase up that was never applied before.
// Online: a member whose role the policy counts proposes the change with a
// deadline ("propose", ids 1, 2, ...); members vote by endorsing it
// ("vote"); the vote that satisfies the policy applies it; after the
// deadline it can neither be voted nor applied. Both ways an endorsement
// binds the chain id, the proposal id, its deadline and the change, so it
// cannot be replayed on another proposal or chain.
//
// Some actions need one organisation's admin and no approval: revoking one
// of its own certificates ("revoke"), registering a key in key mode
// ("register_key", "remove_key"). Registering a certificate
// ("register_cert") is open to its holder and its organisation's admins:
// it only lets transactions name the certificate by hash.
//
// Every change applies from the next block: the Gate judges a block's
// signers by the configuration of the block before it.
//
// The package reads and writes state only through an execution.Context
// (or, for queries, an execution.StateReader) and must stay deterministic.
package governance

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	govpb "github.com/accord-chain/accord/contracts/governance/pb"
	"github.com/accord-chain/accord/contracts/usercontract/usercall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Name is the contract's name in transactions.
const Name = govcall.Name

// Methods; govcall encodes their arguments.
const (
	MethodSubmit       = govcall.MethodSubmit
	MethodPropose      = govcall.MethodPropose
	MethodVote         = govcall.MethodVote
	MethodRevoke       = govcall.MethodRevoke
	MethodRegisterCert = govcall.MethodRegisterCert
	MethodRegisterKey  = govcall.MethodRegisterKey
	MethodRemoveKey    = govcall.MethodRemoveKey
)

// OfflineIDBase is the first id an offline change may use; online
// proposals are numbered from 1 below it, so the two never collide.
const OfflineIDBase = govcall.OfflineIDBase

// MaxProposalTTL is the longest a proposal may stay open: 30 days.
const MaxProposalTTL = govcall.MaxProposalTTL

// Proposal is an online proposal as stored (a Proposal message of
// proto/accord/governance/v1).
type Proposal struct {
	ID       uint64
	Change   []byte // Change.Encode
	Deadline uint64
	Proposer string // address
	Created  uint64 // block time
	// Votes holds the endorsements received (identity.EncodeEndorsements).
	Votes    []byte
	Executed uint64 // height at which it applied
}

func (p *Proposal) encode() []byte {
	return types.EncodeCanonical(&govpb.Proposal{Version: govcall.Version, Id: p.ID, Change: p.Change, Deadline: p.Deadline,
		Proposer: p.Proposer, Created: p.Created, Votes: p.Votes, Executed: p.Executed})
}

func decodeProposal(b []byte) (*Proposal, error) {
	var m govpb.Proposal
	if err := types.DecodeVersioned(b, &m, govcall.Version); err != nil {
		return nil, err
	}
	return &Proposal{ID: m.Id, Change: m.Change, Deadline: m.Deadline, Proposer: m.Proposer, Created: m.Created,
		Votes: m.Votes, Executed: m.Executed}, nil
}

// Status is "executed", "expired" (at block time now) or "open".
func (p *Proposal) Status(now uint64) string {
	switch {
	case p.Executed != 0:
		return "executed"
	case now > p.Deadline:
		return "expired"
	}
	return "open"
}

// Digest is what the proposal's endorsers sign.
func (p *Proposal) Digest(chainID string) *identity.Proposal {
	return &identity.Proposal{ChainID: chainID, ID: p.ID, Deadline: p.Deadline, Payload: p.Change}
}

// Contract is the governance contract of one chain.
type Contract struct {
	chainID string
	loader  *Loader
}

// New returns the contract for chain chainID; loader (shared with the
// Gate) turns the configuration in state into a registry.
func New(chainID string, loader *Loader) *Contract {
	return &Contract{chainID: chainID, loader: loader}
}

// Name returns "gov".
func (*Contract) Name() string { return Name }

// Call runs one method.
func (c *Contract) Call(ctx *execution.Context, method string, args []byte) error {
	switch method {
	case MethodSubmit:
		return c.submit(ctx, args)
	case MethodPropose:
		return c.propose(ctx, args)
	case MethodVote:
		return c.vote(ctx, args)
	case MethodRevoke:
		return c.revoke(ctx, args)
	case MethodRegisterCert:
		return c.registerCert(ctx, args)
	case MethodRegisterKey, MethodRemoveKey:
		return c.key(ctx, method, args)
	}
	return fmt.Errorf("%w: gov has no method %q (it has submit, propose, vote, revoke, register_cert, register_key, remove_key)",
		execution.ErrUnknownMethod, method)
}

// registry is the configuration as the block has it so far.
func (c *Contract) registry(ctx *execution.Context) (*identity.Registry, error) {
	return c.loader.load(ctxGetter{ctx})
}

// member is the sender as the Gate resolved it.
func member(ctx *execution.Context) (identity.Member, error) {
	m, ok := ctx.Signer().(identity.Member)
	if !ok {
		return identity.Member{}, fmt.Errorf("%w: the sender is not a resolved member of the consortium", ErrNotMember)
	}
	return m, nil
}

// policy is the policy change ch needs: the method policy named
// "gov.<kind>" (exactly; "gov.*" is about who may send gov transactions),
// else the governance policy.
func policy(reg *identity.Registry, ch *Change) identity.Policy {
	cfg := reg.Config()
	for _, m := range cfg.Methods {
		if m.Method == ch.PolicyName() {
			return m.Policy
		}
	}
	return cfg.Governance
}

func (c *Contract) submit(ctx *execution.Context, args []byte) error {
	var a govcall.SubmitArgs
	if err := govcall.DecodeArgs(args, &a); err != nil {
		return err
	}
	if a.ID < OfflineIDBase {
		return fmt.Errorf("%w: offline change id %d: offline ids start at %d (lower ones are online proposals)", ErrBadArgs, a.ID, uint64(OfflineIDBase))
	}
	ak := []byte(idKey(appliedPfx, a.ID))
	if v, err := ctx.Get(ak); err != nil {
		return err
	} else if v != nil {
		return fmt.Errorf("%w: change %d was applied before; endorse it again under a new id", ErrReplay, a.ID)
	}
	ch, err := govcall.DecodeChange(a.Change)
	if err != nil {
		return err
	}
	es, err := identity.DecodeEndorsements(a.Endorsements)
	if err != nil {
		return err
	}
	reg, err := c.registry(ctx)
	if err != nil {
		return err
	}
	p := &identity.Proposal{ChainID: c.chainID, ID: a.ID, Deadline: a.Deadline, Payload: a.Change}
	if err := reg.Endorsed(policy(reg, ch), p, es, ctx.Time()); err != nil {
		return fmt.Errorf("change %d (%s): %w", a.ID, ch.Kind, err)
	}
	if err := c.apply(ctx, ch); err != nil {
		return err
	}
	ctx.Set(ak, []byte{1})
	ctx.Emit("applied", attrs("id", strconv.FormatUint(a.ID, 10), "kind", ch.Kind)...)
	return nil
}

// apply applies ch to the configuration in state; a contract change goes
// to the user-contract registry instead.
func (c *Contract) apply(ctx *execution.Context, ch *Change) error {
	if ch.Kind == KindContract {
		return c.applyContract(ctx, ch.Contract)
	}
	s, err := readState(ctxGetter{ctx})
	if err != nil {
		return err
	}
	before := *s
	if err := s.Apply(ch); err != nil {
		return err
	}
	cfg, err := s.Config.Encode()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadChange, err)
	}
	ctx.Set([]byte(configKey), cfg)
	if s.Params != before.Params {
		ctx.Set([]byte(paramsKey), types.EncodeCanonical(s.Params.Message()))
	}
	if ch.Kind == KindAddNode || ch.Kind == KindRemoveNode || ch.Kind == KindRemoveOrg {
		ctx.Set([]byte(nodesKey), govcall.EncodeNodes(s.Nodes))
	}
	return nil
}

// applyContract hands an approved contract change to the registry, as a
// call from this contract's address: the registry takes lifecycle
// operations on a permissioned chain only that way.
func (c *Contract) applyContract(ctx *execution.Context, cc *govcall.ContractChange) error {
	var op []byte
	switch cc.Op {
	case usercall.MethodInstall, usercall.MethodUpgrade:
		h, err := hex.DecodeString(cc.CodeHash)
		if err != nil || len(h) != 32 {
			return fmt.Errorf("%w: code_hash %q", ErrBadChange, cc.CodeHash)
		}
		op = usercall.InstallArgs(cc.Name, [32]byte(h), []byte(cc.Args))
	default:
		op = usercall.NameArgs(cc.Name)
	}
	self := execution.ContractAddress(c.loader.Hash(), Name)
	_, _, failure, abort := ctx.CallContract(usercall.Name, usercall.MethodApply, usercall.EncodeFields([]byte(cc.Op), op), self, 0)
	if abort != nil {
		return abort
	}
	if failure != nil {
		return fmt.Errorf("contract %s %s: %w", cc.Op, cc.Name, failure)
	}
	return nil
}

func (c *Contract) propose(ctx *execution.Context, args []byte) error {
	var a govcall.ProposeArgs
	if err := govcall.DecodeArgs(args, &a); err != nil {
		return err
	}
	m, err := member(ctx)
	if err != nil {
		return err
	}
	ch, err := govcall.DecodeChange(a.Change)
	if err != nil {
		return err
	}
	reg, err := c.registry(ctx)
	if err != nil {
		return err
	}
	if pol := policy(reg, ch); !pol.Counts(m.Role) {
		return fmt.Errorf("%w: %s may not propose a %s change, whose policy %s counts other roles", identity.ErrWrongRole, &m, ch.Kind, pol)
	}
	now := ctx.Time()
	if a.Deadline <= now || a.Deadline-now > MaxProposalTTL {
		return fmt.Errorf("%w: deadline %d must be after the block time %d and at most 30 days after it", ErrBadArgs, a.Deadline, now)
	}
	// A change that cannot apply now is refused at once rather than voted on.
	s, err := readState(ctxGetter{ctx})
	if err != nil {
		return err
	}
	if err := s.Apply(ch); err != nil {
		return err
	}
	id, err := nextID(ctxGetter{ctx})
	if err != nil {
		return err
	}
	if id >= OfflineIDBase {
		return fmt.Errorf("%w: online proposal ids are exhausted", ErrBadArgs)
	}
	p := &Proposal{ID: id, Change: a.Change, Deadline: a.Deadline, Proposer: ctx.Sender().String(), Created: now}
	ctx.Set([]byte(idKey(propPfx, id)), p.encode())
	ctx.Set([]byte(nextKey), binary.BigEndian.AppendUint64(nil, id+1))
	ctx.Emit("proposed", attrs("id", strconv.FormatUint(id, 10), "kind", ch.Kind, "deadline", strconv.FormatUint(a.Deadline, 10))...)
	return nil
}

func (c *Contract) vote(ctx *execution.Context, args []byte) error {
	var a govcall.VoteArgs
	if err := govcall.DecodeArgs(args, &a); err != nil {
		return err
	}
	p, err := getProposal(ctxGetter{ctx}, a.ID)
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("%w: %d", ErrNoProposal, a.ID)
	}
	if p.Executed != 0 {
		return fmt.Errorf("%w: proposal %d was executed at height %d", ErrClosed, p.ID, p.Executed)
	}
	now := ctx.Time()
	ip := p.Digest(c.chainID)
	if err := ip.Open(now); err != nil {
		return err
	}
	fresh, err := identity.DecodeEndorsements(a.Endorsements)
	if err != nil {
		return err
	}
	if len(fresh) == 0 {
		return fmt.Errorf("%w: a vote carries at least one endorsement", ErrBadArgs)
	}
	var old []identity.Endorsement
	if len(p.Votes) > 0 {
		if old, err = identity.DecodeEndorsements(p.Votes); err != nil {
			return fmt.Errorf("%w: votes of proposal %d: %v", execution.ErrCorrupt, p.ID, err)
		}
	}
	ch, err := govcall.DecodeChange(p.Change)
	if err != nil {
		return fmt.Errorf("%w: change of proposal %d: %v", execution.ErrCorrupt, p.ID, err)
	}
	reg, err := c.registry(ctx)
	if err != nil {
		return err
	}
	pol := policy(reg, ch)
	// Who voted before, as the configuration has them now: a voter since
	// revoked or removed no longer counts.
	var voters []types.Address
	var valid []identity.Endorsement
	for _, e := range old {
		if m, err := reg.Endorser(e, ip, now); err == nil && pol.Counts(m.Role) {
			voters = append(voters, m.Address)
			valid = append(valid, e)
		}
	}
	var orgs []string
	for i, e := range fresh {
		m, err := reg.Endorser(e, ip, now)
		if err != nil {
			return fmt.Errorf("vote %d on proposal %d: %w", i, p.ID, err)
		}
		if !pol.Counts(m.Role) {
			return fmt.Errorf("vote %d on proposal %d: %w: %s may not endorse under %s", i, p.ID, identity.ErrWrongRole, &m, pol)
		}
		if slices.Contains(voters, m.Address) {
			return fmt.Errorf("%w: %s on proposal %d", ErrDuplicate, &m, p.ID)
		}
		voters = append(voters, m.Address)
		valid = append(valid, e)
		old = append(old, e)
		orgs = append(orgs, m.Org)
	}
	p.Votes = identity.EncodeEndorsements(old)
	ctx.Emit("voted", attrs("id", strconv.FormatUint(p.ID, 10), "orgs", fmt.Sprint(orgs), "votes", strconv.Itoa(len(valid)))...)
	if err := reg.Endorsed(pol, ip, valid, now); err == nil {
		if err := c.apply(ctx, ch); err != nil {
			return fmt.Errorf("proposal %d has its endorsements but cannot apply: %w", p.ID, err)
		}
		p.Executed = ctx.Height()
		ctx.Emit("executed", attrs("id", strconv.FormatUint(p.ID, 10), "kind", ch.Kind)...)
	} else if !errors.Is(err, identity.ErrPolicy) {
		return err
	}
	ctx.Set([]byte(idKey(propPfx, p.ID)), p.encode())
	return nil
}

func (c *Contract) revoke(ctx *execution.Context, args []byte) error {
	var a govcall.RevokeArgs
	if err := govcall.DecodeArgs(args, &a); err != nil {
		return err
	}
	m, err := member(ctx)
	if err != nil {
		return err
	}
	if err := identity.AdminOf(m, a.Org); err != nil {
		return fmt.Errorf("%w: %w (revoking another organisation's certificate is a governance change)", ErrNotAdmin, err)
	}
	return c.apply(ctx, &Change{Kind: KindRevoke, Org: a.Org, Serial: a.Serial})
}

func (c *Contract) registerCert(ctx *execution.Context, args []byte) error {
	var a govcall.RegisterCertArgs
	if err := govcall.DecodeArgs(args, &a); err != nil {
		return err
	}
	m, err := member(ctx)
	if err != nil {
		return err
	}
	reg, err := c.registry(ctx)
	if err != nil {
		return err
	}
	if reg.Config().Mode != identity.CertMode {
		return fmt.Errorf("%w: this chain registers keys, not certificates", identity.ErrWrongMode)
	}
	cm, err := reg.VerifyCert(a.Cert, ctx.Time())
	if err != nil {
		return err
	}
	if cm.Address != m.Address && identity.AdminOf(m, cm.Org) != nil {
		return fmt.Errorf("%w: %s may register only its own certificate or, as an admin, its organisation's", ErrNotAdmin, &m)
	}
	k := []byte(certPfx + string(cm.CertHash[:]))
	if v, err := ctx.Get(k); err != nil {
		return err
	} else if v != nil {
		return fmt.Errorf("%w: certificate %s", ErrRegistered, cm.CertHash)
	}
	ctx.Set(k, a.Cert)
	ctx.Emit("registered", attrs("cert_hash", cm.CertHash.String(), "org", cm.Org, "serial", cm.Serial)...)
	return nil
}

func (c *Contract) key(ctx *execution.Context, method string, args []byte) error {
	var a govcall.KeyArgs
	if err := govcall.DecodeArgs(args, &a); err != nil {
		return err
	}
	m, err := member(ctx)
	if err != nil {
		return err
	}
	s, err := crypto.ParseScheme(a.Scheme)
	if err != nil {
		return fmt.Errorf("%w: scheme: %v", ErrBadArgs, err)
	}
	pub, err := hex.DecodeString(a.PublicKey)
	if err != nil || len(pub) != s.PublicKeySize() {
		return fmt.Errorf("%w: public_key must be %d bytes of hex", ErrBadArgs, s.PublicKeySize())
	}
	addr := types.AddressOf(s, pub)
	k := []byte(keyPfx + string(addr[:]))
	reg, err := c.registry(ctx)
	if err != nil {
		return err
	}
	if reg.Config().Mode != identity.KeyMode {
		return fmt.Errorf("%w: this chain names members by certificate; issue one with `accord cert issue`", identity.ErrWrongMode)
	}
	if method == MethodRemoveKey {
		old, err := lookup{ctxGetter{ctx}}.Key(addr)
		if err != nil {
			return err
		}
		if old == nil {
			return fmt.Errorf("%w: key of account %s is not registered", identity.ErrUnknownMember, addr)
		}
		if err := identity.AdminOf(m, old.Org); err != nil {
			return fmt.Errorf("%w: %w", ErrNotAdmin, err)
		}
		ctx.Delete(k)
		ctx.Emit("key_removed", attrs("address", addr.String(), "org", old.Org)...)
		return nil
	}
	role, err := identity.ParseRole(a.Role)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadArgs, err)
	}
	key := identity.Key{Org: a.Org, Role: role, Name: a.Name, Scheme: s, PublicKey: pub}
	if err := identity.AdminOf(m, a.Org); err != nil {
		return fmt.Errorf("%w: %w", ErrNotAdmin, err)
	}
	if v, err := ctx.Get(k); err != nil {
		return err
	} else if v != nil {
		return fmt.Errorf("%w: key of account %s", ErrRegistered, addr)
	}
	if _, err := reg.WithLookup(nil).RegisterKey(key); err != nil {
		return err
	}
	ctx.Set(k, key.Encode())
	ctx.Emit("key_registered", attrs("address", addr.String(), "org", a.Org, "role", role.String())...)
	return nil
}

func attrs(kv ...string) []*pb.Attribute {
	out := make([]*pb.Attribute, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &pb.Attribute{Key: kv[i], Value: kv[i+1]})
	}
	return out
}
