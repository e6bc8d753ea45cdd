package governance

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	govpb "github.com/accord-chain/accord/contracts/governance/pb"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/types"
)

// Relative keys within the contract's namespace.
const (
	configKey  = "config"   // identity.Config.Encode
	paramsKey  = "params"   // a Params message
	nodesKey   = "nodes"    // a Nodes message, sorted by ID
	nextKey    = "next"     // u64 big-endian: the next online proposal id; absent means 1
	certPfx    = "cert/"    // + certificate hash: the DER of a registered certificate
	keyPfx     = "key/"     // + 20-byte address: identity.Key.Encode of a registered key
	propPfx    = "prop/"    // + u64 id: an online Proposal message
	appliedPfx = "applied/" // + u64 id: present once an offline change with that id applied
)

// Genesis returns the contract's initial state: the identity
// configuration, parameters, validators and, in key mode, the members'
// registered keys (at least one admin, or nobody could register anyone).
func Genesis(s State, keys []identity.Key) ([]execution.Write, error) {
	s.Config.EnsureDefaults()
	if err := s.Params.Validate(); err != nil {
		return nil, fmt.Errorf("governance genesis: %w", err)
	}
	cfg, err := s.Config.Encode()
	if err != nil {
		return nil, fmt.Errorf("governance genesis: %w", err)
	}
	ws := []execution.Write{{Key: key(configKey), Value: cfg}}
	if s.Params != (Params{}) {
		ws = append(ws, execution.Write{Key: key(paramsKey), Value: types.EncodeCanonical(s.Params.Message())})
	}
	if len(s.Nodes) > 0 {
		ns := slices.Clone(s.Nodes)
		slices.SortFunc(ns, func(a, b Node) int { return strings.Compare(a.ID, b.ID) })
		for i, n := range ns {
			if !govcall.ValidNodeID(n.ID) || (i > 0 && ns[i-1].ID == n.ID) {
				return nil, fmt.Errorf("governance genesis: node id %q is invalid or listed twice", n.ID)
			}
		}
		ws = append(ws, execution.Write{Key: key(nodesKey), Value: govcall.EncodeNodes(ns)})
	}
	if len(keys) > 0 {
		reg, err := identity.NewRegistry(s.Config, crypto.SHA256, nil)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			m, err := reg.RegisterKey(k)
			if err != nil {
				return nil, fmt.Errorf("governance genesis: key %q of %s: %w", k.Name, k.Org, err)
			}
			ws = append(ws, execution.Write{Key: key(keyPfx + string(m.Address[:])), Value: k.Encode()})
		}
	}
	slices.SortFunc(ws, func(a, b execution.Write) int { return bytes.Compare(a.Key, b.Key) })
	return ws, nil
}

func key(rel string) []byte { return execution.ContractKey(Name, []byte(rel)) }

func idKey(pfx string, id uint64) string {
	return pfx + string(binary.BigEndian.AppendUint64(nil, id))
}

// decodeParams decodes the parameters in state.
func decodeParams(b []byte) (Params, error) {
	var m govpb.Params
	if err := types.DecodeVersioned(b, &m, govcall.Version); err != nil {
		return Params{}, fmt.Errorf("%w: params: %w", execution.ErrCorrupt, err)
	}
	return govcall.ParamsOf(&m)
}

// getter is what reads state: an execution.Context inside a call (so its
// reads are recorded) or a StateReader outside.
type getter interface {
	Get(key []byte) ([]byte, error)
}

// ctxGetter reads relative keys through a Context.
type ctxGetter struct{ ctx *execution.Context }

func (g ctxGetter) Get(rel []byte) ([]byte, error) { return g.ctx.Get(rel) }

// stateGetter reads relative keys from a StateReader.
type stateGetter struct{ s execution.StateReader }

func (g stateGetter) Get(rel []byte) ([]byte, error) {
	return g.s.Get(execution.ContractKey(Name, rel))
}

// lookup finds registered members through a getter.
type lookup struct{ g getter }

func (l lookup) Cert(h types.Hash) ([]byte, error) { return l.g.Get([]byte(certPfx + string(h[:]))) }

func (l lookup) Key(a types.Address) (*identity.Key, error) {
	v, err := l.g.Get([]byte(keyPfx + string(a[:])))
	if err != nil || v == nil {
		return nil, err
	}
	k, err := identity.DecodeKey(v)
	if err != nil {
		return nil, fmt.Errorf("%w: registered key of %s: %v", execution.ErrCorrupt, a, err)
	}
	return &k, nil
}

// Loader turns the configuration in state into an identity.Registry,
// parsing it again only when its bytes change, so that admission and
// every block can ask for it cheaply. It is safe for concurrent use.
type Loader struct {
	h     crypto.Hash
	cache *identity.Cache

	mu   sync.Mutex
	last []byte
	reg  *identity.Registry
}

// NewLoader returns a loader for a chain hashing with h. Verified member
// certificates are cached across configurations (identity.Cache).
func NewLoader(h crypto.Hash) *Loader {
	return &Loader{h: h, cache: identity.NewCache(16 << 10)}
}

// Hash is the chain hash the loader's registries use.
func (l *Loader) Hash() crypto.Hash { return l.h }

// load returns the registry of the configuration read through g, which
// resolves registered members through g too.
func (l *Loader) load(g getter) (*identity.Registry, error) {
	b, err := g.Get([]byte(configKey))
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("%w: no configuration in state", ErrNotIdentity)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reg == nil || !bytes.Equal(b, l.last) {
		cfg, err := identity.DecodeConfig(b)
		if err != nil {
			return nil, fmt.Errorf("%w: identity configuration: %w", execution.ErrCorrupt, err)
		}
		reg, err := identity.NewRegistry(cfg, l.h, l.cache)
		if err != nil {
			return nil, fmt.Errorf("%w: identity configuration: %w", execution.ErrCorrupt, err)
		}
		l.last, l.reg = bytes.Clone(b), reg
	}
	return l.reg.WithLookup(lookup{g}), nil
}

// Registry returns the identity registry of state: its configuration,
// resolving registered members in state.
func (l *Loader) Registry(state execution.StateReader) (*identity.Registry, error) {
	return l.load(stateGetter{state})
}

// ReadState reads the configuration, parameters and validators.
func ReadState(state execution.StateReader) (*State, error) {
	return readState(stateGetter{state})
}

func readState(g getter) (*State, error) {
	b, err := g.Get([]byte(configKey))
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, ErrNotIdentity
	}
	s := &State{}
	if s.Config, err = identity.DecodeConfig(b); err != nil {
		return nil, fmt.Errorf("%w: identity configuration: %w", execution.ErrCorrupt, err)
	}
	if b, err = g.Get([]byte(paramsKey)); err != nil {
		return nil, err
	}
	if b != nil {
		if s.Params, err = decodeParams(b); err != nil {
			return nil, err
		}
	}
	if b, err = g.Get([]byte(nodesKey)); err != nil {
		return nil, err
	}
	if b != nil {
		if s.Nodes, err = govcall.DecodeNodes(b); err != nil {
			return nil, fmt.Errorf("%w: nodes: %w", execution.ErrCorrupt, err)
		}
	}
	return s, nil
}

// ReadParams reads the chain parameters alone: zero when governance never
// set them.
func ReadParams(state execution.StateReader) (Params, error) {
	b, err := stateGetter{state}.Get([]byte(paramsKey))
	if err != nil || b == nil {
		return Params{}, err
	}
	return decodeParams(b)
}

// Enabled reports whether state holds an identity configuration: a
// permissioned chain.
func Enabled(state execution.StateReader) (bool, error) {
	b, err := state.Get(key(configKey))
	return b != nil, err
}

// GetProposal reads online proposal id; nil when there is none.
func GetProposal(state execution.StateReader, id uint64) (*Proposal, error) {
	return getProposal(stateGetter{state}, id)
}

func getProposal(g getter, id uint64) (*Proposal, error) {
	b, err := g.Get([]byte(idKey(propPfx, id)))
	if err != nil || b == nil {
		return nil, err
	}
	p, err := decodeProposal(b)
	if err != nil {
		return nil, fmt.Errorf("%w: proposal %d: %w", execution.ErrCorrupt, id, err)
	}
	return p, nil
}

// NextProposal is the id the next online proposal will get.
func NextProposal(state execution.StateReader) (uint64, error) {
	return nextID(stateGetter{state})
}

func nextID(g getter) (uint64, error) {
	b, err := g.Get([]byte(nextKey))
	if err != nil {
		return 0, err
	}
	switch len(b) {
	case 0:
		return 1, nil
	case 8:
		return binary.BigEndian.Uint64(b), nil
	}
	return 0, fmt.Errorf("%w: next proposal id is %d bytes", execution.ErrCorrupt, len(b))
}

// RegisteredCert returns the certificate registered with hash h, or nil.
func RegisteredCert(state execution.StateReader, h types.Hash) ([]byte, error) {
	return lookup{stateGetter{state}}.Cert(h)
}
