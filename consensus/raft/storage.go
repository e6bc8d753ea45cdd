package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/internal/walfs"
)

// storageVersion is the on-disk format of the Raft log directory.
const storageVersion = 1

var (
	keyVersion   = []byte("raft/version")
	keyHardState = []byte("raft/hardstate")
	keySnapshot  = []byte("raft/snapshot")
	entryPrefix  = []byte("raft/entry/") // + 8-byte big-endian index
)

func entryKey(index uint64) []byte {
	k := make([]byte, len(entryPrefix)+8)
	copy(k, entryPrefix)
	binary.BigEndian.PutUint64(k[len(entryPrefix):], index)
	return k
}

// storage is the Raft log: a pebble database that is the durable copy, and
// the raft.MemoryStorage that Raft reads from, which holds the entries since
// the last snapshot. Only the raft goroutine writes it.
type storage struct {
	db  *pebble.DB
	mem *etcdraft.MemoryStorage
	buf []byte
}

// openStorage opens (or creates) the log in dir and loads it into memory.
// A directory that holds files is never created afresh: without its
// manifest marker pebble would start a new database and delete the tables
// it does not know.
func openStorage(dir string, log *slog.Logger) (*storage, error) {
	return openStorageFS(vfs.Default, dir, log, os.Exit)
}

// openStorageFS is openStorage on fs, with exit called after a fatal
// storage event is logged; tests pass their own.
func openStorageFS(fs vfs.FS, dir string, log *slog.Logger, exit func(int)) (*storage, error) {
	existing, err := hasFiles(fs, dir)
	if err != nil {
		return nil, err
	}
	opts := &pebble.Options{
		FS:               walfs.Wrap(fs),
		Logger:           pebbleLogger{log, exit},
		ErrorIfNotExists: existing,
		EventListener:    fatalEvents(dir, log, exit),
		// Entries are whole blocks (over a megabyte at full load) that are
		// deleted again at the next compaction of the log: a large
		// memtable flushes them less often, and compressing them (mostly
		// signatures and keys) would cost CPU for little.
		MemTableSize:       64 << 20,
		FormatMajorVersion: pebble.FormatValueSeparation,
	}
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	db, err := pebble.Open(dir, opts)
	if errors.Is(err, pebble.ErrDBDoesNotExist) {
		return nil, fmt.Errorf("raft: %s holds files but no pebble manifest marker (marker.manifest.*), so it is a damaged Raft log, not a new one; nothing was changed. "+
			"Remove this node's id from the network and admit it under a new one (docs/operations.md, \"Backup and restore\")", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("raft: open log in %s: %w", dir, err)
	}
	s := &storage{db: db, mem: etcdraft.NewMemoryStorage()}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func (s *storage) load() error {
	v, closer, err := s.db.Get(keyVersion)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		return s.db.Set(keyVersion, []byte{storageVersion}, pebble.Sync)
	case err != nil:
		return fmt.Errorf("raft: read log version: %w", err)
	}
	ok := len(v) == 1 && v[0] == storageVersion
	_ = closer.Close()
	if !ok {
		return fmt.Errorf("raft: log format %x unknown (this node writes %d): upgrade the node", v, storageVersion)
	}
	snap := new(raftpb.Snapshot)
	if found, err := s.get(keySnapshot, snap); err != nil {
		return err
	} else if found {
		if err := s.mem.ApplySnapshot(snap); err != nil {
			return fmt.Errorf("raft: load snapshot: %w", err)
		}
	}
	hs := new(raftpb.HardState)
	if found, err := s.get(keyHardState, hs); err != nil {
		return err
	} else if found {
		if err := s.mem.SetHardState(hs); err != nil {
			return fmt.Errorf("raft: load hard state: %w", err)
		}
	}
	next := snap.GetMetadata().GetIndex() + 1
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: entryKey(next), UpperBound: entryKey(1<<64 - 1)})
	if err != nil {
		return fmt.Errorf("raft: read log: %w", err)
	}
	defer it.Close()
	var ents []*raftpb.Entry
	for it.First(); it.Valid(); it.Next() {
		e := new(raftpb.Entry)
		if err := proto.Unmarshal(it.Value(), e); err != nil {
			return fmt.Errorf("raft: log entry at %x is corrupt: %w", it.Key(), err)
		}
		if e.GetIndex() != next {
			return fmt.Errorf("raft: log has entry %d where %d was expected: the log directory is corrupt", e.GetIndex(), next)
		}
		next++
		ents = append(ents, e)
		if len(ents) == 256 {
			if err := s.mem.Append(ents); err != nil {
				return fmt.Errorf("raft: load entries: %w", err)
			}
			ents = ents[:0:0]
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("raft: read log: %w", err)
	}
	if err := s.mem.Append(ents); err != nil {
		return fmt.Errorf("raft: load entries: %w", err)
	}
	return nil
}

func (s *storage) get(key []byte, m proto.Message) (bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("raft: read %s: %w", key, err)
	}
	defer closer.Close()
	if err := proto.Unmarshal(v, m); err != nil {
		return false, fmt.Errorf("raft: %s is corrupt: %w", key, err)
	}
	return true, nil
}

// empty reports whether the log has never been written.
func (s *storage) empty() bool {
	last, _ := s.mem.LastIndex()
	snap, _ := s.mem.Snapshot()
	hs, _, _ := s.mem.InitialState()
	return last == 0 && etcdraft.IsEmptySnap(snap) && etcdraft.IsEmptyHardState(hs)
}

// chainHeight is the highest block height the log knows of: its
// snapshot's, or that of a block entry after it. An entry that does not
// decode is skipped; applying it fails later, with the reason.
func (s *storage) chainHeight() uint64 {
	var h uint64
	snap, _ := s.mem.Snapshot()
	if !etcdraft.IsEmptySnap(snap) {
		if sd, err := decodeSnapData(snap.GetData()); err == nil {
			h = sd.Height
		}
	}
	first, _ := s.mem.FirstIndex()
	last, _ := s.mem.LastIndex()
	if last < first {
		return h
	}
	ents, err := s.mem.Entries(first, last+1, math.MaxUint64)
	if err != nil {
		return h
	}
	for _, e := range ents {
		if e.GetType() != raftpb.EntryNormal || len(e.GetData()) == 0 {
			continue
		}
		if bh, ok := blockHeight(e.GetData()); ok && bh > h {
			h = bh
		}
	}
	return h
}

// append durably writes what a MsgStorageAppend carries (snapshot, then
// entries, then hard state) in one synced batch, and then makes it visible
// to Raft through the memory storage.
func (s *storage) append(m *raftpb.Message) error {
	b := s.db.NewBatch()
	defer b.Close()
	snap := m.GetSnapshot()
	hasSnap := snap != nil && !etcdraft.IsEmptySnap(snap)
	if hasSnap {
		if err := s.setProto(b, keySnapshot, snap); err != nil {
			return err
		}
		// A snapshot replaces the whole log.
		if err := b.DeleteRange(entryKey(0), entryKey(1<<64-1), nil); err != nil {
			return err
		}
	}
	ents := m.GetEntries()
	if len(ents) > 0 {
		oldLast, _ := s.mem.LastIndex()
		newLast := ents[len(ents)-1].GetIndex()
		if !hasSnap && newLast < oldLast {
			// The new entries replace a conflicting tail.
			if err := b.DeleteRange(entryKey(newLast+1), entryKey(oldLast+1), nil); err != nil {
				return err
			}
		}
		for _, e := range ents {
			if err := s.setProto(b, entryKey(e.GetIndex()), e); err != nil {
				return err
			}
		}
	}
	var hs *raftpb.HardState
	if m.Term != nil {
		hs = &raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}
		if err := s.setProto(b, keyHardState, hs); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("raft: write log: %w", err)
	}
	if hasSnap {
		if err := s.mem.ApplySnapshot(snap); err != nil && !errors.Is(err, etcdraft.ErrSnapOutOfDate) {
			return fmt.Errorf("raft: apply snapshot: %w", err)
		}
	}
	if err := s.mem.Append(ents); err != nil {
		return fmt.Errorf("raft: append entries: %w", err)
	}
	if hs != nil {
		if err := s.mem.SetHardState(hs); err != nil {
			return fmt.Errorf("raft: set hard state: %w", err)
		}
	}
	return nil
}

// compact records a snapshot at index and drops the entries it covers.
func (s *storage) compact(index uint64, cs *raftpb.ConfState, data []byte) error {
	snap, err := s.mem.CreateSnapshot(index, cs, data)
	if err != nil {
		return fmt.Errorf("raft: create snapshot at %d: %w", index, err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.setProto(b, keySnapshot, snap); err != nil {
		return err
	}
	if err := b.DeleteRange(entryKey(0), entryKey(index+1), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("raft: write snapshot: %w", err)
	}
	return s.mem.Compact(index)
}

func (s *storage) setProto(b *pebble.Batch, key []byte, m proto.Message) error {
	var err error
	s.buf, err = proto.MarshalOptions{}.MarshalAppend(s.buf[:0], m)
	if err != nil {
		return fmt.Errorf("raft: encode %s: %w", key, err)
	}
	return b.Set(key, s.buf, nil) // the batch copies the value
}

func (s *storage) close() error { return s.db.Close() }

// hasFiles reports whether dir holds anything besides pebble's lock file.
func hasFiles(fs vfs.FS, dir string) (bool, error) {
	names, err := fs.List(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("raft: list %s: %w", dir, err)
	}
	return slices.ContainsFunc(names, func(n string) bool { return n != "LOCK" }), nil
}

// fatalEvents ends the process, after one log line, on the pebble events
// that no caller sees and that the log cannot carry on from: on-disk
// corruption (pebble's default is a Fatalf with a stack trace) and a full
// disk under a flush or compaction (pebble retries it at once, forever).
func fatalEvents(dir string, log *slog.Logger, exit func(int)) *pebble.EventListener {
	var once sync.Once
	fatal := func(msg string) {
		once.Do(func() {
			log.Error(msg)
			exit(1)
		})
	}
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			switch {
			case errors.Is(err, syscall.ENOSPC):
				fatal(fmt.Sprintf("raft log storage: disk full: %s: %s: free space on its volume, then start again", dir, oneLine(err)))
			case pebble.IsCorruptionError(err):
				fatal(fmt.Sprintf("raft log storage: on-disk corruption in %s: %s: remove this node's id from the network and admit it under a new one (docs/operations.md, \"Backup and restore\")", dir, oneLine(err)))
			default:
				log.Error("raft log storage: background error: " + oneLine(err))
			}
		},
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			fatal(fmt.Sprintf("raft log storage: on-disk corruption in %s: %s: remove this node's id from the network and admit it under a new one (docs/operations.md, \"Backup and restore\")", info.Path, oneLine(info.Details)))
		},
	}
}

// oneLine is err's message with line breaks folded.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// pebbleLogger sends pebble's log to slog. Pebble calls Fatalf for errors it
// cannot carry on from (a failed WAL write, say on a full disk); the log is
// then not durable, so the process must not continue. It ends with one log
// line and exit status 1, not a panic's stack trace.
type pebbleLogger struct {
	log  *slog.Logger
	exit func(int)
}

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("raft log storage: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("raft log storage: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error("raft log storage: fatal: " + strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " "))
	l.exit(1)
	// Pebble carries on if Fatalf returns; only a test's exit returns.
	panic("raft log storage: fatal error after exit")
}
