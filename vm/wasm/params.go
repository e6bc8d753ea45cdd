package wasm

import (
	"errors"
	"fmt"

	"github.com/accord-chain/accord/vm/wasm/instrument"
)

// Engine selects how wazero runs code.
type Engine int

const (
	// Compiler compiles to machine code ahead of time (amd64, arm64); the node
	// uses it.
	Compiler Engine = iota
	// Interpreter runs everywhere; tests use it as the oracle the compiler
	// must agree with.
	Interpreter
)

func (e Engine) String() string {
	if e == Interpreter {
		return "interpreter"
	}
	return "compiler"
}

// interpreterFrames is wazero's interpreter call-stack ceiling. The depth
// limit must stay well below it (each instrumented frame may call one
// helper), so that the limit, not the engine, decides where recursion fails.
const interpreterFrames = 2000

// ErrBadParams is returned (wrapped) by Params.Validate.
var ErrBadParams = errors.New("invalid contract VM parameters")

// Params are the contract VM's consensus parameters: every node must use the
// same values. Zero fields take the documented defaults in EnsureDefaults.
type Params struct {
	// Engine runs the code. Default Compiler. Not a consensus parameter:
	// both engines give the same results and gas.
	Engine Engine
	// MemoryLimitPages caps a contract's linear memory, in 64 KiB pages;
	// memory.grow past it returns -1. Default 512 (32 MiB).
	MemoryLimitPages uint32
	// MaxCallDepth is the deepest nesting of contract function calls; one
	// more fails the call with ErrCallDepth. Default 1000, at most 1900.
	MaxCallDepth uint32
	// MaxCodeSize is the largest module Install accepts, in bytes.
	// Default 8 MiB.
	MaxCodeSize int
	// LogLimit is how many bytes of a call's stdout/stderr (fd_write) are
	// kept; the rest is counted and charged but dropped. Default 4096.
	LogLimit int
	// InitGas is the gas _initialize may use at install. Default 10^10.
	InitGas uint64
	// Gas is the gas schedule.
	Gas Schedule
}

// Schedule prices a call's work in gas. Instr, Page and Byte are baked into
// the code at install; the host costs apply at each call.
type Schedule struct {
	// Instr is charged per WebAssembly instruction. Default 1.
	Instr uint64
	// Page is charged per 64 KiB page memory.grow asks for. Default 1024.
	Page uint64
	// Byte is charged per 4 bytes (rounded up) of memory.copy and
	// memory.fill. Default 1.
	Byte uint64
	// HostCall is charged per call of a host function. Default 1000.
	HostCall uint64
	// HostByte is charged per byte a host function reads or writes for the
	// contract (keys, values, events, return value, log). Default 2.
	HostByte uint64
	// StateWrite is charged on top of HostCall per state put or delete.
	// Default 10000.
	StateWrite uint64
	// HashByte is charged per byte hashed by the hash host function, on
	// top of HostByte. Default 12.
	HashByte uint64
	// Verify is charged per signature verification. Default 100000.
	Verify uint64
	// RangeEntry is charged per entry state_range returns, on top of
	// HostByte for its bytes. Default 100.
	RangeEntry uint64
	// CallBase is charged once at the start of every call, nested calls
	// included: it pays the fixed cost (instance reset, argument and result
	// copying, the SDK's start-up) that no other charge covers. Default
	// 300000.
	CallBase uint64
}

// DefaultCallBase is Schedule.CallBase's default, sized by
// BenchmarkGasSchedule so that whole small calls (empty, counter, wtoken
// transfer) cost about as much CPU time per gas as the workloads that do
// work: a call's fixed cost is about 20 µs, and the SDK's per-call work
// (argument decoding, result encoding) adds more for real methods.
const DefaultCallBase = 300_000

// EnsureDefaults fills zero fields with their defaults.
func (p *Params) EnsureDefaults() {
	def := func(v *uint64, d uint64) {
		if *v == 0 {
			*v = d
		}
	}
	if p.MemoryLimitPages == 0 {
		p.MemoryLimitPages = 512
	}
	if p.MaxCallDepth == 0 {
		p.MaxCallDepth = 1000
	}
	if p.MaxCodeSize == 0 {
		p.MaxCodeSize = 8 << 20
	}
	if p.LogLimit == 0 {
		p.LogLimit = 4096
	}
	def(&p.InitGas, 10_000_000_000)
	def(&p.Gas.Instr, 1)
	def(&p.Gas.Page, 1024)
	def(&p.Gas.Byte, 1)
	def(&p.Gas.HostCall, 1000)
	def(&p.Gas.HostByte, 2)
	def(&p.Gas.StateWrite, 10_000)
	def(&p.Gas.HashByte, 12)
	def(&p.Gas.Verify, 100_000)
	def(&p.Gas.RangeEntry, 100)
	def(&p.Gas.CallBase, DefaultCallBase)
}

// Validate reports the first out-of-range field. Call it after
// EnsureDefaults.
func (p *Params) Validate() error {
	const maxCost = 1 << 24 // keeps n*cost far from i64 overflow for any u32 n
	switch {
	case p.Engine != Compiler && p.Engine != Interpreter:
		return fmt.Errorf("%w: unknown engine %d", ErrBadParams, p.Engine)
	case p.MemoryLimitPages > 65536:
		return fmt.Errorf("%w: memory limit %d pages is above the 65536 a 32-bit memory has", ErrBadParams, p.MemoryLimitPages)
	case p.MaxCallDepth > interpreterFrames-100:
		return fmt.Errorf("%w: call depth %d is above %d; lower it so the interpreter's own frame limit is never reached", ErrBadParams, p.MaxCallDepth, interpreterFrames-100)
	case p.MaxCodeSize < 8:
		return fmt.Errorf("%w: max code size %d bytes is too small", ErrBadParams, p.MaxCodeSize)
	case p.LogLimit < 0:
		return fmt.Errorf("%w: negative log limit", ErrBadParams)
	case p.InitGas > 1<<62:
		return fmt.Errorf("%w: init gas %d is above 2^62", ErrBadParams, p.InitGas)
	}
	costs := []struct {
		name string
		v    uint64
	}{{"instr", p.Gas.Instr}, {"page", p.Gas.Page}, {"byte", p.Gas.Byte},
		{"host call", p.Gas.HostCall}, {"host byte", p.Gas.HostByte}, {"state write", p.Gas.StateWrite},
		{"hash byte", p.Gas.HashByte}, {"verify", p.Gas.Verify}, {"range entry", p.Gas.RangeEntry},
		{"call base", p.Gas.CallBase}}
	for _, c := range costs {
		if c.v > maxCost {
			return fmt.Errorf("%w: %s cost %d is above %d", ErrBadParams, c.name, c.v, maxCost)
		}
	}
	return nil
}

func (p *Params) instrumentConfig() instrument.Config {
	return instrument.Config{InstrCost: p.Gas.Instr, PageCost: p.Gas.Page, ByteCost: p.Gas.Byte}
}
