// Package store is Accord's durable block store and state database.
//
// It owns one pebble DB holding, under one-byte key prefixes (see keys.go):
// the committed blocks by height, the block-hash and tx-id indexes, the
// receipts, the state key/value pairs, a few named meta blobs (such as the
// genesis document) and the tip, the summary of the last committed block.
// Everything of one block, tip included, is written in a single pebble batch,
// so after a crash a block is either entirely present or entirely absent, and
// the state always matches the tip.
//
// Beside the DB, CommittedFile records the last committed block outside
// pebble's write-ahead log, so that Open notices when a damaged log took
// acknowledged blocks with it.
//
// The store deals in opaque bytes only. It must not decode blocks, receipts
// or state values, must not import other Accord packages, and contains no
// consensus or execution logic: deciding what the next block is, validating
// it and computing its writes and hashes is the caller's job. What the store
// does check is the sequencing of commits (each height exactly once, in
// order, starting with genesis at height 0) and the integrity of its own
// records.
//
// Reads are served from a pebble snapshot taken right after each commit
// returns, so every read is consistent with Tip() and never observes a block
// that is not yet durable (pebble makes a batch visible to plain DB reads
// before its WAL fsync completes).
package store

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	iofs "io/fs"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/accord-chain/accord/internal/walfs"
)

var (
	// ErrNotFound is returned when a key, block, tx or meta blob is absent.
	ErrNotFound = errors.New("store: not found")
	// ErrHeightGap is returned by CommitBlock when the block is not the next
	// height: not Tip().Height+1, or a second genesis (height 0) commit, or a
	// non-genesis commit into an empty store.
	ErrHeightGap = errors.New("store: block height is not the next height")
	// ErrClosed is returned by every operation on a closed Store or View.
	ErrClosed = errors.New("store: closed")
	// ErrCorrupt is returned, wrapped with detail, when stored data does not
	// decode or is inconsistent, and when pebble reports corruption.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrInvalid is returned, wrapped with detail, for invalid Options or an
	// ill-formed BlockCommit. Nothing is written.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrVersion is returned by Open when the directory holds a store written
	// in a format newer than this code understands.
	ErrVersion = errors.New("store: unsupported format version")
	// ErrFailed is returned, wrapped with pebble's message, when a write hit
	// an I/O error that pebble cannot recover from (a failed WAL write or
	// fsync). The Store then refuses all further writes; reads keep serving
	// the last committed tip. Close it and reopen (in practice: restart the
	// process); WAL recovery then decides whether the failed block made it,
	// and it is either entirely present or entirely absent.
	ErrFailed = errors.New("store: failed after a storage error; reopen required")
	// ErrRolledBack is returned by Open when the store holds fewer blocks
	// than it had committed (see CommittedFile and Options.Refetch).
	ErrRolledBack = errors.New("store: acknowledged blocks are missing")
	// ErrDiskFull is returned by Open, and given to Options.Fatal, when the
	// disk holding the store is full.
	ErrDiskFull = errors.New("store: disk full")
)

// Hash is a 32-byte hash (block hash, tx id, state hash). The store never
// computes one; it only indexes and returns what it is given.
type Hash = [32]byte

// Tip is the last committed block's summary; the zero Tip (Height 0, Empty
// true) means nothing committed yet.
type Tip struct {
	Height       uint64
	Time         uint64 // unix ms from the block header
	BlockHash    Hash
	WriteSetHash Hash
	StateHash    Hash
	Empty        bool // true until the first CommitBlock (the genesis commit at height 0)
}

// Write is one state change.
type Write struct {
	Key   []byte
	Value []byte // ignored when Delete; nil stores an empty value (present, not absent)
	// Delete removes Key. Deleting an absent key is not an error.
	Delete bool
}

// BlockCommit is everything the store records for one block.
type BlockCommit struct {
	Height uint64
	// Block is the encoded block (opaque). Required except for genesis
	// (height 0); when nil, no block record or hash index entry is written.
	Block []byte
	// Hash is the block hash, indexed for BlockByHash. Must equal
	// Tip.BlockHash.
	Hash Hash
	// TxIDs in block order, indexed for TxLocation. The store does not
	// enforce uniqueness across blocks (replay protection belongs to
	// execution); a repeated id points at its latest block.
	TxIDs []Hash
	// Receipts are the encoded receipts, same order and length as TxIDs.
	Receipts [][]byte
	// Writes are the final state changes of the block. The caller gives each
	// key once; if a key repeats anyway, the last Write wins.
	Writes []Write
	// Tip becomes the new tip atomically with everything else. Tip.Height must
	// equal Height; Tip.Empty is ignored (a committed tip is never empty).
	Tip Tip
	// History lists the accounts each transaction names, for the account
	// history index (see history.go); the caller decides which.
	History []HistoryEntry
	// Unsynced skips the fsync of this commit: it becomes durable with the
	// next synced one (the write-ahead log is sequential), and a crash
	// before that may lose it, never corrupt it. For runs of blocks that
	// can be fetched again, such as block sync from peers.
	Unsynced bool
}

// memTableBytes is pebble's memtable size. Pebble commits a batch larger than
// about half the memtable as a "flushable batch", which forces a memtable
// rotation and a flush of its own; with pebble's 4 MiB default that would be
// every block above 2 MiB. 128 MiB keeps blocks up to ~64 MiB on the
// ordinary path, and makes flushes, and the L0 files they leave for
// compactions to merge, rarer: with a million accounts, compactions are
// most of the store's CPU, and 128 MiB against 64 MiB cut what they wrote
// by about a third (BenchmarkStoreLoad, docs/benchmarks.md). Pebble grows
// memtables up to this size gradually, and stalls writes at two full ones
// (its default MemTableStopWritesThreshold), bounding memtable memory at
// ~256 MiB, allocated outside the Go heap.
const memTableBytes = 128 << 20

// L0 compaction triggers. Pebble compacts L0 into the base level once L0
// is 4 sublevels deep (L0CompactionThreshold) or holds 500 files. State
// keys and tx ids are random, so every such compaction rewrites much of the
// base level: waiting for 8 sublevels merges twice as much L0 per rewrite,
// while 32 files bound how far L0 can fall behind. Reads pay little for the
// deeper L0: most state reads end in the state cache or the key filter.
// Writes stop at 32 sublevels, well past the trigger.
const (
	l0CompactionThreshold     = 8
	l0CompactionFileThreshold = 32
	l0StopWritesThreshold     = 32
)

// Store is the block store and state database. All methods are safe for
// concurrent use, except that CommitBlock is meant to be driven by one
// goroutine (concurrent calls are serialised, and all but one will fail with
// ErrHeightGap).
type Store struct {
	db    *pebble.DB
	route *fatalRoute
	wo    *pebble.WriteOptions
	// rec is the committed record, written after each synced commit; nil
	// with NoSync, whose commits may be lost by design.
	rec *committedLog

	// writeMu serialises CommitBlock, PutMeta and Close, so that Close never
	// pulls the DB out from under an in-flight write.
	writeMu sync.Mutex
	failed  error // guarded by writeMu; sticky ErrFailed

	// mu guards the fields below. Every read holds it shared while it uses
	// pebble, so that Close (exclusive) cannot close the DB mid-read: pebble
	// panics on use after close.
	mu     sync.RWMutex
	closed bool
	cur    *readState              // latest committed tip and its snapshot
	live   map[*readState]struct{} // every readState whose snapshot is open
	cache  *stateCache             // nil when off; see stateCache for its locking
	keys   *keyFilter              // every state key written; see keyFilter
}

// readState is a pebble snapshot of the DB as of a tip. The Store holds one
// reference to the current one; each open View holds another.
type readState struct {
	snap *pebble.Snapshot
	tip  Tip
	refs atomic.Int32
}

// Open opens (creating if needed) the store in opts.Dir. A directory can be
// opened by one Store at a time (pebble holds a lock file).
//
// Open never creates a database in a directory that already holds files:
// one whose pebble manifest marker is missing is refused with ErrCorrupt
// before anything is written (pebble would otherwise start afresh and delete
// the tables it does not know). A store that lost acknowledged blocks is
// refused with ErrRolledBack (see Options.Refetch).
func Open(opts Options) (_ *Store, err error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	defer catchFatal(&err)
	route := &fatalRoute{fatal: onceFatal(opts.Fatal)}
	route.calls.Add(1)
	defer route.calls.Add(-1)

	existing, err := hasFiles(opts.FS, opts.Dir)
	if err != nil {
		return nil, err
	}

	cache := pebble.NewCache(opts.CacheBytes)
	// The DB takes its own reference; dropping ours makes Close free it.
	defer cache.Unref()

	po := &pebble.Options{
		FS:           walfs.Wrap(opts.FS),
		Cache:        cache,
		Logger:       pebbleLogger{opts.Logger, route},
		MemTableSize: memTableBytes,

		L0CompactionThreshold:     l0CompactionThreshold,
		L0CompactionFileThreshold: l0CompactionFileThreshold,
		L0StopWritesThreshold:     l0StopWritesThreshold,
		// Pin the on-disk format instead of following pebble's default, so
		// that a pebble upgrade never silently ratchets the format (which
		// would prevent rolling back the binary).
		FormatMajorVersion: pebble.FormatValueSeparation,
		ErrorIfNotExists:   existing,
		EventListener:      fatalEvents(opts, route.fatal),
	}
	for i := range po.Levels {
		// State reads are point lookups, many of them for absent keys (new
		// accounts); bloom filters let pebble skip most sstables without
		// reading a data block. Pebble's default has no filters at all.
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(opts.Dir, po)
	switch {
	case err == nil:
	case errors.Is(err, pebble.ErrDBDoesNotExist):
		return nil, fmt.Errorf("%w: %s holds files but no pebble manifest marker (marker.manifest.*), so it is a damaged database, not a new one; nothing was changed. "+
			"Restore the directory from a backup, or, if only the marker was lost, recreate it as an empty file named marker.manifest.000001.MANIFEST-N after the newest MANIFEST-N file there. "+
			"(A directory left by a first start that was interrupted holds no blocks: delete it.)", ErrCorrupt, opts.Dir)
	case isDiskFull(err):
		return nil, fmt.Errorf("%w: open %s: %v: free space on its volume, then start again", ErrDiskFull, opts.Dir, err)
	default:
		return nil, fmt.Errorf("store: open pebble: %w", err)
	}

	s := &Store{
		db:    db,
		route: route,
		wo:    pebble.Sync,
		live:  make(map[*readState]struct{}),
		cache: newStateCache(opts.StateCacheEntries),
	}
	if opts.NoSync {
		s.wo = pebble.NoSync
	}
	tip, err := s.load()
	if err == nil {
		s.keys, err = s.scanKeys()
	}
	var rec *committedLog
	if err == nil {
		rec, err = openCommitted(opts.FS, opts.Dir)
	}
	if err == nil {
		// Published first: the check reads through the snapshot.
		s.publish(tip)
		err = s.checkCommitted(tip, rec.last, opts.Refetch, opts.Logger)
	}
	if err != nil {
		if rec != nil {
			_ = rec.close()
		}
		if s.cur != nil {
			_ = s.cur.snap.Close()
		}
		_ = db.Close()
		return nil, err
	}
	if opts.NoSync {
		_ = rec.close()
	} else {
		s.rec = rec
	}
	return s, nil
}

// hasFiles reports whether dir holds anything besides pebble's lock file.
// A missing directory holds nothing.
func hasFiles(fs vfs.FS, dir string) (bool, error) {
	names, err := fs.List(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: list %s: %w", dir, err)
	}
	for _, n := range names {
		if n != "LOCK" {
			return true, nil
		}
	}
	return false, nil
}

// load checks the format version (writing it into a new store) and reads the
// tip, cross-checking it against the block records.
func (s *Store) load() (Tip, error) {
	v, err := getCopy(s.db, keyVersion)
	switch {
	case errors.Is(err, ErrNotFound):
		// Either a brand-new DB or a pebble DB that is not ours; refuse to
		// adopt the latter, its keys would be read as ours.
		empty, err := s.isEmpty(nil, nil)
		if err != nil {
			return Tip{}, err
		}
		if !empty {
			return Tip{}, fmt.Errorf("%w: database has data but no format version", ErrCorrupt)
		}
		// Synced even with NoSync: it is written once.
		if err := s.db.Set(keyVersion, encodeUint64(formatVersion), pebble.Sync); err != nil {
			return Tip{}, fmt.Errorf("store: write format version: %w", err)
		}
	case err != nil:
		return Tip{}, err
	default:
		ver, err := decodeHeight("format version", v)
		if err != nil {
			return Tip{}, err
		}
		if ver == 0 {
			return Tip{}, fmt.Errorf("%w: format version 0", ErrCorrupt)
		}
		if ver > formatVersion {
			return Tip{}, fmt.Errorf("%w: store has format version %d, this code understands up to %d; upgrade the binary", ErrVersion, ver, formatVersion)
		}
	}

	v, err = getCopy(s.db, keyTip)
	if errors.Is(err, ErrNotFound) {
		// Nothing committed yet, so there must be no chain data either.
		empty, err := s.isEmpty([]byte{prefixBlock}, []byte{prefixStateEnd})
		if err != nil {
			return Tip{}, err
		}
		if !empty {
			return Tip{}, fmt.Errorf("%w: blocks or state present but no tip", ErrCorrupt)
		}
		return Tip{Empty: true}, nil
	}
	if err != nil {
		return Tip{}, err
	}
	tip, err := decodeTip(v)
	if err != nil {
		return Tip{}, err
	}
	// The tip and its block are written in the same batch; a tip without its
	// block means the DB was damaged or edited. Genesis may have no block.
	if tip.Height > 0 {
		if _, err := getCopy(s.db, blockKey(tip.Height)); err != nil {
			if errors.Is(err, ErrNotFound) {
				return Tip{}, fmt.Errorf("%w: tip is at height %d but its block is missing", ErrCorrupt, tip.Height)
			}
			return Tip{}, err
		}
	}
	return tip, nil
}

// isEmpty reports whether the DB has no key in [lower, upper) (nil: unbounded).
func (s *Store) isEmpty(lower, upper []byte) (bool, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return false, err
	}
	found := it.First()
	if err := it.Close(); err != nil {
		return false, wrapPebble(err)
	}
	return !found, nil
}

// scanKeys builds the key filter from the state keys on disk, in two
// passes over the keys (one to count them, so that one part holds them all,
// one to add them), so that memory stays at the filter's own whatever the
// size of the state. Opening a store of 2 million state keys took 1.3 s
// on the development machine, replaying its write-ahead log included.
func (s *Store) scanKeys() (*keyFilter, error) {
	scan := func(each func(key []byte)) error {
		it, err := s.db.NewIter(&pebble.IterOptions{
			LowerBound: []byte{prefixState},
			UpperBound: []byte{prefixStateEnd},
		})
		if err != nil {
			return wrapPebble(err)
		}
		for ok := it.First(); ok; ok = it.Next() {
			each(it.Key()[1:])
		}
		if err := it.Close(); err != nil {
			return wrapPebble(err)
		}
		return nil
	}
	n := 0
	if err := scan(func([]byte) { n++ }); err != nil {
		return nil, err
	}
	f := newKeyFilter(maphash.MakeSeed(), n)
	if err := scan(f.add); err != nil {
		return nil, err
	}
	return f, nil
}

// publish makes tip, and everything committed so far, what reads see.
// Called with writeMu held (or from Open), after the commit returned.
func (s *Store) publish(tip Tip, writes ...Write) {
	rs := &readState{snap: s.db.NewSnapshot(), tip: tip}
	rs.refs.Store(1)
	for _, w := range writes {
		if !w.Delete {
			s.keys.add(w.Key)
		}
	}
	s.mu.Lock()
	if s.cache != nil {
		for _, w := range writes {
			s.cache.update(w.Key, w.Value, w.Delete)
		}
	}
	old := s.cur
	s.cur = rs
	s.live[rs] = struct{}{}
	s.mu.Unlock()
	if old != nil {
		s.release(old)
	}
}

// release drops a reference to rs, closing its snapshot with the last one.
// An open snapshot pins old versions of keys in pebble, so they must not
// linger.
func (s *Store) release(rs *readState) {
	if rs.refs.Add(-1) != 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return // Close closed it already.
	}
	delete(s.live, rs)
	_ = rs.snap.Close()
}

// Close closes the store. It waits for an in-flight CommitBlock or PutMeta
// and for in-flight reads; Views still open are closed with it (their reads
// then return ErrClosed). A second Close returns ErrClosed.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.closed = true
	var err error
	for rs := range s.live {
		err = errors.Join(err, rs.snap.Close())
	}
	s.live = nil
	if s.rec != nil {
		err = errors.Join(err, s.rec.close())
	}
	if cerr := s.db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("store: close pebble: %w", cerr))
	}
	return err
}

// Tip returns the last committed block's summary. It is cached in memory.
func (s *Store) Tip() Tip {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur.tip
}

// writable returns the current tip, or why nothing may be written: a
// sticky write failure or a closed store. s.writeMu must be held.
func (s *Store) writable() (Tip, error) {
	if s.failed != nil {
		return Tip{}, s.failed
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Tip{}, ErrClosed
	}
	return s.cur.tip, nil
}

// CommitBlock writes everything of one block in ONE pebble batch, committed
// with fsync (unless NoSync). Height 0 is the genesis commit (only allowed
// when the store is empty; Block may be nil). Otherwise Height must be
// Tip().Height+1, else ErrHeightGap. After it returns nil, everything is
// durable (once a synced commit follows, if c.Unsynced) and visible; on
// error nothing is visible.
//
// The store keeps no reference to c or its slices after it returns.
func (s *Store) CommitBlock(c *BlockCommit) (err error) {
	if err := validateCommit(c); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tip, err := s.writable()
	if err != nil {
		return err
	}
	switch {
	case tip.Empty && c.Height != 0:
		return fmt.Errorf("%w: store is empty, first commit must be genesis (height 0), got %d", ErrHeightGap, c.Height)
	case !tip.Empty && c.Height == 0:
		return fmt.Errorf("%w: genesis already committed (tip %d)", ErrHeightGap, tip.Height)
	case !tip.Empty && c.Height != tip.Height+1:
		return fmt.Errorf("%w: got %d, tip is %d", ErrHeightGap, c.Height, tip.Height)
	}

	b := s.db.NewBatchWithSize(commitSize(c))
	defer func() { _ = b.Close() }()
	for i := range c.Writes {
		w := &c.Writes[i]
		if w.Delete {
			op := b.DeleteDeferred(1 + len(w.Key))
			op.Key[0] = prefixState
			copy(op.Key[1:], w.Key)
			_ = op.Finish() // errors only for indexed batches
		} else {
			op := b.SetDeferred(1+len(w.Key), len(w.Value))
			op.Key[0] = prefixState
			copy(op.Key[1:], w.Key)
			copy(op.Value, w.Value)
			_ = op.Finish()
		}
	}
	if c.Block != nil {
		_ = b.Set(blockKey(c.Height), c.Block, nil)
		_ = b.Set(hashKey(c.Hash), encodeUint64(c.Height), nil)
	}
	// Receipts, then the tx index in key order: pebble inserts a batch into
	// its memtable in batch order and starts each search from where the
	// last one ended, so keys in order (the state writes, sorted by the
	// executor; receipts, by index; tx ids, sorted here) are found in a few
	// steps instead of a full descent of the skiplist each.
	for i := range c.TxIDs {
		_ = b.Set(receiptKey(c.Height, uint32(i)), c.Receipts[i], nil)
	}
	order := make([]uint32, len(c.TxIDs))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(x, y uint32) int { return bytes.Compare(c.TxIDs[x][:], c.TxIDs[y][:]) })
	for _, i := range order {
		_ = b.Set(txKey(c.TxIDs[i]), encodeTxLoc(c.Height, i), nil)
	}
	putHistory(b, c)
	newTip := c.Tip
	newTip.Empty = false
	_ = b.Set(keyTip, encodeTip(newTip), nil)

	if err := s.apply(b, c.Unsynced); err != nil {
		return err
	}
	if s.rec != nil {
		// The previous record was written while this block committed.
		if err := s.rec.wait(); err != nil {
			// A block is durable but the record of it is not; treat it as
			// any failed write: nothing more is written.
			s.failed = fmt.Errorf("%w: %w", ErrFailed, err)
			return s.failed
		}
		if !c.Unsynced {
			s.rec.start(newTip.Height, newTip.BlockHash)
		}
	}
	s.publish(newTip, c.Writes...)
	return nil
}

func validateCommit(c *BlockCommit) error {
	switch {
	case c == nil:
		return fmt.Errorf("%w: nil BlockCommit", ErrInvalid)
	case c.Height > 0 && c.Block == nil:
		return fmt.Errorf("%w: block %d has no Block bytes", ErrInvalid, c.Height)
	case c.Tip.Height != c.Height:
		return fmt.Errorf("%w: Tip.Height %d != Height %d", ErrInvalid, c.Tip.Height, c.Height)
	case c.Tip.BlockHash != c.Hash:
		return fmt.Errorf("%w: Tip.BlockHash != Hash at height %d", ErrInvalid, c.Height)
	case len(c.Receipts) != len(c.TxIDs):
		return fmt.Errorf("%w: %d receipts for %d txs at height %d", ErrInvalid, len(c.Receipts), len(c.TxIDs), c.Height)
	case uint64(len(c.TxIDs)) > uint64(^uint32(0)):
		return fmt.Errorf("%w: too many txs (%d)", ErrInvalid, len(c.TxIDs))
	}
	return validateHistory(c)
}

// commitSize estimates the batch representation size of c so that the batch
// buffer is allocated once. Per record pebble adds a kind byte and two
// varint lengths (at most 10 bytes for the sizes we see).
func commitSize(c *BlockCommit) int {
	const perRecord = 11
	n := 12 + len(c.Block) + blockKeyLen + hashKeyLen + heightLen + 1 + tipLen + 3*perRecord
	for i := range c.Writes {
		n += perRecord + 1 + len(c.Writes[i].Key) + len(c.Writes[i].Value)
	}
	for i := range c.Receipts {
		n += 2*perRecord + txKeyLen + txLocLen + receiptKeyLen + len(c.Receipts[i])
	}
	return n
}

// apply commits b (synced unless NoSync or unsynced). Called with writeMu
// held.
func (s *Store) apply(b *pebble.Batch, unsynced bool) (err error) {
	defer func() {
		if err != nil && errors.Is(err, ErrFailed) {
			s.failed = err
		}
	}()
	defer catchFatal(&err)
	s.route.calls.Add(1)
	defer s.route.calls.Add(-1)
	wo := s.wo
	if unsynced {
		wo = pebble.NoSync
	}
	if err := s.db.Apply(b, wo); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// catchFatal turns the panic of pebbleLogger.Fatalf on this goroutine into
// ErrFailed. Any other panic is not ours to handle.
func catchFatal(err *error) {
	r := recover()
	if r == nil {
		return
	}
	fp, ok := r.(*fatalPanic)
	if !ok {
		panic(r)
	}
	*err = fmt.Errorf("%w: %s", ErrFailed, fp.msg)
}

// PutMeta stores a small named blob outside state (e.g. the genesis
// document), atomically and synced (unless NoSync). It replaces any previous
// value of name. Names are any non-empty string.
func (s *Store) PutMeta(name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("%w: empty meta name", ErrInvalid)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tip, err := s.writable()
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer func() { _ = b.Close() }()
	_ = b.Set(metaKey(name), value, nil)
	if err := s.apply(b, false); err != nil {
		return err
	}
	// Meta is read through the snapshot like everything else; refresh it.
	s.publish(tip)
	return nil
}

// Meta returns the blob stored under name, or ErrNotFound.
func (s *Store) Meta(name string) ([]byte, error) {
	return s.get(metaKey(name))
}
