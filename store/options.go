package store

import (
	"fmt"
	"log"
	"os"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// DefaultCacheBytes is the size of the pebble block cache when
// Options.CacheBytes is zero.
const DefaultCacheBytes = 256 << 20 // 256 MiB

// DefaultStateCacheEntries is the size of the state cache when
// Options.StateCacheEntries is zero: a balance and a nonce for a million
// accounts, about 250 MiB at most.
const DefaultStateCacheEntries = 2 << 20

// Logger receives the log output of the underlying pebble DB.
//
// It deliberately has no Fatalf: pebble treats a Fatalf that returns as "carry
// on", which after a failed WAL write would let a commit look successful. The
// store therefore handles pebble's fatal errors itself (see ErrFailed) and only
// reports them through Errorf.
type Logger interface {
	// Infof receives routine events (WAL recovery, flushes, ...).
	Infof(format string, args ...any)
	// Errorf receives errors, including background errors that do not reach
	// any caller (failed compactions, slow disks) and fatal errors.
	Errorf(format string, args ...any)
}

// Options configure a Store. The zero value is not usable (Dir is required);
// call EnsureDefaults to fill in the rest. Open does both.
type Options struct {
	// Dir is the directory holding the pebble DB. It is created if missing.
	// Required.
	Dir string

	// CacheBytes is the size, in bytes, of pebble's block cache, which holds
	// uncompressed sstable blocks and serves state reads that miss the
	// memtables. Zero means DefaultCacheBytes (256 MiB).
	CacheBytes int64

	// StateCacheEntries bounds the in-memory cache of state values in front
	// of pebble (about 100 bytes each). Zero means DefaultStateCacheEntries;
	// negative turns the cache off.
	StateCacheEntries int

	// NoSync skips the fsync of the write-ahead log when a block (or a meta
	// blob) is committed. For tests and benchmarks only: with NoSync a crash of
	// the process or machine may lose recently acknowledged blocks (never part
	// of a block: each block is one atomic batch). Default false: every commit
	// is durable when CommitBlock returns.
	NoSync bool

	// FS is the filesystem the DB lives on; tests pass vfs.NewMem() or an
	// error-injecting wrapper. Default vfs.Default (the OS filesystem).
	FS vfs.FS

	// Logger receives pebble's log output. Default: drop Infof (pebble is
	// chatty about routine events) and write Errorf through the standard
	// library's log package.
	Logger Logger

	// Refetch tells Open that lost blocks are fetched again by the caller (a
	// Raft node re-applies them from its log or from its peers): a store
	// found below its committed record (see CommittedFile) then opens, with
	// what was lost reported through Logger, instead of failing with
	// ErrRolledBack. Default false: a single node refuses to serve less than
	// it acknowledged.
	Refetch bool

	// Fatal is called, at most once, when the store meets an error that no
	// caller would see and that it cannot carry on from: on-disk corruption
	// found by a read or a background compaction, or a full disk under a
	// background flush or compaction (pebble would retry it in a loop). The
	// error wraps ErrCorrupt or ErrDiskFull and reads as one line. Default:
	// write it through Logger.Errorf and exit the process with status 1 (what
	// pebble itself does, with a long stack instead). Tests may return from
	// it: reads that met corruption then fail with ErrCorrupt, and pebble
	// goes on retrying a failed flush until the disk has room again.
	Fatal func(err error)
}

// EnsureDefaults fills in zero fields with their defaults. It is idempotent.
func (o *Options) EnsureDefaults() {
	if o.CacheBytes == 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	if o.StateCacheEntries == 0 {
		o.StateCacheEntries = DefaultStateCacheEntries
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.Logger == nil {
		o.Logger = quietLogger{}
	}
	if o.Fatal == nil {
		l := o.Logger
		o.Fatal = func(err error) {
			l.Errorf("fatal: %v", err)
			os.Exit(1)
		}
	}
}

// Validate reports whether the options are usable. It does not apply defaults
// (a zero CacheBytes is accepted because EnsureDefaults replaces it).
func (o *Options) Validate() error {
	if o.Dir == "" {
		return fmt.Errorf("%w: Options.Dir is required", ErrInvalid)
	}
	if o.CacheBytes < 0 {
		return fmt.Errorf("%w: Options.CacheBytes is negative (%d)", ErrInvalid, o.CacheBytes)
	}
	return nil
}

// quietLogger is the default Logger: pebble logs every WAL replay, flush and
// compaction at info level, which is noise for a node operator, while its
// errors are rare and matter.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}

func (quietLogger) Errorf(format string, args ...any) {
	log.Printf("store: "+format, args...)
}

// fatalPanic is the value the store panics with when pebble reports a fatal
// error (see pebbleLogger.Fatalf). It is an error so that an unrecovered
// panic prints the message rather than a pointer.
type fatalPanic struct {
	msg string
}

func (p *fatalPanic) Error() string { return "store: pebble fatal error: " + p.msg }

// pebbleLogger adapts a Logger to pebble.Logger.
type pebbleLogger struct {
	l     Logger
	route *fatalRoute // nil: every Fatalf panics
}

// fatalRoute tells pebbleLogger.Fatalf whether a call of the store that
// recovers its panic (catchFatal) is in progress, and where a fatal error
// goes otherwise.
type fatalRoute struct {
	calls atomic.Int32 // Open and commits in progress
	fatal func(error)  // Options.Fatal, called at most once
}

func (p pebbleLogger) Infof(format string, args ...any)  { p.l.Infof(format, args...) }
func (p pebbleLogger) Errorf(format string, args ...any) { p.l.Errorf(format, args...) }

// Fatalf must not return. Pebble calls it when its state can no longer be
// trusted, most importantly when a WAL write or fsync fails during a commit:
// by then the batch may already be applied to the memtable, and pebble goes on
// to return nil from Apply if Fatalf returns. Pebble's own default exits the
// process; we panic instead so that the committing goroutine can recover it
// (see catchFatal) and turn it into ErrFailed. When no commit (or Open) is in
// progress, the call comes from a background flush or compaction (failing
// to write the MANIFEST, say on a full disk), where nothing would recover
// the panic: it goes to Options.Fatal first, one line and exit by default,
// instead of a panic's stack trace.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	if p.route != nil && p.route.calls.Load() == 0 {
		p.route.fatal(fmt.Errorf("%w: %s", ErrFailed, msg))
	} else {
		p.l.Errorf("fatal: %s", msg)
	}
	panic(&fatalPanic{msg: msg})
}
