// Package usercontract is the native contract that installs and runs user
// contracts (WebAssembly, see vm/wasm), named "contracts". It keeps the
// registry of installed contracts and their code, and implements
// execution.UserContracts: a transaction naming an installed contract runs
// it through here.
//
// State, within the contract's namespace:
//
//	"meta/" + name                 Meta: status, version, code hash
//	"size/" + hash                 u64 big-endian: the size of uploaded code
//	"chunk/" + hash + u64 offset   a piece of the code starting at offset
//	"params"                       Params (absent: DefaultParams)
//
// A user contract named n keeps its own state under "c/" + n + "/", which
// only its calls reach. Its address (execution.ContractAddress) can hold
// native tokens.
//
// Who decides: on an open chain the token issuer's key (install, upgrade,
// freeze, unfreeze, revoke, set_params; upload too). On a permissioned
// chain (New with governance) these arrive from the governance contract
// ("apply", as a nested call), after a change pinning the code hash won its
// policy; any admin may upload code.
package usercontract

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/contracts/usercontract/usercall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
	"github.com/accord-chain/accord/vm/wasm"
)

// Name is the contract's name in transactions.
const Name = usercall.Name

// Methods; usercall encodes their arguments.
const (
	MethodUpload    = usercall.MethodUpload
	MethodInstall   = usercall.MethodInstall
	MethodUpgrade   = usercall.MethodUpgrade
	MethodFreeze    = usercall.MethodFreeze
	MethodUnfreeze  = usercall.MethodUnfreeze
	MethodRevoke    = usercall.MethodRevoke
	MethodSetParams = usercall.MethodSetParams
	// MethodApply is how governance hands over an approved change: fields
	// are the operation's method name and its own encoded fields.
	MethodApply = usercall.MethodApply
)

// Exports a contract may have that the registry calls: InitMethod at
// install and UpgradeMethod at upgrade, when present.
const (
	InitMethod    = "init"
	UpgradeMethod = "upgrade"
)

// ChunkSize is the most code one upload carries.
const ChunkSize = usercall.ChunkSize

// MaxCodeSize bounds uploaded code (wasm.Params.MaxCodeSize's default).
const MaxCodeSize = 8 << 20

var (
	// ErrNotAllowed refuses a lifecycle call from someone who may not make it.
	ErrNotAllowed = errors.New("not allowed")
	// ErrNotInstalled refuses a call to a name with no contract.
	ErrNotInstalled = errors.New("no such contract installed")
	// ErrFrozen refuses calls to a frozen contract.
	ErrFrozen = errors.New("contract is frozen; its governance must unfreeze it")
	// ErrRevoked refuses calls to a revoked contract, for good.
	ErrRevoked = errors.New("contract is revoked")
	// ErrExists refuses installing a name that is taken.
	ErrExists = errors.New("a contract of that name exists; upgrade it instead")
	// ErrCode refuses code that is missing, incomplete or not a contract.
	ErrCode = errors.New("contract code refused")
	// ErrGasLimit refuses a transaction's gas limit above the chain's.
	ErrGasLimit = errors.New("gas limit above the chain's maximum")
)

// Reserved names no user contract may take: native contracts and this.
var reserved = []string{Name, "token", "gov"}

// Config says how the runner runs.
type Config struct {
	// Hash is the chain's hash (addresses).
	Hash crypto.Hash
	// Governance is the governance contract's name on a permissioned chain,
	// whose nested "apply" calls decide; empty on an open chain, where the
	// token issuer decides.
	Governance string
	// Loader reads the identity registry for policy checks; nil on an open
	// chain.
	Loader interface {
		Registry(execution.StateReader) (*identity.Registry, error)
	}
	// CacheDir keeps compiled code on disk ("" : none).
	CacheDir string
	// Engine is wasm.Compiler (the node) or wasm.Interpreter (tests).
	Engine wasm.Engine
}

// Contract is the registry and runner. It is safe for concurrent use.
type Contract struct {
	cfg Config

	mu       sync.Mutex
	runtimes map[string]*wasm.Runtime  // by Params.Encode
	loaded   map[string]*wasm.Contract // by Params.Encode + code hash
}

// New returns the contract.
func New(cfg Config) *Contract {
	return &Contract{cfg: cfg, runtimes: map[string]*wasm.Runtime{}, loaded: map[string]*wasm.Contract{}}
}

// Name implements execution.Contract.
func (*Contract) Name() string { return Name }

// Close releases every compiled contract.
func (c *Contract) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rt := range c.runtimes {
		rt.Close(context.Background())
	}
	c.runtimes, c.loaded = map[string]*wasm.Runtime{}, map[string]*wasm.Contract{}
}

// MetaKey, ParamsKey: full state keys.
func MetaKey(name string) []byte { return execution.ContractKey(Name, []byte("meta/"+name)) }

// ParamsKey is the full state key of the parameters.
func ParamsKey() []byte { return execution.ContractKey(Name, []byte("params")) }

func sizeKey(h [32]byte) []byte { return []byte("size/" + string(h[:])) }

func chunkKey(h [32]byte, off uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("chunk/"+string(h[:])), off)
}

// reader reads full state keys through a Context, recording the reads.
type reader struct{ ctx *execution.Context }

func (r reader) Get(k []byte) ([]byte, error) { return r.ctx.GetFull(k) }

// ReadMeta reads a contract's metadata; ok is false when none is installed.
func ReadMeta(state execution.StateReader, name string) (m Meta, ok bool, err error) {
	b, err := state.Get(MetaKey(name))
	if err != nil || b == nil {
		return Meta{}, false, err
	}
	m, err = DecodeMeta(b)
	if err != nil {
		return Meta{}, false, fmt.Errorf("%w: contract %s: %w", execution.ErrCorrupt, name, err)
	}
	return m, true, nil
}

// params reads the chain's parameters: governance's on a permissioned
// chain, the registry's own on an open one.
func (c *Contract) params(state execution.StateReader) (Params, error) {
	if c.cfg.Governance == "" {
		return ReadParams(state)
	}
	g, err := governance.ReadParams(state)
	if err != nil {
		return Params{}, err
	}
	p := paramsOfGov(g)
	if err := p.Validate(); err != nil {
		return Params{}, fmt.Errorf("%w: user-contract parameters: %w", execution.ErrCorrupt, err)
	}
	return p, nil
}

// ReadParams reads the parameters an open chain's issuer set in the
// registry (DefaultParams if none).
func ReadParams(state execution.StateReader) (Params, error) {
	b, err := state.Get(ParamsKey())
	if err != nil || b == nil {
		return DefaultParams(), err
	}
	p, err := DecodeParams(b)
	if err != nil {
		return Params{}, fmt.Errorf("%w: user-contract parameters: %w", execution.ErrCorrupt, err)
	}
	return p, nil
}

// Call implements execution.Contract: the registry's own methods.
func (c *Contract) Call(ctx *execution.Context, method string, args []byte) error {
	if method == MethodUpload {
		if err := c.mayUpload(ctx); err != nil {
			return err
		}
		return upload(ctx, args)
	}
	if method == MethodApply {
		if c.cfg.Governance == "" || ctx.Depth() == 0 || ctx.Caller() != execution.ContractAddress(c.cfg.Hash, c.cfg.Governance) {
			return fmt.Errorf("%w: apply is the governance contract's", ErrNotAllowed)
		}
		f, err := DecodeFields(args, 2)
		if err != nil {
			return err
		}
		return c.lifecycle(ctx, string(f[0]), f[1])
	}
	if c.cfg.Governance != "" {
		return fmt.Errorf("%w: on a permissioned chain %s is a governance change (accord contract %s ... proposes it)", ErrNotAllowed, method, method)
	}
	if err := c.isIssuer(ctx); err != nil {
		return err
	}
	return c.lifecycle(ctx, method, args)
}

func (c *Contract) isIssuer(ctx *execution.Context) error {
	issuer, ok, err := token.Issuer(reader{ctx})
	if err != nil {
		return err
	}
	if !ok || ctx.Sender() != issuer {
		return fmt.Errorf("%w: on an open chain only the token issuer manages contracts", ErrNotAllowed)
	}
	return nil
}

func (c *Contract) mayUpload(ctx *execution.Context) error {
	if c.cfg.Governance == "" {
		return c.isIssuer(ctx)
	}
	if m, ok := ctx.Signer().(identity.Member); ok && m.Role == identity.Admin {
		return nil
	}
	return fmt.Errorf("%w: only an organisation's admin uploads contract code", ErrNotAllowed)
}

// Upload, InstallArgs and NameArgs build the registry's arguments.
var (
	Upload      = usercall.Upload
	InstallArgs = usercall.InstallArgs
	NameArgs    = usercall.NameArgs
)

func upload(ctx *execution.Context, args []byte) error {
	f, err := DecodeFields(args, 4)
	if err != nil {
		return err
	}
	if len(f[0]) != 32 || len(f[1]) != 8 || len(f[2]) != 8 || len(f[3]) == 0 || len(f[3]) > ChunkSize {
		return fmt.Errorf("%w: upload wants a 32-byte hash, 8-byte offset and size, and 1 to %d bytes of code", ErrBadEncoding, ChunkSize)
	}
	h := [32]byte(f[0])
	off, total := binary.BigEndian.Uint64(f[1]), binary.BigEndian.Uint64(f[2])
	if total > MaxCodeSize || off%ChunkSize != 0 || off+uint64(len(f[3])) > total {
		return fmt.Errorf("%w: a chunk at %d of %d bytes in code of %d bytes (at most %d, chunks of %d)", ErrBadEncoding, off, len(f[3]), total, MaxCodeSize, ChunkSize)
	}
	old, err := ctx.Get(sizeKey(h))
	if err != nil {
		return err
	}
	if old != nil && binary.BigEndian.Uint64(old) != total {
		return fmt.Errorf("%w: code %x was uploaded with size %d, not %d", ErrCode, h[:8], binary.BigEndian.Uint64(old), total)
	}
	ctx.Set(sizeKey(h), binary.BigEndian.AppendUint64(nil, total))
	ctx.Set(chunkKey(h, off), f[3])
	return nil
}

// code assembles uploaded code and checks its hash.
func code(get func([]byte) ([]byte, error), h [32]byte) ([]byte, error) {
	sz, err := get(sizeKey(h))
	if err != nil {
		return nil, err
	}
	if len(sz) != 8 {
		return nil, fmt.Errorf("%w: no code with hash %x was uploaded", ErrCode, h)
	}
	total := binary.BigEndian.Uint64(sz)
	out := make([]byte, 0, total)
	for off := uint64(0); off < total; off += ChunkSize {
		b, err := get(chunkKey(h, off))
		if err != nil {
			return nil, err
		}
		if b == nil {
			return nil, fmt.Errorf("%w: code %x misses the chunk at %d; upload it", ErrCode, h[:8], off)
		}
		out = append(out, b...)
	}
	if uint64(len(out)) != total || crypto.SHA256.Sum(out) != h {
		return nil, fmt.Errorf("%w: uploaded code does not match hash %x", ErrCode, h[:8])
	}
	return out, nil
}

// ValidName reports why name cannot be a user contract's name.
func ValidName(name string) error {
	if len(name) == 0 || len(name) > types.MaxNameLen || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("%w: contract name %q must be 1 to %d bytes without '/'", ErrNotAllowed, name, types.MaxNameLen)
	}
	for _, r := range reserved {
		if name == r {
			return fmt.Errorf("%w: %q is a native contract's name", ErrNotAllowed, name)
		}
	}
	return nil
}

// lifecycle runs an authorised install, upgrade, freeze, unfreeze, revoke
// or set_params.
func (c *Contract) lifecycle(ctx *execution.Context, method string, args []byte) error {
	if method == MethodSetParams {
		p, err := DecodeParams(args)
		if err != nil {
			return err
		}
		ctx.Set([]byte("params"), p.Encode())
		ctx.Emit("params_set")
		return nil
	}
	nf := 1
	if method == MethodInstall || method == MethodUpgrade {
		nf = 3
	}
	f, err := DecodeFields(args, nf)
	if err != nil {
		return err
	}
	name := string(f[0])
	if err := ValidName(name); err != nil {
		return err
	}
	m, exists, err := ReadMeta(reader{ctx}, name)
	if err != nil {
		return err
	}
	switch method {
	case MethodInstall, MethodUpgrade:
		if len(f[1]) != 32 {
			return fmt.Errorf("%w: a code hash is 32 bytes", ErrBadEncoding)
		}
		h := [32]byte(f[1])
		switch {
		case method == MethodInstall && exists:
			return fmt.Errorf("%w: %s", ErrExists, name)
		case method == MethodUpgrade && !exists:
			return fmt.Errorf("%w: %s", ErrNotInstalled, name)
		case method == MethodUpgrade && m.Status == Revoked:
			return fmt.Errorf("%w: %s", ErrRevoked, name)
		}
		wc, err := c.load(ctx, h, name)
		if err != nil {
			return err
		}
		status := Active
		if method == MethodUpgrade {
			status = m.Status // an upgrade of a frozen contract stays frozen
		}
		m = Meta{Status: status, Version: m.Version + 1, Code: h}
		ctx.Set([]byte("meta/"+name), m.Encode())
		hook := InitMethod
		if method == MethodUpgrade {
			hook = UpgradeMethod
		}
		if has(wc.Methods(), hook) {
			p, err := c.params(reader{ctx})
			if err != nil {
				return err
			}
			gas := ctx.GasLimit()
			if gas == 0 || gas > p.TxGasMax {
				gas = p.TxGasDefault
			}
			_, used, failure, abort := ctx.CallContract(name, hook, f[2], ctx.Sender(), gas)
			ctx.SetGasUsed(used)
			if abort != nil {
				return abort
			} else if failure != nil {
				return fmt.Errorf("%s %s: its %s failed: %w", method, name, hook, failure)
			}
		}
		ctx.Emit(method, attr("name", name), attr("code_hash", hex.EncodeToString(h[:])), attr("version", fmt.Sprint(m.Version)))
		return nil
	case MethodFreeze, MethodUnfreeze, MethodRevoke:
		if !exists {
			return fmt.Errorf("%w: %s", ErrNotInstalled, name)
		}
		if m.Status == Revoked {
			return fmt.Errorf("%w: %s, for good", ErrRevoked, name)
		}
		m.Status = map[string]Status{MethodFreeze: Frozen, MethodUnfreeze: Active, MethodRevoke: Revoked}[method]
		ctx.Set([]byte("meta/"+name), m.Encode())
		ctx.Emit(method, attr("name", name))
		return nil
	}
	return fmt.Errorf("%w %q", execution.ErrUnknownMethod, method)
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func attr(k, v string) *pb.Attribute { return &pb.Attribute{Key: k, Value: v} }

// load returns the compiled contract of code hash h under the chain's
// current parameters, assembling and installing it on first use.
func (c *Contract) load(ctx *execution.Context, h [32]byte, name string) (*wasm.Contract, error) {
	p, err := c.params(reader{ctx})
	if err != nil {
		return nil, err
	}
	return c.loadWith(p, h, name, func(k []byte) ([]byte, error) { return ctx.GetFull(execution.ContractKey(Name, k)) })
}

// loadWith keeps one compiled instance per name: a contract calling
// another with the same code must not wait for its own instance.
func (c *Contract) loadWith(p Params, h [32]byte, name string, get func([]byte) ([]byte, error)) (*wasm.Contract, error) {
	pk := string(p.Encode())
	c.mu.Lock()
	wc := c.loaded[pk+string(h[:])+name]
	c.mu.Unlock()
	if wc != nil {
		return wc, nil
	}
	b, err := code(get, h)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if wc := c.loaded[pk+string(h[:])+name]; wc != nil {
		return wc, nil
	}
	rt := c.runtimes[pk]
	if rt == nil {
		if rt, err = wasm.NewRuntime(context.Background(), p.wasm(c.cfg.Engine), c.cfg.CacheDir); err != nil {
			return nil, fmt.Errorf("%w: %w", execution.ErrCorrupt, err)
		}
		c.runtimes[pk] = rt
	}
	wc, err = rt.Install(context.Background(), b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCode, err)
	}
	c.loaded[pk+string(h[:])+name] = wc
	return wc, nil
}

// GasLimits implements execution.GasLimits.
func (c *Contract) GasLimits(state execution.StateReader) (txDefault, txMax, block uint64, err error) {
	p, err := c.params(state)
	if err != nil {
		return 0, 0, 0, err
	}
	return p.TxGasDefault, p.TxGasMax, p.BlockGasLimit, nil
}

// Admit implements execution.UserContracts.
func (c *Contract) Admit(state execution.StateReader, name string) error {
	m, ok, err := ReadMeta(state, name)
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("%w %q", execution.ErrUnknownContract, name)
	case m.Status == Frozen:
		return fmt.Errorf("%w: %s", ErrFrozen, name)
	case m.Status == Revoked:
		return fmt.Errorf("%w: %s", ErrRevoked, name)
	}
	return nil
}

// CallUser implements execution.UserContracts.
func (c *Contract) CallUser(ctx *execution.Context, name, method string, args []byte) error {
	m, ok, err := ReadMeta(reader{ctx}, name)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return fmt.Errorf("%w %q", execution.ErrUnknownContract, name)
	case m.Status == Frozen:
		return fmt.Errorf("%w: %s", ErrFrozen, name)
	case m.Status == Revoked:
		return fmt.Errorf("%w: %s", ErrRevoked, name)
	}
	p, err := c.params(reader{ctx})
	if err != nil {
		return err
	}
	limit := ctx.GasLimit()
	if ctx.Depth() == 0 {
		if limit == 0 {
			limit = p.TxGasDefault
		}
		if limit > p.TxGasMax {
			return fmt.Errorf("%w: %d, at most %d", ErrGasLimit, limit, p.TxGasMax)
		}
		if !ctx.BlockGasFits(limit, p.BlockGasLimit) {
			return fmt.Errorf("%w (%d of %d used, this transaction may use %d)", execution.ErrBlockGasFull, ctx.BlockGasUsed(), p.BlockGasLimit, limit)
		}
	}
	wc, err := c.loadWith(p, m.Code, name, func(k []byte) ([]byte, error) { return ctx.GetFull(execution.ContractKey(Name, k)) })
	if err != nil {
		return err
	}
	self := execution.ContractAddress(c.cfg.Hash, name)
	call := wasm.Call{Method: method, Args: args, Self: self.String(), Caller: ctx.Caller().String(),
		Height: ctx.Height(), Time: ctx.Time(), GasLimit: limit, Host: &host{c: c, ctx: ctx, self: self}}
	if id, ok := ctx.BlockTxID(); ok {
		call.TxID = id[:]
	}
	if mb, ok := ctx.Signer().(identity.Member); ok && ctx.Depth() == 0 {
		call.CallerOrg, call.CallerRole = mb.Org, mb.Role.String()
	}
	res, err := wc.Call(context.Background(), call)
	ctx.SetGasUsed(res.GasUsed)
	if err != nil {
		if errors.Is(err, wasm.ErrHost) && ctx.StateErr() != nil {
			return ctx.StateErr()
		}
		return err
	}
	ctx.SetResult(res.Return)
	return nil
}

// host is a call's wasm.Host over its Context.
type host struct {
	c    *Contract
	ctx  *execution.Context
	self types.Address
}

func (h *host) Get(k []byte) ([]byte, bool, error) {
	v, err := h.ctx.Get(k)
	if err != nil {
		return nil, false, err
	}
	return v, v != nil, nil
}
func (h *host) Put(k, v []byte) error { h.ctx.Set(k, v); return nil }
func (h *host) Delete(k []byte) error { h.ctx.Delete(k); return nil }
func (h *host) Emit(topic string, data []byte) error {
	h.ctx.Emit(topic, attr("data", string(data)))
	return nil
}
func (h *host) Range(start, end []byte, limit int) ([]wasm.Entry, bool, error) {
	if len(end) == 0 {
		end = nil
	}
	ws, more, err := h.ctx.Range(start, end, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]wasm.Entry, len(ws))
	for i, w := range ws {
		out[i] = wasm.Entry{Key: w.Key, Value: w.Value}
	}
	return out, more, nil
}

func (h *host) nested(name, method string, args []byte, caller types.Address, gas uint64) ([]byte, uint64, error) {
	ret, used, failure, abort := h.ctx.CallContract(name, method, args, caller, gas)
	if abort != nil {
		return nil, used, fmt.Errorf("%w: %w", wasm.ErrAbort, abort)
	}
	return ret, used, failure
}

func (h *host) CallContract(name, method string, args []byte, gas uint64) ([]byte, uint64, error) {
	if name == Name {
		return nil, 0, fmt.Errorf("%w: contracts cannot call the registry", ErrNotAllowed)
	}
	return h.nested(name, method, args, h.self, gas)
}

func (h *host) Balance(addr string) (uint64, error) {
	a, err := types.ParseAddress(addr)
	if err != nil {
		return 0, err
	}
	b, err := token.Balance(reader{h.ctx}, a)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", wasm.ErrAbort, err)
	}
	return b, nil
}

func (h *host) Transfer(to string, amount uint64) error {
	a, err := types.ParseAddress(to)
	if err != nil {
		return err
	}
	_, _, err = h.nested(token.Name, token.MethodTransfer, tokencall.Transfer(a, amount), h.self, 0)
	return err
}

func (h *host) Collect(amount uint64) error {
	if h.ctx.Depth() != 0 {
		return fmt.Errorf("%w: collect only in a call the caller signed directly, not from another contract", ErrNotAllowed)
	}
	_, _, err := h.nested(token.Name, token.MethodTransfer, tokencall.Transfer(h.self, amount), h.ctx.Caller(), 0)
	return err
}

func (h *host) PolicySatisfied(policy string, approvals []wasm.Approval) (bool, error) {
	if h.c.cfg.Loader == nil {
		return false, fmt.Errorf("%w: an open chain has no governance policies", ErrNotAllowed)
	}
	reg, err := h.c.cfg.Loader.Registry(reader{h.ctx})
	if err != nil {
		return false, fmt.Errorf("%w: %w", wasm.ErrAbort, err)
	}
	p, ok := reg.Policy(policy)
	if !ok {
		p = identity.Policy{Rule: identity.Majority}
	}
	orgs := reg.Orgs()
	var endorsed []string
	for _, a := range approvals {
		r, err := identity.ParseRole(a.Role)
		if err == nil && p.Counts(r) && has(orgs, a.Org) {
			endorsed = append(endorsed, a.Org)
		}
	}
	if err := p.Check(endorsed, orgs); err != nil {
		if errors.Is(err, identity.ErrPolicy) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

var _ execution.UserContracts = (*Contract)(nil)

// Code reads the installed code of hash h from committed state.
func Code(state execution.StateReader, h [32]byte) ([]byte, error) {
	return code(func(k []byte) ([]byte, error) { return state.Get(execution.ContractKey(Name, k)) }, h)
}

// Query runs a read-only call of an installed contract on state.
func Query(e *execution.Executor, state execution.StateReader, name, method string, args []byte, height, time uint64) (*execution.CallResult, error) {
	return e.Simulate(state, &execution.CallInput{Contract: name, Method: method, Args: args, Height: height, Time: time})
}

// ViewState is a committed store view as an execution.Ranger, for queries.
type ViewState struct{ V *store.View }

// Get implements execution.StateReader.
func (r ViewState) Get(k []byte) ([]byte, error) { return r.V.State().Get(k) }

// Range implements execution.Ranger.
func (r ViewState) Range(start, end []byte, limit int) ([]execution.Write, bool, error) {
	kvs, more, err := r.V.Range(start, end, limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]execution.Write, len(kvs))
	for i, kv := range kvs {
		out[i] = execution.Write{Key: kv.Key, Value: kv.Value}
	}
	return out, more, nil
}

// List returns every installed contract's name and metadata from a store
// view, by name.
func List(v *store.View) ([]string, []Meta, error) {
	pfx := execution.ContractKey(Name, []byte("meta/"))
	end := append(bytes.Clone(pfx[:len(pfx)-1]), '/'+1)
	var names []string
	var metas []Meta
	start := pfx
	for {
		kvs, more, err := v.Range(start, end, 1000)
		if err != nil {
			return nil, nil, err
		}
		for _, kv := range kvs {
			m, err := DecodeMeta(kv.Value)
			if err != nil {
				return nil, nil, err
			}
			names = append(names, string(kv.Key[len(pfx):]))
			metas = append(metas, m)
		}
		if !more || len(kvs) == 0 {
			return names, metas, nil
		}
		start = append(bytes.Clone(kvs[len(kvs)-1].Key), 0)
	}
}
