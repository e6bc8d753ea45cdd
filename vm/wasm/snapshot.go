package wasm

import (
	"bytes"
	"context"
	"fmt"
)

// snapshot is an instance's state after _initialize: the whole linear
// memory and every mutable global. Tables cannot change after
// initialisation (instrument refuses the instructions that would), and the
// instrumentation's own globals are set before every call.
type snapshot struct {
	mem     []byte
	globals []uint64
}

func take(in *instance) snapshot {
	m := in.mod.Memory()
	b, _ := m.Read(0, m.Size())
	s := snapshot{mem: append([]byte(nil), b...)}
	for _, g := range in.state {
		s.globals = append(s.globals, g.Get())
	}
	return s
}

// pageSize is the host page size copy-on-write memory works in.
const pageSize = 4096

// chunk is the unit restore compares and copies. Small enough that a call
// touching a few objects copies little, large enough that comparing is
// memory-bandwidth bound.
const chunk = 4096

// restore makes mem equal to snap, copying only the chunks that differ:
// comparing reads memory but does not write it, and a typical call dirties
// a small part of a Go module's megabytes of heap.
func restore(mem, snap []byte) (copied int) {
	for off := 0; off < len(snap); off += chunk {
		end := min(off+chunk, len(snap))
		if !bytes.Equal(mem[off:end], snap[off:end]) {
			copy(mem[off:end], snap[off:end])
			copied++
		}
	}
	return copied
}

// freshInstance returns a new instance in the snapshot's state: the
// snapshot's memory size and contents and its mutable globals.
func (c *Contract) freshInstance(ctx context.Context) (*instance, error) {
	in, err := c.instantiate(ctx)
	if err != nil {
		return nil, err
	}
	m := in.mod.Memory()
	if grow := uint32(len(c.snap.mem))/65536 - m.Size()/65536; grow > 0 {
		if _, ok := m.Grow(grow); !ok {
			in.mod.Close(ctx)
			return nil, fmt.Errorf("contract reset: cannot grow a fresh instance to %d bytes", len(c.snap.mem))
		}
	}
	if in.cow != nil {
		// Instantiation wrote the data segments; dropping every private
		// page leaves the image, which is the snapshot.
		if err := in.cow.discard(); err != nil {
			in.mod.Close(ctx)
			return nil, fmt.Errorf("contract reset: %w", err)
		}
	} else {
		m.Write(0, c.snap.mem)
	}
	for i, g := range in.state {
		g.Set(c.snap.globals[i])
	}
	return in, nil
}

// reset returns the instance to the snapshot. A memory that grew cannot
// shrink, so then the instance is replaced by a fresh one: a later call
// must see the same memory.size as every other. It returns the instance to
// use next.
func (c *Contract) reset(ctx context.Context, in *instance) (*instance, error) {
	mem := in.mod.Memory()
	switch {
	case mem.Size() != uint32(len(c.snap.mem)):
		fresh, err := c.freshInstance(ctx)
		if err != nil {
			return nil, err
		}
		in.mod.Close(ctx)
		return fresh, nil
	case in.cow != nil:
		if _, err := in.cow.restore(); err != nil {
			return nil, fmt.Errorf("contract reset: %w", err)
		}
	default:
		b, _ := mem.Read(0, mem.Size())
		restore(b, c.snap.mem)
	}
	for i, g := range in.state {
		g.Set(c.snap.globals[i])
	}
	return in, nil
}
