package execution

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// UserContracts runs the chain's installed (user) contracts. At most one
// registered contract implements it; a transaction naming a contract that no
// native contract has goes to CallUser, with the Context in the named
// contract's namespace ("c/" + name + "/"). CallUser reports the gas it
// used with Context.SetGasUsed and its return value with SetResult; an
// error wrapping ErrUnknownContract means no such contract is installed.
//
// User contracts do not predict their accesses: a block that calls one runs
// sequentially.
type UserContracts interface {
	Contract
	CallUser(ctx *Context, name, method string, args []byte) error
	// Admit is the pool's cheap check of a call to name: why it cannot
	// run (not installed, frozen, revoked), or nil.
	Admit(state StateReader, name string) error
}

// ErrBlockGasFull is what UserContracts.CallUser returns (wrapped) when the
// transaction's gas limit does not fit in what is left of the block's gas
// limit: the transaction is INVALID in this block and changes nothing.
var ErrBlockGasFull = errors.New("the block's gas limit is reached; send the transaction again")

// ErrTxGasLimit refuses at admission a transaction whose gas limit is above
// the chain's per-transaction maximum (and so may exceed a block's).
var ErrTxGasLimit = errors.New("gas limit above the chain's maximum")

// GasLimits is what a UserContracts implements for the pool to cut blocks
// by gas: the gas a transaction naming none may use, the most one may name,
// and a block's gas limit, as committed in state.
type GasLimits interface {
	GasLimits(state StateReader) (txDefault, txMax, block uint64, err error)
}

// BlockGas returns the gas limit of a block built on state (0: no limit,
// when the chain has no user contracts) and the gas of it a transaction
// calling contract with the given gas limit may use: its limit or the
// chain's default for a user contract, nothing for a native one. The pool
// reaps with it so that a block's contract calls fit in its gas limit
// instead of the last of them becoming INVALID (ErrBlockGasFull).
func (e *Executor) BlockGas(state StateReader) (limit uint64, txGas func(contract string, gasLimit uint64) uint64, err error) {
	g, ok := e.user.(GasLimits)
	if !ok {
		return 0, nil, nil
	}
	def, _, block, err := g.GasLimits(state)
	if err != nil {
		return 0, nil, err
	}
	return block, func(contract string, gasLimit uint64) uint64 {
		if _, native := e.contracts[contract]; native {
			return 0
		}
		if gasLimit == 0 {
			return def
		}
		return gasLimit
	}, nil
}

// MaxNesting is how deep contract calls may nest within one transaction.
const MaxNesting = 8

// ErrNesting fails a nested call deeper than MaxNesting or one back into a
// contract already running in the transaction.
var ErrNesting = errors.New("contract call refused")

// GasLimit is the gas limit the transaction named (0: the chain's default)
// at the top level, or what the calling contract handed a nested call.
func (c *Context) GasLimit() uint64 { return c.gasLimit }

// SetGasUsed records the gas the current call used.
func (c *Context) SetGasUsed(n uint64) { c.gasUsed = n }

// GasUsed is what SetGasUsed recorded for the current call.
func (c *Context) GasUsed() uint64 { return c.gasUsed }

// SetResult records the current call's return value (kept on success).
func (c *Context) SetResult(b []byte) { c.result = b }

// BlockGasUsed is the gas the block's earlier transactions used.
func (c *Context) BlockGasUsed() uint64 {
	if c.blockGas == nil {
		return 0
	}
	return *c.blockGas
}

// Depth is how deeply the current call is nested: 0 for the call the
// transaction made.
func (c *Context) Depth() int { return len(c.stack) }

// Caller is the account or contract that made the current call: the
// transaction's sender at depth 0.
func (c *Context) Caller() types.Address { return c.sender }

// Origin is the transaction's signer, whatever the depth.
func (c *Context) Origin() types.Address {
	if len(c.stack) > 0 {
		return c.stack[0].sender
	}
	return c.sender
}

// Simulating reports a dry run (Simulate, Check): no transaction exists.
func (c *Context) Simulating() bool { return c.blockGas == nil }

// frame is what a nested call saves of its caller.
type frame struct {
	contract, prefix string
	sender           types.Address
	writes           []Write
	events           int
	gasLimit         uint64
	gasUsed          uint64
	result           []byte
	err              error
}

// ContractAddress is the address of a contract: it can hold native tokens.
// It is derived from the name with the chain's hash, under a domain no key
// can produce: a contract has no private key.
func ContractAddress(h crypto.Hash, name string) types.Address {
	sum := h.Sum([]byte("accord/contract\x00"), []byte(name))
	var a types.Address
	copy(a[:], sum[len(sum)-len(a):])
	return a
}

// CallContract runs method of the named contract (native or user) as a call
// nested in the current one, with caller as its Caller and at most gas for
// a user contract. Its writes and events are kept only if it succeeds; its
// failure is returned for the calling contract to handle. gasUsed is what a
// user contract used (0 for a native one). A state error aborts the block
// and is returned as abort.
func (c *Context) CallContract(name, method string, args []byte, caller types.Address, gas uint64) (ret []byte, gasUsed uint64, failure, abort error) {
	if c.exec == nil {
		return nil, 0, fmt.Errorf("%w: this context cannot call contracts", ErrNesting), nil
	}
	if len(c.stack) >= MaxNesting {
		return nil, 0, fmt.Errorf("%w: calls nest deeper than %d", ErrNesting, MaxNesting), nil
	}
	if name == c.contract || slices.ContainsFunc(c.stack, func(f frame) bool { return f.contract == name }) {
		return nil, 0, fmt.Errorf("%w: %q is already running in this transaction", ErrNesting, name), nil
	}
	c.stack = append(c.stack, frame{contract: c.contract, prefix: c.prefix, sender: c.sender,
		writes: slices.Clone(c.writes), events: len(c.events), gasLimit: c.gasLimit, gasUsed: c.gasUsed,
		result: c.result, err: c.err})
	c.sender, c.gasLimit, c.gasUsed, c.result, c.err = caller, gas, 0, nil, nil
	var err error
	if r, ok := c.exec.contracts[name]; ok {
		c.enter(name, r.prefix)
		err = r.Call(c, method, args)
	} else if c.exec.user != nil {
		c.enter(name, contractPrefix+name+"/")
		err = c.exec.user.CallUser(c, name, method, args)
	} else {
		err = unknownContract(name)
	}
	if err == nil {
		err = c.err
	}
	ret, gasUsed = c.result, c.gasUsed
	f := c.stack[len(c.stack)-1]
	c.stack = c.stack[:len(c.stack)-1]
	c.contract, c.prefix, c.sender = f.contract, f.prefix, f.sender
	c.gasLimit, c.gasUsed, c.result, c.err = f.gasLimit, f.gasUsed, f.result, f.err
	if c.stateErr != nil {
		return nil, gasUsed, nil, c.stateErr
	}
	if err != nil {
		c.writes, c.index = f.writes, nil
		c.events = c.events[:f.events]
		return nil, gasUsed, err, nil
	}
	return ret, gasUsed, nil, nil
}

// Ranger is a StateReader that can also list keys in order. A user
// contract's range reads need it; without it they fail.
type Ranger interface {
	StateReader
	// Range returns up to limit entries with start <= key < end (end nil:
	// no bound) in key order, and whether more follow.
	Range(start, end []byte, limit int) ([]Write, bool, error)
}

// ErrNoRange fails a range read over a StateReader that is not a Ranger.
var ErrNoRange = errors.New("state range reads are not available here")

// Range returns up to limit entries of the contract's namespace with start
// <= key < end (end nil: to the namespace's end), keys relative to the
// namespace, in key order, seeing the block's and the transaction's own
// writes; and whether more follow. Every key returned is recorded as read.
func (c *Context) Range(start, end []byte, limit int) ([]Write, bool, error) {
	if c.lane != nil {
		return nil, false, c.stop("made a range read")
	}
	lo := c.fullKey(start)
	var hi []byte
	if end != nil {
		hi = c.fullKey(end)
	} else {
		hi = prefixEnd([]byte(c.prefix))
	}
	c.ranges = append(c.ranges, keyRange{lo, hi})
	// Merge three layers: committed state, the block's earlier writes, the
	// transaction's own. Deleted keys may hide committed ones, so ask the
	// store for enough to fill the page after deletions.
	pending := map[string]Write{}
	for _, w := range c.view.entries {
		if inRange(w.Key, lo, hi) {
			pending[string(w.Key)] = w
		}
	}
	for _, w := range c.writes {
		if inRange(w.Key, lo, hi) {
			pending[string(w.Key)] = w
		}
	}
	var base []Write
	more := false
	if rg, ok := c.view.state.(Ranger); ok {
		var err error
		base, more, err = rg.Range(lo, hi, limit+len(pending))
		if err != nil {
			if c.stateErr == nil {
				c.stateErr = fmt.Errorf("range over %q: %w", lo, err)
			}
			return nil, false, c.stateErr
		}
	} else if c.view.state != nil {
		return nil, false, ErrNoRange
	}
	merged := map[string]Write{}
	for _, w := range base {
		merged[string(w.Key)] = w
	}
	for k, w := range pending {
		merged[k] = w
	}
	keys := make([]string, 0, len(merged))
	for k, w := range merged {
		// Past the last committed key returned, committed keys are unknown:
		// a pending key there could skip one.
		if more && len(base) > 0 && k > string(base[len(base)-1].Key) {
			continue
		}
		if !w.Delete {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > limit {
		keys, more = keys[:limit], true
	}
	out := make([]Write, len(keys))
	for i, k := range keys {
		full := []byte(k)
		c.reads = append(c.reads, full)
		out[i] = Write{Key: full[len(c.prefix):], Value: merged[k].Value}
	}
	return out, more, nil
}

func inRange(k, lo, hi []byte) bool {
	return bytes.Compare(k, lo) >= 0 && (hi == nil || bytes.Compare(k, hi) < 0)
}

// prefixEnd is the least key above every key with the prefix (nil if none).
func prefixEnd(p []byte) []byte {
	b := bytes.Clone(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return b[:i+1]
		}
	}
	return nil
}

// GetFull reads a full state key, outside the contract's namespace, as Get
// reads its own: for native contracts that read another's state (the
// user-contract runner reads token balances and its registry). The read is
// recorded.
func (c *Context) GetFull(full []byte) ([]byte, error) { return c.get(full) }

// BlockTxID is the transaction's id, and false in a dry run, where there
// is none.
func (c *Context) BlockTxID() (types.Hash, bool) { return c.txID, c.blockGas != nil }

// StateErr is the state error that will abort the block, if any.
func (c *Context) StateErr() error { return c.stateErr }
