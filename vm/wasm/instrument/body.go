package instrument

import "fmt"

// ins is one decoded instruction: its opcode (and 0xFC sub-opcode) and
// where its bytes lie in the body.
type ins struct {
	start, end int
	op         byte
	sub        uint32
}

// canonAfter says which NaN canonicaliser follows an opcode: 32 or 64 for
// the float operations whose NaN results the spec leaves nondeterministic
// (arithmetic, rounding, min/max, demote/promote); 0 for the rest (abs,
// neg, copysign and reinterpret only move bits).
func canonAfter(op byte) int {
	switch {
	case op >= 0x8d && op <= 0x97, op == 0xb6:
		return 32
	case op >= 0x9b && op <= 0xa5, op == 0xbb:
		return 64
	}
	return 0
}

var fcNames = map[uint32]string{8: "memory.init", 9: "data.drop", 12: "table.init", 13: "elem.drop", 14: "table.copy", 15: "table.grow", 17: "table.fill"}

// decode splits a function body's expression into instructions, checking
// every immediate's bounds, and refuses instructions contracts may not use.
func decode(r *reader) ([]ins, error) {
	var list []ins
	depth := 0
	for {
		start := r.pos
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		var sub uint32
		switch {
		case op == 0x00 || op == 0x01 || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1 || op == 0x05:
		case op == 0x02 || op == 0x03 || op == 0x04:
			depth++
			c, err := r.byte()
			if err != nil {
				return nil, err
			}
			switch {
			case c == 0x40 || c == byte(I32) || c == byte(I64) || c == byte(F32) || c == byte(F64) || c == byte(FuncRef) || c == byte(ExternRef):
			case c == byte(V128):
				return nil, fmt.Errorf("%w: the v128 type (SIMD)", ErrUnsupported)
			default:
				r.pos--
				if _, err := r.s33(); err != nil {
					return nil, err
				}
			}
		case op == 0x0b:
			depth--
		case op == 0x0c || op == 0x0d || (op >= 0x20 && op <= 0x24) || op == 0x25 || op == 0x10 || op == 0xd2:
			if _, err := r.u32(); err != nil {
				return nil, err
			}
		case op == 0x26:
			return nil, fmt.Errorf("%w: table.set (tables must not change between calls)", ErrUnsupported)
		case op == 0x0e:
			n, err := r.u32()
			if err != nil {
				return nil, err
			}
			if int64(n) > int64(len(r.b)-r.pos) {
				return nil, r.fail("br_table longer than the body")
			}
			for i := uint32(0); i <= n; i++ {
				if _, err := r.u32(); err != nil {
					return nil, err
				}
			}
		case op == 0x11:
			if _, err := r.u32(); err != nil {
				return nil, err
			}
			if _, err := r.u32(); err != nil {
				return nil, err
			}
		case op == 0x12 || op == 0x13:
			return nil, fmt.Errorf("%w: tail calls (return_call)", ErrUnsupported)
		case op == 0x1c:
			n, err := r.u32()
			if err != nil {
				return nil, err
			}
			if n != 1 {
				return nil, r.fail("select with other than one type")
			}
			if c, err := r.byte(); err != nil {
				return nil, err
			} else if ValType(c) == V128 {
				return nil, fmt.Errorf("%w: the v128 type (SIMD)", ErrUnsupported)
			}
		case op >= 0x28 && op <= 0x3e:
			align, err := r.u32()
			if err != nil {
				return nil, err
			}
			if align&0x40 != 0 {
				return nil, fmt.Errorf("%w: a memory index (multi-memory)", ErrUnsupported)
			}
			if _, err := r.u32(); err != nil {
				return nil, err
			}
		case op == 0x3f || op == 0x40:
			if c, err := r.byte(); err != nil {
				return nil, err
			} else if c != 0 {
				return nil, fmt.Errorf("%w: a memory index (multi-memory)", ErrUnsupported)
			}
		case op == 0x41:
			if err := r.skipSigned(5); err != nil {
				return nil, err
			}
		case op == 0x42:
			if err := r.skipSigned(10); err != nil {
				return nil, err
			}
		case op == 0x43:
			if _, err := r.bytes(4); err != nil {
				return nil, err
			}
		case op == 0x44:
			if _, err := r.bytes(8); err != nil {
				return nil, err
			}
		case op >= 0x45 && op <= 0xc4:
		case op == 0xd0:
			if _, err := r.byte(); err != nil {
				return nil, err
			}
		case op == 0xfc:
			if sub, err = r.u32(); err != nil {
				return nil, err
			}
			switch {
			case sub <= 7:
			case sub == 10:
				if _, err := r.bytes(2); err != nil {
					return nil, err
				}
				if r.b[r.pos-2] != 0 || r.b[r.pos-1] != 0 {
					return nil, fmt.Errorf("%w: a memory index (multi-memory)", ErrUnsupported)
				}
			case sub == 11:
				if c, err := r.byte(); err != nil {
					return nil, err
				} else if c != 0 {
					return nil, fmt.Errorf("%w: a memory index (multi-memory)", ErrUnsupported)
				}
			case sub == 16:
				if _, err := r.u32(); err != nil {
					return nil, err
				}
			case fcNames[sub] != "":
				return nil, fmt.Errorf("%w: %s (segments and tables must not change between calls)", ErrUnsupported, fcNames[sub])
			default:
				return nil, fmt.Errorf("%w: unknown instruction 0xfc %d", ErrMalformed, sub)
			}
		case op == 0xfd:
			return nil, fmt.Errorf("%w: SIMD instructions", ErrUnsupported)
		case op == 0xfe:
			return nil, fmt.Errorf("%w: threads (atomic instructions)", ErrUnsupported)
		default:
			return nil, fmt.Errorf("%w: unknown opcode 0x%02x at byte %d", ErrMalformed, op, start)
		}
		list = append(list, ins{start: start, end: r.pos, op: op, sub: sub})
		if depth < 0 {
			if !r.eof() {
				return nil, r.fail("bytes after the function's end")
			}
			return list, nil
		}
	}
}

// rewriteBody instruments one function body. The original expression is
// wrapped in a block of the function's result type (bt), so a branch to the
// function's own label lands before the depth decrement:
//
//	enter; block bt; <charged, rewritten body>; end; leave; end
//
// Gas charges and the depth counter are inline: calling a helper for each
// made a tight loop about six times slower on the compiler engine.
func (m *module) rewriteBody(body []byte, bt []byte, a *added, cfg Config) ([]byte, error) {
	r := &reader{b: body}
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	var total uint64
	for i := uint32(0); i < groups; i++ {
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		total += uint64(n)
		if total > 50000 {
			return nil, fmt.Errorf("%w: more than 50000 locals", ErrUnsupported)
		}
		if _, err := m.valType(r); err != nil {
			return nil, err
		}
	}
	locals := body[:r.pos]
	list, err := decode(r)
	if err != nil {
		return nil, err
	}

	// A charge point sits before the first instruction and after every
	// instruction that starts a block others can jump to or fall into (loop,
	// if, else, end) or that may branch away (br_if). Each charge pays for
	// the instructions up to the next point before they run, so a loop pays
	// on every iteration and an out-of-gas trap fires before the work.
	cost := make([]uint64, len(list)+1)
	point := 0
	for i, in := range list {
		cost[point] += cfg.InstrCost
		switch in.op {
		case 0x03, 0x04, 0x05, 0x0b, 0x0d:
			point = i + 1
		}
	}

	call := func(b []byte, f uint32) []byte { return appendU32(append(b, 0x10), f) }
	gget := func(b []byte, g uint32) []byte { return appendU32(append(b, 0x23), g) }
	gset := func(b []byte, g uint32) []byte { return appendU32(append(b, 0x24), g) }
	// depth++; if depth > limit (unsigned) { unreachable }
	enter := func(b []byte) []byte {
		b = append(gget(b, a.gDepth), 0x41, 1, 0x6a)
		b = gget(gget(gset(b, a.gDepth), a.gDepth), a.gLimit)
		return append(b, 0x4b, 0x04, 0x40, 0x00, 0x0b)
	}
	// depth--
	leave := func(b []byte) []byte { return gset(append(gget(b, a.gDepth), 0x41, 1, 0x6b), a.gDepth) }
	out := make([]byte, 0, len(body)*3+32)
	out = append(out, locals...)
	out = enter(out)
	out = append(out, 0x02)
	out = append(out, bt...)
	for i, in := range list {
		if c := cost[i]; c > 0 {
			// Inline rather than a call to the gas helper: several times
			// faster on the compiler in tight loops.
			// gas -= c; if gas < 0 { unreachable }
			out = appendS64(append(gget(out, a.gGas), 0x42), int64(c))
			out = gget(gset(append(out, 0x7d), a.gGas), a.gGas)
			out = append(out, 0x42, 0, 0x53, 0x04, 0x40, 0x00, 0x0b)
		}
		switch {
		case in.op == 0x0f:
			out = leave(out)
		case in.op == 0x40:
			out = call(out, a.fGrow)
		case in.op == 0xfc && (in.sub == 10 || in.sub == 11):
			out = call(out, a.fBytes)
		}
		out = append(out, body[in.start:in.end]...)
		switch canonAfter(in.op) {
		case 32:
			out = call(out, a.fCanon32)
		case 64:
			out = call(out, a.fCanon64)
		}
	}
	out = leave(out)
	return append(out, 0x0b), nil
}
