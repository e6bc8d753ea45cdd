package usercontract

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/contracts/usercontract/usercall"
	"github.com/accord-chain/accord/vm/wasm"
)

// ErrBadEncoding is returned (wrapped) for arguments or state this package
// cannot decode.
var ErrBadEncoding = usercall.ErrBadEncoding

// EncodeFields and DecodeFields frame the registry's arguments.
var (
	EncodeFields = usercall.EncodeFields
	DecodeFields = usercall.DecodeFields
)

// Status of an installed contract.
type Status uint8

const (
	// Active contracts take calls.
	Active Status = 1
	// Frozen contracts refuse calls until unfrozen.
	Frozen Status = 2
	// Revoked contracts refuse calls for good.
	Revoked Status = 3
)

func (s Status) String() string {
	switch s {
	case Active:
		return "active"
	case Frozen:
		return "frozen"
	case Revoked:
		return "revoked"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Meta is what the registry stores of an installed contract.
type Meta struct {
	Status  Status
	Version uint64 // 1 at install, one more per upgrade
	Code    [32]byte
}

const metaFormat = 1

// Encode writes m as stored: format byte, status byte, u64 version, code
// hash.
func (m Meta) Encode() []byte {
	b := []byte{metaFormat, byte(m.Status)}
	b = binary.BigEndian.AppendUint64(b, m.Version)
	return append(b, m.Code[:]...)
}

// DecodeMeta reads what Meta.Encode writes.
func DecodeMeta(b []byte) (Meta, error) {
	if len(b) != 42 || b[0] != metaFormat {
		return Meta{}, fmt.Errorf("%w: contract metadata of %d bytes (format %v)", ErrBadEncoding, len(b), b[:min(1, len(b))])
	}
	m := Meta{Status: Status(b[1]), Version: binary.BigEndian.Uint64(b[2:10])}
	if m.Status < Active || m.Status > Revoked {
		return Meta{}, fmt.Errorf("%w: contract status %d", ErrBadEncoding, b[1])
	}
	copy(m.Code[:], b[10:])
	return m, nil
}

// Params are the user contracts' chain parameters.
type Params struct {
	// MemoryLimitPages and MaxCallDepth are wasm.Params's.
	MemoryLimitPages uint32
	MaxCallDepth     uint32
	// TxGasDefault is the gas limit of a call whose transaction names none;
	// TxGasMax the most a transaction may name.
	TxGasDefault, TxGasMax uint64
	// BlockGasLimit caps the gas of a block's user-contract calls: a
	// transaction whose limit does not fit in what is left is INVALID in
	// that block.
	BlockGasLimit uint64
	// Gas is the gas schedule.
	Gas wasm.Schedule
}

// Default parameters.
const (
	DefaultTxGas      = usercall.DefaultTxGas
	DefaultTxGasMax   = usercall.DefaultTxGasMax
	DefaultBlockGas   = usercall.DefaultBlockGas
	paramsFormat1     = 1 // 14 fields, no call base
	paramsFormat      = 2
	paramsFieldsCount = 15
)

// DefaultParams are the parameters of a chain that set none.
func DefaultParams() Params {
	p := wasm.Params{}
	p.EnsureDefaults()
	return Params{MemoryLimitPages: p.MemoryLimitPages, MaxCallDepth: p.MaxCallDepth,
		TxGasDefault: DefaultTxGas, TxGasMax: DefaultTxGasMax, BlockGasLimit: DefaultBlockGas, Gas: p.Gas}
}

// ErrBadParams is returned (wrapped) by Params.Validate.
var ErrBadParams = errors.New("invalid user-contract parameters")

// Validate checks p can run.
func (p Params) Validate() error {
	w := p.wasm(wasm.Compiler)
	if err := w.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadParams, err)
	}
	switch {
	case p.TxGasDefault == 0 || p.TxGasDefault > p.TxGasMax:
		return fmt.Errorf("%w: the default gas limit %d must be 1 to the maximum %d", ErrBadParams, p.TxGasDefault, p.TxGasMax)
	case p.TxGasMax > 1<<62:
		return fmt.Errorf("%w: the maximum gas limit %d is above 2^62", ErrBadParams, p.TxGasMax)
	case p.BlockGasLimit < p.TxGasMax:
		return fmt.Errorf("%w: the block gas limit %d is below the transaction maximum %d", ErrBadParams, p.BlockGasLimit, p.TxGasMax)
	}
	return nil
}

func (p Params) wasm(e wasm.Engine) wasm.Params {
	w := wasm.Params{Engine: e, MemoryLimitPages: p.MemoryLimitPages, MaxCallDepth: p.MaxCallDepth, Gas: p.Gas}
	w.EnsureDefaults()
	return w
}

func (p Params) fields() []*uint64 {
	mem, depth := uint64(p.MemoryLimitPages), uint64(p.MaxCallDepth)
	return []*uint64{&mem, &depth, &p.TxGasDefault, &p.TxGasMax, &p.BlockGasLimit, &p.Gas.Instr, &p.Gas.Page,
		&p.Gas.Byte, &p.Gas.HostCall, &p.Gas.HostByte, &p.Gas.StateWrite, &p.Gas.HashByte, &p.Gas.Verify, &p.Gas.RangeEntry, &p.Gas.CallBase}
}

// Encode writes p as stored: a format byte and 15 u64s big-endian.
func (p Params) Encode() []byte {
	b := []byte{paramsFormat}
	for _, f := range p.fields() {
		b = binary.BigEndian.AppendUint64(b, *f)
	}
	return b
}

// DecodeParams reads what Params.Encode writes and validates it.
func DecodeParams(b []byte) (Params, error) {
	// Format 1 predates the call base charge: it decodes with the default.
	n := paramsFieldsCount
	if len(b) > 0 && b[0] == paramsFormat1 {
		n--
	}
	if len(b) != 1+8*n || (b[0] != paramsFormat && b[0] != paramsFormat1) {
		return Params{}, fmt.Errorf("%w: parameters of %d bytes", ErrBadEncoding, len(b))
	}
	var v [paramsFieldsCount]uint64
	v[paramsFieldsCount-1] = wasm.DefaultCallBase
	for i := range n {
		v[i] = binary.BigEndian.Uint64(b[1+8*i:])
	}
	if v[0] > 1<<16 || v[1] > 1<<16 {
		return Params{}, fmt.Errorf("%w: memory limit %d pages, call depth %d", ErrBadParams, v[0], v[1])
	}
	p := Params{MemoryLimitPages: uint32(v[0]), MaxCallDepth: uint32(v[1]), TxGasDefault: v[2], TxGasMax: v[3], BlockGasLimit: v[4],
		Gas: wasm.Schedule{Instr: v[5], Page: v[6], Byte: v[7], HostCall: v[8], HostByte: v[9], StateWrite: v[10], HashByte: v[11], Verify: v[12], RangeEntry: v[13], CallBase: v[14]}}
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}

// paramsOfGov is the parameters a permissioned chain's governance set
// (zero fields keep the defaults).
func paramsOfGov(g govcall.Params) Params {
	p := DefaultParams()
	set := func(dst *uint64, v uint64) {
		if v != 0 {
			*dst = v
		}
	}
	if g.ContractMemoryPages != 0 {
		p.MemoryLimitPages = uint32(g.ContractMemoryPages)
	}
	if g.ContractCallDepth != 0 {
		p.MaxCallDepth = uint32(g.ContractCallDepth)
	}
	set(&p.TxGasDefault, g.ContractTxGas)
	set(&p.TxGasMax, g.ContractTxGasMax)
	set(&p.BlockGasLimit, g.ContractBlockGas)
	set(&p.Gas.Instr, g.GasInstr)
	set(&p.Gas.Page, g.GasPage)
	set(&p.Gas.Byte, g.GasByte)
	set(&p.Gas.HostCall, g.GasHostCall)
	set(&p.Gas.HostByte, g.GasHostByte)
	set(&p.Gas.StateWrite, g.GasStateWrite)
	set(&p.Gas.HashByte, g.GasHashByte)
	set(&p.Gas.Verify, g.GasVerify)
	set(&p.Gas.RangeEntry, g.GasRangeEntry)
	set(&p.Gas.CallBase, g.GasCallBase)
	return p
}
