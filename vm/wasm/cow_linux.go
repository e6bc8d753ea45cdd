//go:build linux && (amd64 || arm64)

package wasm

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"github.com/tetratelabs/wazero/experimental"
)

// Copy-on-write memories. The snapshot is written once to a memfd; each
// instance's linear memory is a private mapping of it, so an instance starts
// as the snapshot without copying it, and pages it only reads stay shared
// with the page cache. A page the instance writes becomes a private copy,
// which /proc/self/pagemap reports as no longer file-backed: reset copies
// back exactly those pages (they stay private, so a page written once is
// copied at every later reset; they are the same few pages for every call,
// since every call starts from the same heap).

var (
	pagemapOnce sync.Once
	pagemap     *os.File
)

// memfdCreate is the memfd_create system call, which package syscall does
// not name.
func memfdCreate(name string) (int, error) {
	nr := uintptr(319) // amd64
	if runtime.GOARCH == "arm64" {
		nr = 279
	}
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return -1, err
	}
	const mfdCloexec = 1
	fd, _, e := syscall.Syscall(nr, uintptr(unsafe.Pointer(p)), mfdCloexec, 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// image is a snapshot of linear memory in a memfd.
type image struct {
	fd   int
	size int
	snap []byte
}

// newImage returns nil (and the caller copies instead) where the kernel
// does not offer what copy-on-write reset needs.
func newImage(snap []byte) *image {
	pagemapOnce.Do(func() {
		if f, err := os.Open("/proc/self/pagemap"); err == nil {
			pagemap = f
		}
	})
	if pagemap == nil || len(snap)%pageSize != 0 || len(snap) == 0 {
		return nil
	}
	fd, err := memfdCreate("accord-contract")
	if err != nil {
		return nil
	}
	for off := 0; off < len(snap); {
		n, err := syscall.Write(fd, snap[off:])
		if err != nil {
			syscall.Close(fd)
			return nil
		}
		off += n
	}
	img := &image{fd: fd, size: len(snap), snap: snap}
	runtime.AddCleanup(img, func(fd int) { syscall.Close(fd) }, fd)
	return img
}

// cowMemory is one instance's linear memory: a reservation of the maximum
// size whose first image.size bytes privately map the image.
type cowMemory struct {
	img     *image
	region  []byte
	entries []byte // pagemap entries, reused by every restore
}

// allocator maps memories of the image and records the last in *got.
func (img *image) allocator(got **cowMemory) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
		m, err := img.mapMemory(max)
		if err != nil {
			// wazero has no error path here: fall back to ordinary memory,
			// which the reset then compares instead.
			*got = nil
			return &sliceMemory{max: max}
		}
		*got = m
		return m
	})
}

func (img *image) mapMemory(max uint64) (*cowMemory, error) {
	size := max
	if size < uint64(img.size) {
		size = uint64(img.size)
	}
	region, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, err
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(region)))
	_, _, e := syscall.Syscall6(syscall.SYS_MMAP, base, uintptr(img.size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_FIXED, uintptr(img.fd), 0)
	if e != 0 {
		syscall.Munmap(region)
		return nil, e
	}
	return &cowMemory{img: img, region: region}, nil
}

// Reallocate implements experimental.LinearMemory: the reservation never
// moves.
func (m *cowMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.region)) {
		return nil
	}
	return m.region[:size]
}

// Free implements experimental.LinearMemory.
func (m *cowMemory) Free() {
	if m.region != nil {
		syscall.Munmap(m.region)
		m.region = nil
	}
}

// discard drops every private page: the memory is the image again.
func (m *cowMemory) discard() error {
	return syscall.Madvise(m.region[:m.img.size], syscall.MADV_DONTNEED)
}

// restore copies the image back over every page the instance wrote and
// returns how many pages that was.
func (m *cowMemory) restore() (int, error) {
	pages := m.img.size / pageSize
	if len(m.entries) != pages*8 {
		m.entries = make([]byte, pages*8)
	}
	entries := m.entries
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m.region)))
	if _, err := pagemap.ReadAt(entries, int64(base/pageSize*8)); err != nil {
		return 0, fmt.Errorf("reading pagemap: %w", err)
	}
	copied := 0
	for p := 0; p < pages; p++ {
		e := binary.LittleEndian.Uint64(entries[p*8:])
		const present, swapped, file = 1 << 63, 1 << 62, 1 << 61
		// A written page is a private (anonymous) copy, in memory or swapped
		// out; anything else still reads the image.
		if (e&present != 0 && e&file == 0) || e&swapped != 0 {
			off := p * pageSize
			copy(m.region[off:off+pageSize], m.img.snap[off:off+pageSize])
			copied++
		}
	}
	return copied, nil
}

// sliceMemory is ordinary Go memory, for when a mapping fails.
type sliceMemory struct {
	buf []byte
	max uint64
}

// Reallocate implements experimental.LinearMemory.
func (m *sliceMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if uint64(cap(m.buf)) < size {
		nb := make([]byte, size)
		copy(nb, m.buf)
		m.buf = nb
	}
	m.buf = m.buf[:size]
	return m.buf
}

// Free implements experimental.LinearMemory.
func (m *sliceMemory) Free() { m.buf = nil }
