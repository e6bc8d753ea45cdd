package identity

import (
	"encoding/binary"
	"errors"
)

// The configuration and endorsement encodings are hand-made so that each
// value has exactly one: lengths and numbers are minimal uvarints, lists are
// sorted without duplicates, and a decoder rejects anything else.

type enc struct{ b []byte }

func (e *enc) u(v uint64)     { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) byte(v byte)    { e.b = append(e.b, v) }
func (e *enc) bytes(b []byte) { e.u(uint64(len(b))); e.b = append(e.b, b...) }
func (e *enc) str(s string)   { e.u(uint64(len(s))); e.b = append(e.b, s...) }

var errShort = errors.New("truncated or malformed")

type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *dec) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != uvarintLen(v) {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (d *dec) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail(errShort)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// bytes reads a length-prefixed field of at most max bytes.
func (d *dec) bytes(max int) []byte {
	n := d.u()
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(d.b)) {
		d.fail(errShort)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str(max int) string { return string(d.bytes(max)) }

// count reads a list length; every element takes at least one byte, so a
// count above the bytes left is malformed, which bounds allocations.
func (d *dec) count() int {
	n := d.u()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail(errShort)
		return 0
	}
	return int(n)
}
