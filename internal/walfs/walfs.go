// Package walfs wraps a pebble filesystem so that write-ahead logs are not
// preallocated. It owns nothing else; the store and the Raft log both open
// their pebble databases through it.
package walfs

import (
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Wrap returns fs with preallocation of write-ahead logs turned off.
//
// Pebble preallocates each WAL to 110% of the memtable size up front: with
// the store's 128 MiB memtable every WAL took 141 MiB of disk from its
// second write (and the Raft log's, with 64 MiB, 70 MiB), so a fresh node
// used 144 MB and more, and a small volume filled long before its data did. Without it a
// WAL takes the space of what was written to it. Pebble recycles old WAL
// files, which keep their blocks, so a busy node mostly writes over
// allocated space; and since pebble preallocates with FALLOC_FL_KEEP_SIZE,
// each fdatasync of a growing WAL persisted its new size anyway, so the
// commit path pays little (docs/benchmarks.md, "Write-ahead log
// preallocation and the committed record").
func Wrap(fs vfs.FS) vfs.FS { return walFS{fs} }

type walFS struct{ vfs.FS }

func isWAL(name string) bool { return strings.HasSuffix(name, ".log") }

func (fs walFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || !isWAL(name) {
		return f, err
	}
	return walFile{f}, nil
}

func (fs walFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil || !isWAL(newname) {
		return f, err
	}
	return walFile{f}, nil
}

// walFile is a WAL file that ignores preallocation requests.
type walFile struct{ vfs.File }

func (walFile) Preallocate(offset, length int64) error { return nil }
