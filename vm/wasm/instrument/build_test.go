package instrument

// A minimal module assembler for tests: enough to write small functions as
// raw opcodes without a text-format toolchain.

type tfunc struct {
	typ    FuncType
	locals []byte // raw locals vector; nil means none
	code   []byte // expression including the final end (0x0b)
	export string
}

type tmod struct {
	imports []Import
	funcs   []tfunc
	memMin  uint32
	noMem   bool
	globals []byte // raw global entries
	nglob   int
	start   bool // add a start section naming function 0
}

func vec(n int, items ...[]byte) []byte {
	b := appendU32(nil, uint32(n))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func encType(t FuncType) []byte {
	b := []byte{0x60}
	b = appendU32(b, uint32(len(t.Params)))
	b = append(b, vt(t.Params)...)
	b = appendU32(b, uint32(len(t.Results)))
	return append(b, vt(t.Results)...)
}

func encName(s string) []byte { return append(appendU32(nil, uint32(len(s))), s...) }

func (m tmod) bytes() []byte {
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	var types [][]byte
	for _, im := range m.imports {
		types = append(types, encType(im.Type))
	}
	for _, f := range m.funcs {
		types = append(types, encType(f.typ))
	}
	out = appendSection(out, 1, vec(len(types), types...))
	if len(m.imports) > 0 {
		var ims [][]byte
		for i, im := range m.imports {
			e := append(encName(im.Module), encName(im.Name)...)
			e = append(e, 0)
			ims = append(ims, appendU32(e, uint32(i)))
		}
		out = appendSection(out, 2, vec(len(ims), ims...))
	}
	var fs [][]byte
	for i := range m.funcs {
		fs = append(fs, appendU32(nil, uint32(len(m.imports)+i)))
	}
	out = appendSection(out, 3, vec(len(fs), fs...))
	if !m.noMem {
		out = appendSection(out, 5, vec(1, append([]byte{0}, appendU32(nil, m.memMin)...)))
	}
	if m.nglob > 0 {
		out = appendSection(out, 6, vec(m.nglob, m.globals))
	}
	var ex [][]byte
	if !m.noMem {
		ex = append(ex, append(encName("memory"), 2, 0))
	}
	for i, f := range m.funcs {
		if f.export != "" {
			ex = append(ex, appendU32(append(encName(f.export), 0), uint32(len(m.imports)+i)))
		}
	}
	out = appendSection(out, 7, vec(len(ex), ex...))
	if m.start {
		out = appendSection(out, 8, u32(0))
	}
	var bodies [][]byte
	for _, f := range m.funcs {
		l := f.locals
		if l == nil {
			l = []byte{0}
		}
		b := append(append([]byte{}, l...), f.code...)
		bodies = append(bodies, append(appendU32(nil, uint32(len(b))), b...))
	}
	out = appendSection(out, 10, vec(len(bodies), bodies...))
	return out
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func i32c(v int32) []byte { return append([]byte{0x41}, appendS64(nil, int64(v))...) }
func i64c(v int64) []byte { return append([]byte{0x42}, appendS64(nil, v)...) }
func op(b ...byte) []byte { return b }
func u32(v uint32) []byte { return appendU32(nil, v) }
