// Package instrument rewrites a contract's WebAssembly binary at install time
// so that running it is deterministic and bounded on any engine: gas charged
// per basic block, per page of memory.grow and per byte of memory.copy and
// memory.fill; a call-depth counter at every function entry and exit; NaN
// results of float arithmetic canonicalised; every mutable global exported so
// the host can reset it between calls.
//
// It owns the binary parser and rewriter only. It decides nothing about
// which imports a contract may use; it reports them in Info and the caller
// (vm/wasm) judges. It must not depend on a runtime: its output is plain
// bytes that any WebAssembly 2.0 engine runs the same way.
package instrument

import (
	"bytes"
	"fmt"
)

// Names of the globals the instrumentation adds and exports. A module that
// already exports a name with this prefix is refused.
const (
	ReservedPrefix = "__accord_"
	// GasGlobal (mutable i64) holds the gas left; the host sets it before a
	// call and reads it after. It goes negative only when the call ran out.
	GasGlobal = "__accord_gas"
	// DepthGlobal (mutable i32) counts the active instrumented frames.
	DepthGlobal = "__accord_depth"
	// DepthLimitGlobal (mutable i32) is the deepest allowed DepthGlobal; the
	// host sets it so the limit is a chain parameter, not baked into code.
	DepthLimitGlobal = "__accord_depth_limit"
	// StatePrefix prefixes the export of each mutable global the module
	// itself defines ("__accord_g" + its index), for snapshot and reset.
	StatePrefix = "__accord_g"
)

// Config is the gas schedule baked into the code at install time. Changing
// it requires instrumenting the contract again.
type Config struct {
	// InstrCost is charged per WebAssembly instruction, counted per basic
	// block before the block runs. Default 1.
	InstrCost uint64
	// PageCost is charged per 64 KiB page requested by memory.grow, whether
	// or not the grow succeeds. Default 1024.
	PageCost uint64
	// ByteCost is charged per 4 bytes (rounded up) of memory.copy and
	// memory.fill. Default 1.
	ByteCost uint64
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	if c.InstrCost == 0 {
		c.InstrCost = 1
	}
	if c.PageCost == 0 {
		c.PageCost = 1024
	}
	if c.ByteCost == 0 {
		c.ByteCost = 1
	}
}

// ValType is a WebAssembly value type byte (0x7f i32, 0x7e i64, 0x7d f32,
// 0x7c f64, 0x70 funcref, 0x6f externref).
type ValType byte

// Value types.
const (
	I32       ValType = 0x7f
	I64       ValType = 0x7e
	F32       ValType = 0x7d
	F64       ValType = 0x7c
	V128      ValType = 0x7b
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6f
)

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

// Equal reports whether two signatures are the same.
func (t FuncType) Equal(o FuncType) bool {
	return bytes.Equal(vt(t.Params), vt(o.Params)) && bytes.Equal(vt(t.Results), vt(o.Results))
}

func vt(v []ValType) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func (t FuncType) String() string {
	s := "("
	for i, p := range t.Params {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	s += ") -> ("
	for i, p := range t.Results {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	return s + ")"
}

func (v ValType) String() string {
	switch v {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("0x%02x", byte(v))
}

// Import is one imported function.
type Import struct {
	Module, Name string
	Type         FuncType
}

// Export is one exported function.
type Export struct {
	Name string
	Type FuncType
}

// Info describes the original module, for the caller's install checks.
type Info struct {
	Imports []Import
	// Funcs are the exported functions, in export order.
	Funcs []Export
	// MemoryExport is the name the memory is exported as ("" if it is not).
	MemoryExport string
	HasMemory    bool
	MemoryMin    uint32 // initial pages
	// StateGlobals are the export names the instrumented module gives each
	// mutable global of the original, in index order.
	StateGlobals []string
}

type module struct {
	types        []FuncType
	imports      []Import
	funcTypes    []uint32 // type index of each defined function
	globals      []bool   // mutability of each defined global
	sections     map[byte][]byte
	name         []byte // the "name" custom section, kept for readable traps
	dataSegments int
	exportNames  map[string]bool
	info         Info
}

var sectionOrder = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}

// Instrument validates a module and returns its instrumented binary and a
// description of the original. Errors wrap ErrMalformed or ErrUnsupported
// and name what is wrong.
func Instrument(wasm []byte, cfg Config) ([]byte, *Info, error) {
	cfg.EnsureDefaults()
	m, err := parse(wasm)
	if err != nil {
		return nil, nil, err
	}
	out, err := m.rewrite(cfg)
	if err != nil {
		return nil, nil, err
	}
	return out, &m.info, nil
}

func parse(wasm []byte) (*module, error) {
	r := &reader{b: wasm}
	head, err := r.bytes(8)
	if err != nil || !bytes.Equal(head, []byte{0, 'a', 's', 'm', 1, 0, 0, 0}) {
		return nil, fmt.Errorf("%w: not a WebAssembly 1.0 binary (bad magic or version)", ErrMalformed)
	}
	m := &module{sections: map[byte][]byte{}, exportNames: map[string]bool{}}
	last := 0
	for !r.eof() {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		payload, err := r.bytes(int(n))
		if err != nil {
			return nil, err
		}
		if id == 0 {
			pr := &reader{b: payload}
			name, err := pr.name()
			if err != nil {
				return nil, err
			}
			if name == "name" {
				m.name = payload
			}
			continue
		}
		ord, ok := sectionOrder[id]
		if !ok {
			return nil, fmt.Errorf("%w: unknown section id %d", ErrMalformed, id)
		}
		if ord <= last {
			return nil, fmt.Errorf("%w: section %d is duplicated or out of order", ErrMalformed, id)
		}
		last = ord
		m.sections[id] = payload
	}
	steps := []struct {
		id byte
		fn func(*reader) error
	}{{1, m.parseTypes}, {2, m.parseImports}, {3, m.parseFuncs}, {4, m.parseTables}, {5, m.parseMemory},
		{6, m.parseGlobals}, {7, m.parseExports}, {9, m.countOnly("element segments")}, {11, m.countOnly("data segments")}}
	for _, s := range steps {
		p, ok := m.sections[s.id]
		if !ok {
			continue
		}
		r := &reader{b: p}
		if err := s.fn(r); err != nil {
			return nil, err
		}
		if !r.eof() && s.id != 9 && s.id != 11 {
			return nil, fmt.Errorf("%w: trailing bytes in section %d", ErrMalformed, s.id)
		}
	}
	if p, ok := m.sections[12]; ok {
		r := &reader{b: p}
		n, err := r.u32()
		if err != nil || !r.eof() {
			return nil, fmt.Errorf("%w: the data count section holds no single count", ErrMalformed)
		}
		if int64(n) != int64(m.dataSegments) {
			return nil, fmt.Errorf("%w: data count %d but %d data segments", ErrMalformed, n, m.dataSegments)
		}
	}
	if _, ok := m.sections[8]; ok {
		return nil, fmt.Errorf("%w: a start function (contracts are reactors: export _initialize instead)", ErrUnsupported)
	}
	return m, nil
}

func (m *module) count(r *reader, what string, max int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	// Every entry takes at least one byte, so a count above the bytes left is
	// malformed; checking it first keeps outside bytes from forcing huge
	// allocations.
	if int(n) > len(r.b)-r.pos || int(n) > max {
		return 0, fmt.Errorf("%w: %d %s is more than the section holds", ErrMalformed, n, what)
	}
	return int(n), nil
}

func (m *module) valType(r *reader) (ValType, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch v := ValType(c); v {
	case I32, I64, F32, F64, FuncRef, ExternRef:
		return v, nil
	case V128:
		return 0, fmt.Errorf("%w: the v128 type (SIMD)", ErrUnsupported)
	}
	return 0, r.fail(fmt.Sprintf("unknown value type 0x%02x", c))
}

func (m *module) parseTypes(r *reader) error {
	n, err := m.count(r, "types", 1<<20)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if c, err := r.byte(); err != nil || c != 0x60 {
			return r.fail("type is not a function type")
		}
		var t FuncType
		for _, dst := range []*[]ValType{&t.Params, &t.Results} {
			k, err := m.count(r, "value types", 1000)
			if err != nil {
				return err
			}
			for j := 0; j < k; j++ {
				v, err := m.valType(r)
				if err != nil {
					return err
				}
				*dst = append(*dst, v)
			}
		}
		m.types = append(m.types, t)
	}
	return nil
}

func (m *module) typeAt(idx uint32) (FuncType, error) {
	if int64(idx) >= int64(len(m.types)) {
		return FuncType{}, fmt.Errorf("%w: type index %d out of range", ErrMalformed, idx)
	}
	return m.types[idx], nil
}

func (m *module) parseImports(r *reader) error {
	n, err := m.count(r, "imports", 1<<16)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		mod, err := r.name()
		if err != nil {
			return err
		}
		name, err := r.name()
		if err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		if kind != 0 {
			kinds := map[byte]string{1: "table", 2: "memory", 3: "global"}
			k := kinds[kind]
			if k == "" {
				k = fmt.Sprintf("kind %d", kind)
			}
			return fmt.Errorf("%w: import %s.%s is a %s; contracts may import only functions", ErrUnsupported, mod, name, k)
		}
		idx, err := r.u32()
		if err != nil {
			return err
		}
		t, err := m.typeAt(idx)
		if err != nil {
			return err
		}
		m.imports = append(m.imports, Import{Module: mod, Name: name, Type: t})
	}
	m.info.Imports = m.imports
	return nil
}

func (m *module) parseFuncs(r *reader) error {
	n, err := m.count(r, "functions", 1<<20)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		idx, err := r.u32()
		if err != nil {
			return err
		}
		if _, err := m.typeAt(idx); err != nil {
			return err
		}
		m.funcTypes = append(m.funcTypes, idx)
	}
	return nil
}

// MaxTableSize bounds a table's initial size: instantiation allocates it.
const MaxTableSize = 1 << 17

// countOnly checks a section's entry count against its size, so that no
// later decoder allocates by a count the bytes cannot back.
func (m *module) countOnly(what string) func(*reader) error {
	return func(r *reader) error {
		n, err := m.count(r, what, 1<<20)
		if what == "data segments" {
			m.dataSegments = n
		}
		r.pos = len(r.b)
		return err
	}
}

func (m *module) parseTables(r *reader) error {
	n, err := m.count(r, "tables", 1)
	if err != nil {
		return fmt.Errorf("%w (a contract has at most one table)", err)
	}
	for i := 0; i < n; i++ {
		if _, err := m.valType(r); err != nil {
			return err
		}
		flags, err := r.byte()
		if err != nil {
			return err
		}
		if flags > 1 {
			return r.fail("bad table limits")
		}
		min, err := r.u32()
		if err != nil {
			return err
		}
		if min > MaxTableSize {
			return fmt.Errorf("%w: a table of %d entries (at most %d)", ErrUnsupported, min, MaxTableSize)
		}
		if flags == 1 {
			if _, err := r.u32(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *module) parseMemory(r *reader) error {
	n, err := m.count(r, "memories", 1<<10)
	if err != nil {
		return err
	}
	if n > 1 {
		return fmt.Errorf("%w: %d memories (multi-memory); a contract has one", ErrUnsupported, n)
	}
	if n == 0 {
		return nil
	}
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if flags&^1 != 0 {
		return fmt.Errorf("%w: memory flags 0x%02x (shared or 64-bit memory)", ErrUnsupported, flags)
	}
	min, err := r.u32()
	if err != nil {
		return err
	}
	if flags&1 != 0 {
		max, err := r.u32()
		if err != nil {
			return err
		}
		if max < min {
			return r.fail("memory maximum below its minimum")
		}
	}
	m.info.HasMemory = true
	m.info.MemoryMin = min
	return nil
}

// constExpr skips a constant initialiser expression up to its end.
func (m *module) constExpr(r *reader) error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		switch op {
		case 0x0b:
			return nil
		case 0x41:
			err = r.skipSigned(5)
		case 0x42:
			err = r.skipSigned(10)
		case 0x43:
			_, err = r.bytes(4)
		case 0x44:
			_, err = r.bytes(8)
		case 0x23, 0xd2:
			_, err = r.u32()
		case 0xd0:
			_, err = r.byte()
		default:
			return r.fail(fmt.Sprintf("opcode 0x%02x in a constant expression", op))
		}
		if err != nil {
			return err
		}
	}
}

func (m *module) parseGlobals(r *reader) error {
	n, err := m.count(r, "globals", 1<<20)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if _, err := m.valType(r); err != nil {
			return err
		}
		mut, err := r.byte()
		if err != nil {
			return err
		}
		if mut > 1 {
			return r.fail("bad global mutability")
		}
		if err := m.constExpr(r); err != nil {
			return err
		}
		m.globals = append(m.globals, mut == 1)
	}
	return nil
}

func (m *module) parseExports(r *reader) error {
	n, err := m.count(r, "exports", 1<<20)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		name, err := r.name()
		if err != nil {
			return err
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		idx, err := r.u32()
		if err != nil {
			return err
		}
		if m.exportNames[name] {
			return fmt.Errorf("%w: export %q is duplicated", ErrMalformed, name)
		}
		m.exportNames[name] = true
		if len(name) >= len(ReservedPrefix) && name[:len(ReservedPrefix)] == ReservedPrefix {
			return fmt.Errorf("%w: export %q uses the reserved prefix %s", ErrUnsupported, name, ReservedPrefix)
		}
		switch kind {
		case 0:
			var t FuncType
			if int64(idx) < int64(len(m.imports)) {
				t = m.imports[idx].Type
			} else {
				d := int64(idx) - int64(len(m.imports))
				if d >= int64(len(m.funcTypes)) {
					return fmt.Errorf("%w: export %q names function %d, which does not exist", ErrMalformed, name, idx)
				}
				t = m.types[m.funcTypes[d]]
			}
			m.info.Funcs = append(m.info.Funcs, Export{Name: name, Type: t})
		case 2:
			m.info.MemoryExport = name
		case 1, 3:
		default:
			return r.fail(fmt.Sprintf("unknown export kind %d", kind))
		}
	}
	return nil
}

// Indices of what rewrite appends. Appending keeps every original index
// valid, so element, data and name sections are copied unchanged.
type added struct {
	tGas, tI32, tF32, tF64 uint32
	fGas, fGrow, fBytes    uint32
	fCanon32, fCanon64     uint32
	gGas, gDepth, gLimit   uint32
	blockTypes             map[string]uint32
}

func (m *module) rewrite(cfg Config) ([]byte, error) {
	nt := uint32(len(m.types))
	var a added
	a.tGas, a.tI32, a.tF32, a.tF64 = nt, nt+1, nt+2, nt+3
	extraTypes := []FuncType{
		{Params: []ValType{I64}},
		{Params: []ValType{I32}, Results: []ValType{I32}},
		{Params: []ValType{F32}, Results: []ValType{F32}},
		{Params: []ValType{F64}, Results: []ValType{F64}},
	}
	a.blockTypes = map[string]uint32{}
	nf := uint32(len(m.imports) + len(m.funcTypes))
	a.fGas, a.fGrow, a.fBytes, a.fCanon32, a.fCanon64 = nf, nf+1, nf+2, nf+3, nf+4
	ng := uint32(len(m.globals))
	a.gGas, a.gDepth, a.gLimit = ng, ng+1, ng+2

	// Code.
	code := m.sections[10]
	cr := &reader{b: code}
	var nbodies int
	if code != nil {
		var err error
		if nbodies, err = m.count(cr, "function bodies", 1<<20); err != nil {
			return nil, err
		}
	}
	if nbodies != len(m.funcTypes) {
		return nil, fmt.Errorf("%w: %d function bodies for %d functions", ErrMalformed, nbodies, len(m.funcTypes))
	}
	var bodies []byte
	bodies = appendU32(bodies, uint32(nbodies+nHelpers))
	for i := 0; i < nbodies; i++ {
		size, err := cr.u32()
		if err != nil {
			return nil, err
		}
		body, err := cr.bytes(int(size))
		if err != nil {
			return nil, err
		}
		ft := m.types[m.funcTypes[i]]
		var bt []byte
		switch len(ft.Results) {
		case 0:
			bt = []byte{0x40}
		case 1:
			bt = []byte{byte(ft.Results[0])}
		default:
			key := string(vt(ft.Results))
			idx, ok := a.blockTypes[key]
			if !ok {
				idx = nt + uint32(len(extraTypes))
				extraTypes = append(extraTypes, FuncType{Results: ft.Results})
				a.blockTypes[key] = idx
			}
			bt = appendS64(nil, int64(idx))
		}
		nb, err := m.rewriteBody(body, bt, &a, cfg)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", len(m.imports)+i, err)
		}
		bodies = appendU32(bodies, uint32(len(nb)))
		bodies = append(bodies, nb...)
	}
	if !cr.eof() && code != nil {
		return nil, fmt.Errorf("%w: trailing bytes in the code section", ErrMalformed)
	}
	for _, h := range helpers(&a, cfg) {
		bodies = appendU32(bodies, uint32(len(h)))
		bodies = append(bodies, h...)
	}

	// Types: originals then ours.
	var types []byte
	types = appendU32(types, uint32(len(m.types)+len(extraTypes)))
	if p := m.sections[1]; p != nil {
		r := &reader{b: p}
		_, _ = r.u32()
		types = append(types, p[r.pos:]...)
	}
	for _, t := range extraTypes {
		types = append(types, 0x60)
		types = appendU32(types, uint32(len(t.Params)))
		types = append(types, vt(t.Params)...)
		types = appendU32(types, uint32(len(t.Results)))
		types = append(types, vt(t.Results)...)
	}

	// Functions.
	var funcs []byte
	funcs = appendU32(funcs, uint32(len(m.funcTypes)+nHelpers))
	for _, t := range m.funcTypes {
		funcs = appendU32(funcs, t)
	}
	for _, t := range []uint32{a.tGas, a.tI32, a.tI32, a.tF32, a.tF64} {
		funcs = appendU32(funcs, t)
	}

	// Globals: originals then gas (i64), depth and depth limit (i32).
	var globals []byte
	globals = appendU32(globals, uint32(len(m.globals)+3))
	if p := m.sections[6]; p != nil {
		r := &reader{b: p}
		_, _ = r.u32()
		globals = append(globals, p[r.pos:]...)
	}
	globals = append(globals, byte(I64), 1, 0x42, 0, 0x0b)
	globals = append(globals, byte(I32), 1, 0x41, 0, 0x0b)
	globals = append(globals, byte(I32), 1, 0x41, 0, 0x0b)

	// Exports: originals, our globals, then each original mutable global.
	var state []uint32
	for i, mut := range m.globals {
		if mut {
			state = append(state, uint32(i))
		}
	}
	var exports []byte
	nexp := 0
	var rest []byte
	if p := m.sections[7]; p != nil {
		r := &reader{b: p}
		n, _ := r.u32()
		nexp = int(n)
		rest = p[r.pos:]
	}
	exports = appendU32(exports, uint32(nexp+3+len(state)))
	exports = append(exports, rest...)
	addGlobal := func(name string, idx uint32) {
		exports = appendU32(exports, uint32(len(name)))
		exports = append(exports, name...)
		exports = append(exports, 3)
		exports = appendU32(exports, idx)
	}
	addGlobal(GasGlobal, a.gGas)
	addGlobal(DepthGlobal, a.gDepth)
	addGlobal(DepthLimitGlobal, a.gLimit)
	for _, g := range state {
		name := fmt.Sprintf("%s%d", StatePrefix, g)
		addGlobal(name, g)
		m.info.StateGlobals = append(m.info.StateGlobals, name)
	}

	m.sections[1], m.sections[3], m.sections[6], m.sections[7], m.sections[10] = types, funcs, globals, exports, bodies
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	for _, id := range []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11} {
		if p, ok := m.sections[id]; ok {
			out = appendSection(out, id, p)
		}
	}
	if m.name != nil {
		out = appendSection(out, 0, m.name)
	}
	return out, nil
}

// nHelpers is how many functions rewrite appends.
const nHelpers = 5

// helpers returns the bodies of the functions rewrite appends, in the order
// of added's function indices. They are not instrumented themselves.
func helpers(a *added, cfg Config) [][]byte {
	g := func(op byte, idx uint32) []byte { return appendU32([]byte{op}, idx) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	trapIf := []byte{0x04, 0x40, 0x00, 0x0b} // if unreachable end
	// gas(cost i64): gas -= cost; trap if gas < 0.
	gas := cat([]byte{0}, g(0x23, a.gGas), []byte{0x20, 0, 0x7d}, g(0x24, a.gGas),
		g(0x23, a.gGas), []byte{0x42, 0, 0x53}, trapIf, []byte{0x0b})
	// charge(n i32) i32: gas(n * cost); n.
	charge := func(cost uint64) []byte {
		return cat([]byte{0, 0x20, 0, 0xad, 0x42}, appendS64(nil, int64(cost)), []byte{0x7e},
			g(0x10, a.fGas), []byte{0x20, 0, 0x0b})
	}
	// chargeWords(n i32) i32: gas(ceil(n/4) * cost); n. Bulk memory runs
	// several bytes per nanosecond, so a byte costs less than the unit of
	// gas (one instruction): it is charged per 4-byte word.
	chargeWords := func(cost uint64) []byte {
		return cat([]byte{0, 0x20, 0, 0xad, 0x42, 3, 0x7c, 0x42, 2, 0x88, 0x42}, appendS64(nil, int64(cost)), []byte{0x7e},
			g(0x10, a.fGas), []byte{0x20, 0, 0x0b})
	}
	// canon(x) = x == x ? x : canonical NaN.
	canon32 := cat([]byte{0, 0x20, 0, 0x43}, le(0x7fc00000, 4),
		[]byte{0x20, 0, 0x20, 0, 0x5b, 0x1b, 0x0b})
	canon64 := cat([]byte{0, 0x20, 0, 0x44}, le(0x7ff8000000000000, 8),
		[]byte{0x20, 0, 0x20, 0, 0x61, 0x1b, 0x0b})
	return [][]byte{gas, charge(cfg.PageCost), chargeWords(cfg.ByteCost), canon32, canon64}
}

func le(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}
