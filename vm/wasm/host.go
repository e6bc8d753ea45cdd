package wasm

import (
	"errors"
	"fmt"
)

// Host is what a contract call may do to the chain. The caller (the
// executor) implements it over the contract's own state namespace and
// decides what to keep: on a failed call it must drop every Put, Delete and
// Emit it was given. A Host is used by one call at a time.
type Host interface {
	// Get returns the value stored under key, and false if there is none.
	Get(key []byte) (value []byte, ok bool, err error)
	// Put stores value under key.
	Put(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
	// Emit records an event.
	Emit(topic string, data []byte) error
	// Range returns, in ascending key order, up to limit entries whose keys
	// k satisfy start <= k < end (an empty end has no upper bound), and
	// whether more follow. It sees the call's own writes. An executor that
	// runs calls in parallel must record the range as read.
	Range(start, end []byte, limit int) (entries []Entry, more bool, err error)

	// CallContract runs method of another contract (a user contract by
	// name, or the native "token") with this contract as its caller and at
	// most gas; it returns the callee's result and the gas it used (at most
	// gas). The callee's effects are kept only if it succeeds, and dropped
	// with the caller's if the caller then fails.
	CallContract(contract, method string, args []byte, gas uint64) (ret []byte, gasUsed uint64, err error)
	// Balance is addr's native token balance.
	Balance(addr string) (uint64, error)
	// Transfer moves amount of the contract's own native tokens to addr.
	Transfer(to string, amount uint64) error
	// Collect moves amount of the calling account's native tokens into the
	// contract's account; only in a call the caller signed directly.
	Collect(amount uint64) error
	// PolicySatisfied reports whether the governance policy named policy is
	// satisfied by the approvals.
	PolicySatisfied(policy string, approvals []Approval) (bool, error)
}

// Approval is one approving member's organisation and role, for
// Host.PolicySatisfied.
type Approval struct {
	Org, Role string
}

// ErrAbort marks a Host error that must end the call (a storage failure)
// rather than be handed to the contract as the result of CallContract,
// Balance, Transfer, Collect or PolicySatisfied, which the contract may
// handle.
var ErrAbort = errors.New("host failure")

// Entry is one key and value returned by Host.Range.
type Entry struct {
	Key, Value []byte
}

// MaxRange is the most entries one state_range call returns.
const MaxRange = 1000

// Call is one invocation of a contract method.
type Call struct {
	// Method is the exported function to run: no parameters, no results.
	Method string
	// Args are the call's arguments (JSON by the SDK's convention), read by
	// the contract through the input host function.
	Args []byte
	// Self is the contract's own address (hex, like Caller).
	Self string
	// Caller is the address of the account that called; CallerOrg and
	// CallerRole are its organisation and role where the chain has them.
	Caller, CallerOrg, CallerRole string
	// TxID is the transaction's id; it also seeds random_get.
	TxID []byte
	// Height and Time (unix milliseconds) are the block's; Time is also
	// what the WASI clocks read.
	Height, Time uint64
	// GasLimit is the most gas the call may use.
	GasLimit uint64
	// Host is the chain side of the call.
	Host Host
}

// Result is what a call produced. It is filled in on failure too: GasUsed
// and Log are meaningful whatever the error.
type Result struct {
	// Return is what the contract passed to set_return.
	Return []byte
	// GasUsed is the gas the call consumed; GasLimit when it ran out.
	GasUsed uint64
	// Log is the start of what the contract wrote to stdout and stderr, at
	// most Params.LogLimit bytes.
	Log []byte
}

var (
	// ErrOutOfGas means the call used all of its gas limit.
	ErrOutOfGas = errors.New("contract call ran out of gas; raise the gas limit")
	// ErrCallDepth means the contract nested calls deeper than
	// Params.MaxCallDepth (unbounded recursion, usually).
	ErrCallDepth = errors.New("contract call nested deeper than the call-depth limit")
	// ErrTrap means the code trapped (unreachable, division by zero,
	// out-of-bounds access...). A Go contract that panics or runs out of
	// memory traps after printing why; the error quotes the log's start.
	ErrTrap = errors.New("contract trapped")
	// ErrWASI means the contract called a WASI function contracts may not
	// use (files, sockets, sleeping, yielding).
	ErrWASI = errors.New("contract called an unsupported WASI function")
	// ErrBadPointer means the contract passed a host function memory it
	// does not have.
	ErrBadPointer = errors.New("contract passed a pointer outside its memory")
	// ErrNoMethod means the contract has no callable export of that name.
	ErrNoMethod = errors.New("contract has no such method")
	// ErrInstall is returned (wrapped) when Install refuses a module.
	ErrInstall = errors.New("contract refused")
	// ErrHost wraps an error the Host returned.
	ErrHost = errors.New("host error")
	// ErrInInit means the contract touched chain state while it was
	// initialised at install, before any call exists.
	ErrInInit = errors.New("contract used a host function during initialisation; move that work into a method")
)

// RevertError is a call the contract ended itself with a message.
type RevertError struct{ Message string }

func (e *RevertError) Error() string { return "contract reverted: " + e.Message }

// ExitError is a call the contract ended through WASI proc_exit; a Go
// contract does that when it panics or calls os.Exit.
type ExitError struct {
	Code uint32
	Log  string // the start of the call's log
}

func (e *ExitError) Error() string {
	if e.Log != "" {
		return fmt.Sprintf("contract exited with code %d: %s", e.Code, e.Log)
	}
	return fmt.Sprintf("contract exited with code %d", e.Code)
}
