//go:build linux && (amd64 || arm64)

package wasm

import "testing"

func TestFailedMappingFallsBackToOrdinaryMemory(t *testing.T) {
	img := &image{fd: -1, size: pageSize, snap: make([]byte, pageSize)}
	got := &cowMemory{}
	lm := img.allocator(&got).Allocate(0, 2*65536)
	if got != nil {
		t.Fatal("a failed mapping was recorded as copy-on-write")
	}
	if b := lm.Reallocate(65536); len(b) != 65536 {
		t.Fatalf("fallback memory has %d bytes; want 65536", len(b))
	}
	b := lm.Reallocate(2 * 65536)
	if len(b) != 2*65536 || b[65536+5] != 0 {
		t.Fatal("fallback memory did not grow to 2 zeroed pages")
	}
	if lm.Reallocate(3*65536) != nil {
		t.Fatal("fallback memory grew past its maximum")
	}
}
