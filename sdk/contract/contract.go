// Package contract is the Go SDK for Accord user contracts. A contract is a
// main package built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared whose
// methods are //go:wasmexport functions that hand a Method to Run. The
// method itself takes a Context, so the same code runs on the chain (the
// host behind Run) and in plain `go test` (a Mock).
//
// It owns the contract side of the host ABI that vm/wasm provides as the
// "accord" module. It must not import anything of the node: it is compiled
// into contracts.
package contract

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Context is what a method sees of the chain. State keys live in the
// contract's own namespace; no contract can read or write another's.
type Context interface {
	// Get returns the value under key and whether there is one.
	Get(key string) ([]byte, bool)
	// Put stores value under key; it is kept only if the call succeeds.
	Put(key string, value []byte)
	// Delete removes key.
	Delete(key string)
	// Caller is the address of the account that called.
	Caller() string
	// CallerOrg and CallerRole are the caller's organisation and role
	// (empty where the chain has none).
	CallerOrg() string
	CallerRole() string
	// TxID is the id of the transaction (empty in a query).
	TxID() []byte
	// Height and Time (unix milliseconds) are the block's.
	Height() uint64
	Time() uint64
	// Args are the call's raw arguments (JSON by convention).
	Args() []byte
	// Emit records an event; it is kept only if the call succeeds.
	Emit(topic string, data []byte)
	// Range returns up to limit entries with start <= key < end in key
	// order (end "" has no bound), including the call's own writes, and
	// whether more follow. Scan and ScanPrefix page through it.
	Range(start, end string, limit int) ([]Entry, bool)

	// Self is the contract's own address (hex, as Caller): it can hold
	// native tokens.
	Self() string
	// Call calls method of another contract (a user contract by name, or
	// the native "token" contract) with raw args; it returns the callee's
	// result. An error reverts nothing by itself: the caller decides
	// (returning it reverts). The callee sees this contract as its Caller.
	Call(contract, method string, args []byte) ([]byte, error)
	// Balance is addr's native token balance.
	Balance(addr string) (uint64, error)
	// Transfer moves amount of the contract's own native tokens to addr.
	Transfer(to string, amount uint64) error
	// Collect moves amount of the calling account's native tokens into the
	// contract's account. Allowed only in a call the caller signed
	// directly (the transaction's signer calling this contract), never in
	// a call from another contract; the signature on the transaction is the
	// authorisation.
	Collect(amount uint64) error
	// PolicySatisfied reports whether the chain's governance policy named
	// policy (e.g. "land.allocate"; a name with no policy configured uses
	// "MAJORITY(admin)") is satisfied by approvals, each an approving
	// member's organisation and role. Duplicate organisations count once.
	PolicySatisfied(policy string, approvals []Approval) (bool, error)
}

// Approval is one approving member's organisation and role.
type Approval struct {
	Org, Role string
}

var (
	// ErrCallFailed is returned (wrapped) by Call when the callee failed;
	// the message is the callee's.
	ErrCallFailed = errors.New("contract call failed")
	// ErrRefused is returned (wrapped) by Balance, Transfer, Collect and
	// PolicySatisfied when the chain refuses (an insufficient balance, a
	// Collect from a contract's call, an unknown policy...).
	ErrRefused = errors.New("refused")
)

// CallJSON calls method of another contract with args encoded as JSON (nil:
// no arguments) and decodes its JSON result into result (nil: ignored).
func CallJSON(ctx Context, contract, method string, args, result any) error {
	var raw []byte
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return fmt.Errorf("call %s.%s: encoding args: %w", contract, method, err)
		}
		raw = b
	}
	ret, err := ctx.Call(contract, method, raw)
	if err != nil {
		return err
	}
	if result == nil || len(bytes.TrimSpace(ret)) == 0 {
		return nil
	}
	if err := json.Unmarshal(ret, result); err != nil {
		return fmt.Errorf("call %s.%s: decoding result: %w", contract, method, err)
	}
	return nil
}

// encodeApprovals writes approvals as the host's policy_satisfied reads
// them: per approval u32 organisation length, organisation, u32 role
// length, role (little-endian).
func encodeApprovals(approvals []Approval) []byte {
	var b []byte
	for _, a := range approvals {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(a.Org)))
		b = append(b, a.Org...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(a.Role)))
		b = append(b, a.Role...)
	}
	return b
}

// Entry is one key and value from Range.
type Entry struct {
	Key   string
	Value []byte
}

// pageSize is how many entries Scan asks for at a time.
const pageSize = 100

// Scan calls fn for each entry with start <= key < end in key order (end ""
// has no bound) until fn returns false.
func Scan(ctx Context, start, end string, fn func(key string, value []byte) bool) {
	for {
		page, more := ctx.Range(start, end, pageSize)
		for _, e := range page {
			if !fn(e.Key, e.Value) {
				return
			}
		}
		if !more || len(page) == 0 {
			return
		}
		start = page[len(page)-1].Key + "\x00" // the next key after the last
	}
}

// ScanPrefix calls fn for each entry whose key starts with prefix, in key
// order, until fn returns false.
func ScanPrefix(ctx Context, prefix string, fn func(key string, value []byte) bool) {
	Scan(ctx, prefix, prefixEnd(prefix), fn)
}

// prefixEnd is the least key above every key with the prefix ("" if none).
func prefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// Key builds a composite key: each part followed by a zero byte, so that
// Key(a) is a prefix of Key(a, b) and of nothing else. Parts must not
// contain a zero byte (Key panics, which fails the call).
func Key(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if strings.IndexByte(p, 0) >= 0 {
			panic(fmt.Sprintf("contract.Key: part %q contains a zero byte", p))
		}
		b.WriteString(p)
		b.WriteByte(0)
	}
	return b.String()
}

// ErrBadKey is returned by SplitKey for a key Key did not build.
var ErrBadKey = errors.New("not a composite key")

// SplitKey returns the parts of a key built by Key.
func SplitKey(key string) ([]string, error) {
	if key == "" || key[len(key)-1] != 0 {
		return nil, fmt.Errorf("%w: %q does not end with a zero byte", ErrBadKey, key)
	}
	return strings.Split(key[:len(key)-1], "\x00"), nil
}

// ErrBadEntries is returned (wrapped) by decodeEntries.
var ErrBadEntries = errors.New("malformed state range result")

// decodeEntries reads the host's state_range encoding: u8 more, then per
// entry u32 key length, key, u32 value length, value (little-endian).
func decodeEntries(b []byte) ([]Entry, bool, error) {
	if len(b) == 0 || b[0] > 1 {
		return nil, false, fmt.Errorf("%w: bad header", ErrBadEntries)
	}
	more := b[0] == 1
	b = b[1:]
	var out []Entry
	next := func() ([]byte, error) {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: truncated length", ErrBadEntries)
		}
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, fmt.Errorf("%w: length %d past the end", ErrBadEntries, n)
		}
		v := b[4 : 4+n]
		b = b[4+n:]
		return v, nil
	}
	for len(b) > 0 {
		k, err := next()
		if err != nil {
			return nil, false, err
		}
		v, err := next()
		if err != nil {
			return nil, false, err
		}
		out = append(out, Entry{Key: string(k), Value: append([]byte(nil), v...)})
	}
	return out, more, nil
}

// Method is one contract method. Its result is returned to the caller as
// JSON; a non-nil error reverts the call with the error's text, undoing
// every Put, Delete and Emit.
type Method func(ctx Context) (any, error)

// Scheme names a signature scheme for VerifySignature; the values are the
// chain's (package crypto).
type Scheme uint8

// Signature schemes.
const (
	Ed25519 Scheme = 1
	SM2     Scheme = 2
	P256    Scheme = 3
)

// MaxKeySize is the largest key the host accepts, in bytes.
const MaxKeySize = 1024

// ErrBadArgs is returned (wrapped) by Decode for arguments that are not
// what the method expects.
var ErrBadArgs = errors.New("bad arguments")

// Decode reads the call's JSON arguments into v, a pointer to a struct.
// Unknown fields are an error, so a misspelt argument is not silently
// ignored; empty arguments decode as {}.
func Decode(ctx Context, v any) error {
	args := bytes.TrimSpace(ctx.Args())
	if len(args) == 0 {
		args = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(args))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadArgs, err)
	}
	if d.More() {
		return fmt.Errorf("%w: trailing data after the JSON value", ErrBadArgs)
	}
	return nil
}

// Warm encodes and decodes a zero value of each argument's type. Call it
// from the contract's init with its argument and result types: every call
// starts from the state init leaves, so encoding/json's per-type caches
// built here are reused by every call instead of rebuilt by each (a tenth
// of the gas of a small call, against nearly all of it).
func Warm(values ...any) {
	for _, v := range values {
		b, err := json.Marshal(v)
		t := reflect.TypeOf(v)
		if err != nil || t == nil {
			continue
		}
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		_ = d.Decode(reflect.New(t).Interface())
	}
}

// EmitJSON emits an event whose data is v encoded as JSON.
func EmitJSON(ctx Context, topic string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("event %s: %w", topic, err)
	}
	ctx.Emit(topic, b)
	return nil
}

// encodeResult is what Run hands the host for a method's result.
func encodeResult(res any) ([]byte, error) {
	if res == nil {
		return nil, nil
	}
	if b, ok := res.([]byte); ok {
		return b, nil
	}
	return json.Marshal(res)
}
