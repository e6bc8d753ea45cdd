package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// CommittedFile is the name, in the store's directory, of the record of the
// last committed block (height and hash). It lives outside pebble's
// write-ahead log so that a WAL lost or damaged after a crash cannot take the
// memory of what was acknowledged with it: Open compares the two and refuses
// to serve less than was committed (ErrRolledBack).
const CommittedFile = "ACCORD-COMMITTED"

// The record file holds two slots, a disk block apart, written alternately;
// a write torn by a power cut spoils one slot at most, and the other still
// holds the previous record. A slot is:
//
//	magic   8 bytes "accordC1"
//	seq     8 bytes big-endian, +1 per write; the valid slot with the
//	        higher seq is the record
//	height  8 bytes big-endian
//	hash   32 bytes
//	crc     4 bytes CRC-32C of the 56 bytes before it
//
// The file never changes size after it is created, so the fdatasync of a
// record writes one data block and no metadata.
const (
	committedMagic    = "accordC1"
	committedSlotLen  = 8 + 8 + 8 + 32 + 4
	committedSlotSpan = 4096
	committedFileLen  = 2 * committedSlotSpan
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// committed is the record of the last committed block, as read from or
// written to CommittedFile.
type committed struct {
	seq    uint64
	height uint64
	hash   Hash
	valid  bool // false: no record written yet
}

// committedLog owns the open CommittedFile. Only CommitBlock and Close
// (under writeMu) use it.
//
// A record is written in the background once its block is durable, and
// awaited at the next commit, so its fdatasync overlaps the next block's
// work instead of adding to each commit's latency. The record therefore
// lags the acknowledged tip by at most one block, and only for the
// milliseconds of that write.
type committedLog struct {
	f       vfs.File
	last    committed  // owned by the write in flight, if any
	pending chan error // the write in flight; nil when none
	buf     [committedSlotLen]byte
}

// openCommitted opens (creating if needed) the record file in dir and
// reads the newest valid record. A file whose slots are both unreadable is
// ErrCorrupt: it was written, so something was committed, and what is lost.
func openCommitted(fs vfs.FS, dir string) (*committedLog, error) {
	path := fs.PathJoin(dir, CommittedFile)
	_, statErr := fs.Stat(path)
	isNew := statErr != nil
	f, err := fs.OpenReadWrite(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	l := &committedLog{f: f}
	if isNew {
		// Full size now, so that no record write ever changes it; synced
		// with its directory entry so that the file outlives a crash.
		if _, err := f.WriteAt(make([]byte, committedFileLen), 0); err == nil {
			err = f.Sync()
		}
		if err == nil {
			err = syncDir(fs, dir)
		}
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("store: create %s: %w", path, err)
		}
		return l, nil
	}
	var raw [committedFileLen]byte
	n, err := f.ReadAt(raw[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		_ = f.Close()
		return nil, fmt.Errorf("store: read %s: %w", path, err)
	}
	blank := true
	for i := 0; i < 2; i++ {
		off := i * committedSlotSpan
		if off+committedSlotLen > n {
			continue
		}
		slot := raw[off : off+committedSlotLen]
		for _, b := range slot {
			if b != 0 {
				blank = false
				break
			}
		}
		if c, ok := decodeCommitted(slot); ok && (!l.last.valid || c.seq > l.last.seq) {
			l.last = c
		}
	}
	if !l.last.valid && !blank {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s is damaged (neither of its records reads back); it says how far this store had committed, so check the data against a backup, then delete the file to go on", ErrCorrupt, path)
	}
	return l, nil
}

// encode writes c as a slot into l.buf.
func (l *committedLog) encode(c committed) {
	b := l.buf[:]
	copy(b, committedMagic)
	binary.BigEndian.PutUint64(b[8:], c.seq)
	binary.BigEndian.PutUint64(b[16:], c.height)
	copy(b[24:56], c.hash[:])
	binary.BigEndian.PutUint32(b[56:], crc32.Checksum(b[:56], castagnoli))
}

func decodeCommitted(slot []byte) (committed, bool) {
	if string(slot[:8]) != committedMagic ||
		crc32.Checksum(slot[:committedSlotLen-4], castagnoli) != binary.BigEndian.Uint32(slot[committedSlotLen-4:]) {
		return committed{}, false
	}
	c := committed{
		seq:    binary.BigEndian.Uint64(slot[8:]),
		height: binary.BigEndian.Uint64(slot[16:]),
		valid:  true,
	}
	copy(c.hash[:], slot[24:56])
	return c, true
}

// record durably writes height and hash as the last committed block. The
// block must already be durable in pebble: the record may lag the store,
// never lead it.
func (l *committedLog) record(height uint64, hash Hash) error {
	c := committed{seq: l.last.seq + 1, height: height, hash: hash, valid: true}
	l.encode(c)
	off := int64(c.seq%2) * committedSlotSpan
	if _, err := l.f.WriteAt(l.buf[:], off); err != nil {
		return fmt.Errorf("store: write %s: %w", CommittedFile, err)
	}
	if err := l.f.SyncData(); err != nil {
		return fmt.Errorf("store: sync %s: %w", CommittedFile, err)
	}
	l.last = c
	return nil
}

// start begins writing the record of a durable block. The previous write
// must have been awaited.
func (l *committedLog) start(height uint64, hash Hash) {
	ch := make(chan error, 1)
	l.pending = ch
	go func() { ch <- l.record(height, hash) }()
}

// wait returns the outcome of the write in flight (nil when none).
func (l *committedLog) wait() error {
	if l.pending == nil {
		return nil
	}
	err := <-l.pending
	l.pending = nil
	return err
}

func (l *committedLog) close() error {
	return errors.Join(l.wait(), l.f.Close())
}

func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// checkCommitted compares the store's tip with the committed record. A tip
// below the record means blocks that were acknowledged are gone (the newest
// write-ahead log was lost or damaged): ErrRolledBack, unless refetch, when
// the caller takes it back from elsewhere and it is only logged. A different
// block at the record's height is ErrCorrupt either way.
func (s *Store) checkCommitted(tip Tip, rec committed, refetch bool, logger Logger) error {
	if !rec.valid {
		return nil
	}
	if tip.Empty || tip.Height < rec.height {
		have := "no blocks"
		if !tip.Empty {
			have = fmt.Sprintf("blocks up to height %d", tip.Height)
		}
		lost := fmt.Sprintf("the store holds %s but had committed up to height %d (block %x)", have, rec.height, rec.hash)
		if refetch {
			logger.Errorf("the write-ahead log lost acknowledged blocks: %s; they will be fetched again from peers", lost)
			return nil
		}
		return fmt.Errorf("%w: %s: the newest write-ahead log was lost or damaged, and the blocks above height %d with it. "+
			"Do not run the node on this data (it would reuse those heights for different blocks): restore the data directory from a backup, "+
			"or on a network rejoin from peers (docs/operations.md, \"Backup and restore\")", ErrRolledBack, lost, tip.Height)
	}
	var at Hash
	switch {
	case rec.height == tip.Height:
		at = tip.BlockHash
	case rec.height == 0:
		// Genesis may be committed without block bytes, and so without a
		// hash index entry; a later block is committed on top of it.
		return nil
	default:
		_, h, err := s.BlockByHash(rec.hash)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: block %x, committed at height %d, is not in the store", ErrCorrupt, rec.hash, rec.height)
		}
		if err != nil {
			return err
		}
		if h != rec.height {
			return fmt.Errorf("%w: block %x was committed at height %d but the store has it at %d", ErrCorrupt, rec.hash, rec.height, h)
		}
		at = rec.hash
	}
	if at != rec.hash {
		return fmt.Errorf("%w: the store's block at height %d is %x, but %x was committed there", ErrCorrupt, rec.height, at, rec.hash)
	}
	return nil
}
