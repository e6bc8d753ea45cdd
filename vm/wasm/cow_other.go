//go:build !(linux && (amd64 || arm64))

package wasm

import (
	"errors"

	"github.com/tetratelabs/wazero/experimental"
)

// Without Linux's memfd and pagemap, reset compares and copies instead.

type image struct{}

type cowMemory struct{}

func newImage([]byte) *image { return nil }

func (*image) allocator(**cowMemory) experimental.MemoryAllocator { return nil }

func (*cowMemory) discard() error { return errors.New("copy-on-write memory is not supported here") }

func (*cowMemory) restore() (int, error) {
	return 0, errors.New("copy-on-write memory is not supported here")
}
