package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/vm/wasm/instrument"
)

// HostModule is the module name of Accord's host API. Its functions take
// and return only i32 and i64: pointers and lengths into the contract's
// memory. A function that hands bytes to the contract takes a buffer and its
// capacity and returns the full length, copying only when it fits, so the
// contract can retry with a bigger buffer.
const HostModule = "accord"

// MaxKeySize is the largest state key a contract may use, in bytes.
const MaxKeySize = 1024

type hostFunc struct {
	name string
	sig  instrument.FuncType
	fn   api.GoModuleFunc
}

// hostAPI is the accord module, the whole of what a contract can do to the
// chain.
var hostAPI = []hostFunc{
	{"state_get", sig("iiii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		key := st.key(m, uint32(s[0]), uint32(s[1]))
		v, ok, err := st.call.Host.Get(key)
		if err != nil {
			st.fail(fmt.Errorf("%w: state get: %w", ErrHost, err))
		}
		if !ok {
			st.charge(uint64(len(key)))
			s[0] = api.EncodeI32(-1)
			return
		}
		st.charge(uint64(len(key) + len(v)))
		s[0] = st.copyOut(m, uint32(s[2]), uint32(s[3]), v)
	}},
	{"state_put", sig("iiii", ""), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.chargeRaw(st.p.Gas.StateWrite)
		st.charge(uint64(uint32(s[1])) + uint64(uint32(s[3])))
		key := st.key(m, uint32(s[0]), uint32(s[1]))
		v := st.read(m, uint32(s[2]), s[3]&0xffffffff)
		if err := st.call.Host.Put(key, v); err != nil {
			st.fail(fmt.Errorf("%w: state put: %w", ErrHost, err))
		}
	}},
	{"state_delete", sig("ii", ""), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		key := st.key(m, uint32(s[0]), uint32(s[1]))
		st.chargeRaw(st.p.Gas.StateWrite)
		st.charge(uint64(len(key)))
		if err := st.call.Host.Delete(key); err != nil {
			st.fail(fmt.Errorf("%w: state delete: %w", ErrHost, err))
		}
	}},
	{"caller", sig("ii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(len(st.call.Caller)))
		s[0] = st.copyOut(m, uint32(s[0]), uint32(s[1]), []byte(st.call.Caller))
	}},
	// state_range(start, start_len, end, end_len, limit, buf, cap) → len
	// writes entries with start <= key < end (end_len 0: no bound), at most
	// min(limit, MaxRange), as: u8 more, then per entry u32 key length,
	// key, u32 value length, value (little-endian). It returns the encoded
	// length and copies only when it fits; the contract then retries.
	{"state_range", sig("iiiiiii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(uint32(s[1])) + uint64(uint32(s[3])))
		// Bounds may be one byte longer than a key: the SDK resumes after a
		// key k at k + "\x00".
		start := st.bound(m, uint32(s[0]), uint32(s[1]))
		end := st.bound(m, uint32(s[2]), uint32(s[3]))
		limit := int(min(uint32(s[4]), MaxRange))
		if limit == 0 {
			limit = MaxRange
		}
		entries, more, err := st.call.Host.Range(start, end, limit)
		if err != nil {
			st.fail(fmt.Errorf("%w: state range: %w", ErrHost, err))
		}
		if len(entries) > limit {
			st.fail(fmt.Errorf("%w: state range returned %d entries for a limit of %d", ErrHost, len(entries), limit))
		}
		out := []byte{0}
		if more {
			out[0] = 1
		}
		for _, e := range entries {
			out = binary.LittleEndian.AppendUint32(out, uint32(len(e.Key)))
			out = append(out, e.Key...)
			out = binary.LittleEndian.AppendUint32(out, uint32(len(e.Value)))
			out = append(out, e.Value...)
		}
		st.chargeRaw(uint64(len(entries)) * st.p.Gas.RangeEntry)
		st.charge(uint64(len(out)))
		s[0] = st.copyOut(m, uint32(s[5]), uint32(s[6]), out)
	}},
	{"self", sig("ii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(len(st.call.Self)))
		s[0] = st.copyOut(m, uint32(s[0]), uint32(s[1]), []byte(st.call.Self))
	}},
	// call_contract(contract, contract_len, method, method_len, args,
	// args_len) → 0 ok, 1 failed; call_result then returns the callee's
	// result or the failure's message. The callee may use all the gas left.
	{"call_contract", sig("iiiiii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(uint32(s[1])) + uint64(uint32(s[3])) + uint64(uint32(s[5])))
		name := st.bound(m, uint32(s[0]), uint32(s[1]))
		method := st.bound(m, uint32(s[2]), uint32(s[3]))
		args := st.read(m, uint32(s[4]), uint64(uint32(s[5])))
		left := st.gas.Get()
		ret, used, err := st.call.Host.CallContract(string(name), string(method), args, left)
		st.chargeRaw(min(used, left))
		s[0] = st.outcome(ret, err)
	}},
	{"call_result", sig("ii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(len(st.last)))
		s[0] = st.copyOut(m, uint32(s[0]), uint32(s[1]), st.last)
	}},
	// balance(addr, addr_len, out8) → 0 (the balance written at out8 as a
	// little-endian u64) or 1 (failed: call_result has the message).
	{"balance", sig("iii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(uint32(s[1])) + 8)
		addr := st.bound(m, uint32(s[0]), uint32(s[1]))
		b, err := st.call.Host.Balance(string(addr))
		if s[0] = st.outcome(nil, err); err == nil {
			st.write(m, uint32(s[2]), binary.LittleEndian.AppendUint64(nil, b))
		}
	}},
	// transfer(to, to_len, amount) → 0 ok, 1 failed (call_result has why).
	{"transfer", sig("iiI", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.chargeRaw(2 * st.p.Gas.StateWrite)
		st.charge(uint64(uint32(s[1])))
		to := st.bound(m, uint32(s[0]), uint32(s[1]))
		s[0] = st.outcome(nil, st.call.Host.Transfer(string(to), s[2]))
	}},
	// collect(amount) → 0 ok, 1 failed (call_result has why).
	{"collect", sig("I", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.chargeRaw(2 * st.p.Gas.StateWrite)
		st.charge(0)
		s[0] = st.outcome(nil, st.call.Host.Collect(s[0]))
	}},
	// policy_satisfied(policy, policy_len, approvals, approvals_len) → 1
	// satisfied, 0 not, -1 failed (call_result has why). Approvals are
	// encoded as EncodeApprovals writes them.
	{"policy_satisfied", sig("iiii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(uint32(s[1])) + uint64(uint32(s[3])))
		policy := st.bound(m, uint32(s[0]), uint32(s[1]))
		raw := st.read(m, uint32(s[2]), uint64(uint32(s[3])))
		approvals, err := DecodeApprovals(raw)
		if err != nil {
			st.fail(fmt.Errorf("%w: policy_satisfied: %w", ErrTrap, err))
		}
		ok, err := st.call.Host.PolicySatisfied(string(policy), approvals)
		switch {
		case st.outcome(nil, err) != 0:
			s[0] = api.EncodeI32(-1)
		case ok:
			s[0] = 1
		default:
			s[0] = 0
		}
	}},
	{"caller_org", sig("ii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(len(st.call.CallerOrg)))
		s[0] = st.copyOut(m, uint32(s[0]), uint32(s[1]), []byte(st.call.CallerOrg))
	}},
	{"caller_role", sig("ii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(len(st.call.CallerRole)))
		s[0] = st.copyOut(m, uint32(s[0]), uint32(s[1]), []byte(st.call.CallerRole))
	}},
	// hash(alg, data, len, out32) → 0, or -1 for an unknown alg
	// (1 SHA-256, 2 SM3: crypto.Hash's values).
	{"hash", sig("iiii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		n := uint64(uint32(s[2]))
		st.charge(n + 32)
		st.chargeRaw(n * st.p.Gas.HashByte)
		h := crypto.Hash(uint32(s[0]))
		if uint32(s[0]) > 255 || !h.Valid() {
			s[0] = api.EncodeI32(-1)
			return
		}
		sum := h.Sum(st.read(m, uint32(s[1]), n))
		st.write(m, uint32(s[3]), sum[:])
		s[0] = 0
	}},
	// verify_signature(scheme, pub, pub_len, msg, msg_len, sig, sig_len)
	// → 1 valid, 0 not, -1 unknown scheme (1 Ed25519, 2 SM2, 3 P-256:
	// crypto.Scheme's values).
	{"verify_signature", sig("iiiiiii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.chargeRaw(st.p.Gas.Verify)
		st.charge(uint64(uint32(s[2])) + uint64(uint32(s[4])) + uint64(uint32(s[6])))
		scheme := crypto.Scheme(uint32(s[0]))
		if uint32(s[0]) > 255 || !scheme.Valid() {
			s[0] = api.EncodeI32(-1)
			return
		}
		pub := st.read(m, uint32(s[1]), uint64(uint32(s[2])))
		msg := st.read(m, uint32(s[3]), uint64(uint32(s[4])))
		sg := st.read(m, uint32(s[5]), uint64(uint32(s[6])))
		s[0] = 0
		if crypto.Verify(scheme, pub, msg, sg) == nil {
			s[0] = 1
		}
	}},
	{"tx_id", sig("ii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(len(st.call.TxID)))
		s[0] = st.copyOut(m, uint32(s[0]), uint32(s[1]), st.call.TxID)
	}},
	{"input", sig("ii", "i"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(len(st.call.Args)))
		s[0] = st.copyOut(m, uint32(s[0]), uint32(s[1]), st.call.Args)
	}},
	{"block_height", sig("", "I"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(0)
		s[0] = st.call.Height
	}},
	{"block_time", sig("", "I"), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(0)
		s[0] = st.call.Time
	}},
	{"emit_event", sig("iiii", ""), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(uint32(s[1])) + uint64(uint32(s[3])))
		topic := st.read(m, uint32(s[0]), s[1]&0xffffffff)
		data := st.read(m, uint32(s[2]), s[3]&0xffffffff)
		if err := st.call.Host.Emit(string(topic), data); err != nil {
			st.fail(fmt.Errorf("%w: emit event: %w", ErrHost, err))
		}
	}},
	{"set_return", sig("ii", ""), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		st.charge(uint64(uint32(s[1])))
		st.ret = st.read(m, uint32(s[0]), s[1]&0xffffffff)
	}},
	{"revert", sig("ii", ""), func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx).live()
		msg := st.read(m, uint32(s[0]), min(s[1]&0xffffffff, 1024))
		st.charge(uint64(len(msg)))
		st.fail(&RevertError{Message: string(msg)})
	}},
}

func instantiateHostAPI(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(HostModule)
	for _, f := range hostAPI {
		p, r := wasiTypes(f.sig)
		b.NewFunctionBuilder().WithGoModuleFunction(f.fn, p, r).Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

type stateKey struct{}

// callState is one call's side of the host: what the host functions read
// and what they record. It travels in the context wazero hands them.
type callState struct {
	call        *Call
	p           *Params
	init        bool // running _initialize: no call exists yet
	gas         api.MutableGlobal
	log         []byte
	logLimit    int
	randCounter uint64
	clockWaits  int
	ret         []byte
	last        []byte // what call_result returns
	err         error  // the first failure a host function raised
}

func state(ctx context.Context) *callState { return ctx.Value(stateKey{}).(*callState) }

// fail records why the call ends and unwinds it; wazero turns the panic
// into the error Call returns, and the recorded error is what callers see.
func (st *callState) fail(err error) {
	if st.err == nil {
		st.err = err
	}
	panic(err)
}

// live fails host functions that need a call while _initialize runs.
func (st *callState) live() *callState {
	if st.init {
		st.fail(ErrInInit)
	}
	return st
}

func (st *callState) chargeRaw(gas uint64) {
	left := int64(st.gas.Get()) - int64(gas)
	st.gas.Set(uint64(left))
	if left < 0 {
		st.fail(ErrOutOfGas)
	}
}

// charge takes the base price of a host call plus its per-byte price.
func (st *callState) charge(bytes uint64) {
	st.chargeRaw(st.p.Gas.HostCall + bytes*st.p.Gas.HostByte)
}

// read copies n bytes at ptr out of the contract's memory; the copy may
// outlive the call (the Host may keep it).
func (st *callState) read(m api.Module, ptr uint32, n uint64) []byte {
	if n > 1<<32 {
		st.fail(ErrBadPointer)
	}
	b, ok := m.Memory().Read(ptr, uint32(n))
	if !ok {
		st.fail(fmt.Errorf("%w: %d bytes at %d", ErrBadPointer, n, ptr))
	}
	return append([]byte(nil), b...)
}

func (st *callState) write(m api.Module, ptr uint32, b []byte) {
	if !m.Memory().Write(ptr, b) {
		st.fail(fmt.Errorf("%w: %d bytes at %d", ErrBadPointer, len(b), ptr))
	}
}

func (st *callState) key(m api.Module, ptr, n uint32) []byte {
	if n > MaxKeySize {
		st.fail(fmt.Errorf("%w: a state key of %d bytes (at most %d)", ErrTrap, n, MaxKeySize))
	}
	return st.read(m, ptr, uint64(n))
}

func (st *callState) bound(m api.Module, ptr, n uint32) []byte {
	if n > MaxKeySize+1 {
		st.fail(fmt.Errorf("%w: a range bound of %d bytes (at most %d)", ErrTrap, n, MaxKeySize+1))
	}
	return st.read(m, ptr, uint64(n))
}

// outcome records what call_result will return and gives the status a
// host function hands the contract: 0 ok, 1 failed. A Host error marked
// ErrAbort, or running out of gas, ends the call instead.
func (st *callState) outcome(ret []byte, err error) uint64 {
	switch {
	case err == nil:
		st.last = ret
		return 0
	case errors.Is(err, ErrAbort):
		st.fail(fmt.Errorf("%w: %w", ErrHost, err))
	}
	st.last = []byte(err.Error())
	return 1
}

// copyOut writes v to the buffer if it fits and returns v's length.
func (st *callState) copyOut(m api.Module, ptr, capacity uint32, v []byte) uint64 {
	if uint64(len(v)) <= uint64(capacity) {
		st.write(m, ptr, v)
	}
	return uint64(uint32(len(v)))
}

func (st *callState) logSuffix() string {
	if len(st.log) == 0 {
		return ""
	}
	return "; its log begins: " + st.logHead()
}

// logHead is the start of the log, where Go prints a panic's message
// before the goroutine dump: at most 3 lines and 512 bytes.
func (st *callState) logHead() string {
	b := st.log[:min(len(st.log), 512)]
	end := 0
	for i := 0; i < 3 && end < len(b); i++ {
		if j := bytes.IndexByte(b[end:], '\n'); j >= 0 {
			end += j + 1
		} else {
			end = len(b)
		}
	}
	return strings.TrimSpace(string(b[:end]))
}
