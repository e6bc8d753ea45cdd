//go:build wasip1

package contract

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

//go:wasmimport accord state_get
func stateGet(kp unsafe.Pointer, kl uint32, vp unsafe.Pointer, vcap uint32) int32

//go:wasmimport accord state_put
func statePut(kp unsafe.Pointer, kl uint32, vp unsafe.Pointer, vl uint32)

//go:wasmimport accord state_delete
func stateDelete(kp unsafe.Pointer, kl uint32)

//go:wasmimport accord caller
func caller(p unsafe.Pointer, cap uint32) int32

//go:wasmimport accord state_range
func stateRange(sp unsafe.Pointer, sl uint32, ep unsafe.Pointer, el uint32, limit uint32, buf unsafe.Pointer, cap uint32) int32

//go:wasmimport accord caller_org
func callerOrg(p unsafe.Pointer, cap uint32) int32

//go:wasmimport accord caller_role
func callerRole(p unsafe.Pointer, cap uint32) int32

//go:wasmimport accord hash
func hostHash(alg uint32, p unsafe.Pointer, l uint32, out unsafe.Pointer) int32

//go:wasmimport accord verify_signature
func verifySignature(scheme uint32, pub unsafe.Pointer, pubLen uint32, msg unsafe.Pointer, msgLen uint32, sig unsafe.Pointer, sigLen uint32) int32

//go:wasmimport accord tx_id
func txID(p unsafe.Pointer, cap uint32) int32

//go:wasmimport accord input
func input(p unsafe.Pointer, cap uint32) int32

//go:wasmimport accord block_height
func blockHeight() uint64

//go:wasmimport accord block_time
func blockTime() uint64

//go:wasmimport accord emit_event
func emitEvent(tp unsafe.Pointer, tl uint32, dp unsafe.Pointer, dl uint32)

//go:wasmimport accord set_return
func setReturn(p unsafe.Pointer, l uint32)

//go:wasmimport accord revert
func revert(p unsafe.Pointer, l uint32)

//go:wasmimport accord self
func self(p unsafe.Pointer, cap uint32) int32

//go:wasmimport accord call_contract
func callContract(cp unsafe.Pointer, cl uint32, mp unsafe.Pointer, ml uint32, ap unsafe.Pointer, al uint32) int32

//go:wasmimport accord call_result
func callResult(p unsafe.Pointer, cap uint32) int32

//go:wasmimport accord balance
func balance(ap unsafe.Pointer, al uint32, out unsafe.Pointer) int32

//go:wasmimport accord transfer
func transfer(tp unsafe.Pointer, tl uint32, amount uint64) int32

//go:wasmimport accord collect
func collect(amount uint64) int32

//go:wasmimport accord policy_satisfied
func policySatisfied(pp unsafe.Pointer, pl uint32, ap unsafe.Pointer, al uint32) int32

func sptr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }
func bptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// fetch calls a host function that copies into a buffer when it fits and
// returns the full length (-1 for nothing), retrying once with the size.
func fetch(f func(p unsafe.Pointer, cap uint32) int32) ([]byte, bool) {
	var small [128]byte
	n := f(unsafe.Pointer(&small[0]), uint32(len(small)))
	switch {
	case n < 0:
		return nil, false
	case int(n) <= len(small):
		return append([]byte(nil), small[:n]...), true
	}
	buf := make([]byte, n)
	f(bptr(buf), uint32(n))
	return buf, true
}

// host is the Context of a call on the chain.
type host struct{}

func (host) Get(key string) ([]byte, bool) {
	return fetch(func(p unsafe.Pointer, c uint32) int32 { return stateGet(sptr(key), uint32(len(key)), p, c) })
}
func (host) Put(key string, value []byte) {
	statePut(sptr(key), uint32(len(key)), bptr(value), uint32(len(value)))
}
func (host) Delete(key string) { stateDelete(sptr(key), uint32(len(key))) }
func (host) Range(start, end string, limit int) ([]Entry, bool) {
	if limit <= 0 {
		return nil, true
	}
	b, _ := fetch(func(p unsafe.Pointer, c uint32) int32 {
		return stateRange(sptr(start), uint32(len(start)), sptr(end), uint32(len(end)), uint32(limit), p, c)
	})
	entries, more, err := decodeEntries(b)
	if err != nil {
		panic(err) // the host broke its own encoding: fail the call
	}
	return entries, more
}
func (host) Caller() string {
	b, _ := fetch(caller)
	return string(b)
}
func (host) CallerOrg() string {
	b, _ := fetch(callerOrg)
	return string(b)
}
func (host) CallerRole() string {
	b, _ := fetch(callerRole)
	return string(b)
}
func (host) TxID() []byte {
	b, _ := fetch(txID)
	return b
}
func (host) Height() uint64 { return blockHeight() }
func (host) Time() uint64   { return blockTime() }
func (host) Args() []byte {
	b, _ := fetch(input)
	return b
}
func (host) Emit(topic string, data []byte) {
	emitEvent(sptr(topic), uint32(len(topic)), bptr(data), uint32(len(data)))
}

func (host) Self() string {
	b, _ := fetch(self)
	return string(b)
}

// lastResult is what the host keeps from the last call_contract, balance,
// transfer, collect or policy_satisfied: a result or a failure's message.
func lastResult() []byte {
	b, _ := fetch(callResult)
	return b
}

func refused(op string) error { return fmt.Errorf("%s: %w: %s", op, ErrRefused, lastResult()) }

func (host) Call(contract, method string, args []byte) ([]byte, error) {
	if callContract(sptr(contract), uint32(len(contract)), sptr(method), uint32(len(method)), bptr(args), uint32(len(args))) != 0 {
		return nil, fmt.Errorf("%s.%s: %w: %s", contract, method, ErrCallFailed, lastResult())
	}
	return lastResult(), nil
}

func (host) Balance(addr string) (uint64, error) {
	var out [8]byte
	if balance(sptr(addr), uint32(len(addr)), unsafe.Pointer(&out[0])) != 0 {
		return 0, refused("balance")
	}
	return binary.LittleEndian.Uint64(out[:]), nil
}

func (host) Transfer(to string, amount uint64) error {
	if transfer(sptr(to), uint32(len(to)), amount) != 0 {
		return refused("transfer")
	}
	return nil
}

func (host) Collect(amount uint64) error {
	if collect(amount) != 0 {
		return refused("collect")
	}
	return nil
}

func (host) PolicySatisfied(policy string, approvals []Approval) (bool, error) {
	enc := encodeApprovals(approvals)
	switch policySatisfied(sptr(policy), uint32(len(policy)), bptr(enc), uint32(len(enc))) {
	case 1:
		return true, nil
	case 0:
		return false, nil
	}
	return false, refused("policy " + policy)
}

// Run runs m as the current call: its result becomes the call's return
// value (JSON), its error reverts the call. Call it from a
// //go:wasmexport function.
func Run(m Method) {
	res, err := m(host{})
	if err == nil {
		var b []byte
		if b, err = encodeResult(res); err == nil {
			if len(b) > 0 {
				setReturn(bptr(b), uint32(len(b)))
			}
			return
		}
	}
	msg := err.Error()
	revert(sptr(msg), uint32(len(msg)))
}

func hashWith(alg uint32, data []byte) [32]byte {
	var out [32]byte
	hostHash(alg, bptr(data), uint32(len(data)), unsafe.Pointer(&out[0]))
	return out
}

// SHA256 returns the SHA-256 hash of data, computed by the host.
func SHA256(data []byte) [32]byte { return hashWith(1, data) }

// SM3 returns the SM3 hash of data, computed by the host.
func SM3(data []byte) [32]byte { return hashWith(2, data) }

// VerifySignature reports whether sig is a valid signature of msg by the
// public key pub (encoded as the chain encodes keys) under scheme.
func VerifySignature(scheme Scheme, pub, msg, sig []byte) bool {
	return verifySignature(uint32(scheme), bptr(pub), uint32(len(pub)), bptr(msg), uint32(len(msg)), bptr(sig), uint32(len(sig))) == 1
}
