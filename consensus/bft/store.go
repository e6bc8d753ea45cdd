package bft

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// The driver's durable state lives in one folder:
//
//	state           the safety state (pb.SafetyState)
//	root            the last committed block with its QC, result and reputation
//	blocks/HASH     every block the core handed out in Ready.Blocks
//	sync            the target of a block sync under way (sync.go)
//
// Each file is written whole to a temporary name, fsynced and renamed, and
// the folder is fsynced, so a crash leaves either the old or the new file.
// Blocks are deleted once the chain holds them durably.
const (
	stateFile   = "state"
	rootFile    = "root"
	blocksDir   = "blocks"
	rootVersion = 1
	maxFailures = 1 << 16
)

// fileStore is the driver's persistence. Only the driver goroutine uses it.
type fileStore struct {
	dir string
}

func openFileStore(dir string) (*fileStore, error) {
	if err := os.MkdirAll(filepath.Join(dir, blocksDir), 0o700); err != nil {
		return nil, fmt.Errorf("bft storage: %w", err)
	}
	return &fileStore{dir: dir}, nil
}

// writeFile replaces dir/name durably.
func writeFile(dir, name string, data []byte, syncDir bool) error {
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	if syncDir {
		return fsyncDir(dir)
	}
	return nil
}

func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// save writes a Ready's state and blocks durably.
func (s *fileStore) save(st *pb.SafetyState, blocks []*pb.Block, hash func(*pb.Block) []byte) error {
	if len(blocks) > 0 {
		bdir := filepath.Join(s.dir, blocksDir)
		for _, b := range blocks {
			if err := writeFile(bdir, hex.EncodeToString(hash(b)), EncodeBlock(b), false); err != nil {
				return fmt.Errorf("bft storage: block %d: %w", b.Height, err)
			}
		}
		if err := fsyncDir(bdir); err != nil {
			return fmt.Errorf("bft storage: %w", err)
		}
	}
	if st != nil {
		if err := writeFile(s.dir, stateFile, EncodeSafetyState(st), true); err != nil {
			return fmt.Errorf("bft storage: safety state: %w", err)
		}
	}
	return nil
}

// load reads what save and saveRoot wrote. A missing state or root is nil.
func (s *fileStore) load() (*pb.SafetyState, *storedRoot, []*pb.Block, error) {
	var st *pb.SafetyState
	if b, err := os.ReadFile(filepath.Join(s.dir, stateFile)); err == nil {
		if st, err = DecodeSafetyState(b); err != nil {
			return nil, nil, nil, fmt.Errorf("bft storage: %s: %w", stateFile, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("bft storage: %w", err)
	}
	var root *storedRoot
	if b, err := os.ReadFile(filepath.Join(s.dir, rootFile)); err == nil {
		r, err := decodeRoot(b)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("bft storage: %s: %w", rootFile, err)
		}
		root = &r
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("bft storage: %w", err)
	}
	bdir := filepath.Join(s.dir, blocksDir)
	ents, err := os.ReadDir(bdir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bft storage: %w", err)
	}
	var blocks []*pb.Block
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a write cut short by a crash
		}
		b, err := os.ReadFile(filepath.Join(bdir, e.Name()))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("bft storage: %w", err)
		}
		blk, err := DecodeBlock(b)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("bft storage: block %s: %w", e.Name(), err)
		}
		blocks = append(blocks, blk)
	}
	return st, root, blocks, nil
}

// saveRoot records the last committed block. It is written before the
// block goes to the chain, so the chain is never ahead of it.
func (s *fileStore) saveRoot(r storedRoot) error {
	if err := writeFile(s.dir, rootFile, encodeRoot(r), true); err != nil {
		return fmt.Errorf("bft storage: root: %w", err)
	}
	return nil
}

// prune deletes stored blocks at or below height: the chain holds them.
func (s *fileStore) prune(blocks map[string]uint64, height uint64) {
	bdir := filepath.Join(s.dir, blocksDir)
	keys := make([]string, 0)
	for k, h := range blocks {
		if h <= height {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		_ = os.Remove(filepath.Join(bdir, k)) // a leftover is ignored at load
		delete(blocks, k)
	}
}

// storedRoot is the last committed block and what a core restarts from.
type storedRoot struct {
	Block      *pb.Block
	QC         *pb.QC
	Result     []byte
	Reputation Reputation
}

// A root record is:
//
//	version  1 byte (1)
//	block    uvarint length, canonical pb.Block
//	qc       uvarint length, canonical pb.QC
//	result   32 bytes
//	failed   uvarint count, each uvarint round and uvarint-length id
//	anchor   uvarint count, each uvarint-length id
func encodeRoot(r storedRoot) []byte {
	b := []byte{rootVersion}
	blk := EncodeBlock(r.Block)
	b = binary.AppendUvarint(b, uint64(len(blk)))
	b = append(b, blk...)
	qc := encodeQC(r.QC)
	b = binary.AppendUvarint(b, uint64(len(qc)))
	b = append(b, qc...)
	b = append(b, r.Result...)
	b = binary.AppendUvarint(b, uint64(len(r.Reputation.Failed)))
	for _, f := range r.Reputation.Failed {
		b = binary.AppendUvarint(b, f.Round)
		b = binary.AppendUvarint(b, uint64(len(f.ID)))
		b = append(b, f.ID...)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Reputation.Anchor)))
	for _, id := range r.Reputation.Anchor {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	return b
}

func decodeRoot(data []byte) (storedRoot, error) {
	var r storedRoot
	if len(data) == 0 || data[0] != rootVersion {
		return r, fmt.Errorf("%w: root record: unknown version", ErrBadPayload)
	}
	in := rd{b: data[1:]}
	blk := in.bytes(maxPayloadBytes + 4096)
	qc := in.bytes(1 << 20)
	r.Result = slices.Clone(in.fixed(HashSize))
	n := in.uvarint()
	if in.err == nil && n > maxFailures {
		in.fail("%d failures", n)
	}
	for i := uint64(0); i < n && in.err == nil; i++ {
		round := in.uvarint()
		id := in.bytes(maxIDLen)
		r.Reputation.Failed = append(r.Reputation.Failed, Failure{Round: round, ID: string(id)})
	}
	n = in.uvarint()
	if in.err == nil && n > maxFailures {
		in.fail("%d anchors", n)
	}
	for i := uint64(0); i < n && in.err == nil; i++ {
		r.Reputation.Anchor = append(r.Reputation.Anchor, string(in.bytes(maxIDLen)))
	}
	if in.err != nil {
		return storedRoot{}, in.err
	}
	if len(in.b) != 0 {
		return storedRoot{}, fmt.Errorf("%w: root record: %d trailing bytes", ErrBadPayload, len(in.b))
	}
	var err error
	if r.Block, err = DecodeBlock(blk); err != nil {
		return storedRoot{}, fmt.Errorf("root record: %w", err)
	}
	if r.QC, err = decodeQC(qc); err != nil {
		return storedRoot{}, fmt.Errorf("root record: %w", err)
	}
	return r, nil
}

func encodeQC(q *pb.QC) []byte {
	if q == nil {
		return nil
	}
	return types.EncodeCanonical(q)
}

func decodeQC(b []byte) (*pb.QC, error) {
	if len(b) == 0 {
		return nil, nil
	}
	q := &pb.QC{}
	if err := proto.Unmarshal(b, q); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if !bytes.Equal(types.EncodeCanonical(q), b) {
		return nil, fmt.Errorf("%w: a QC with unknown fields or not in canonical encoding", ErrBadMessage)
	}
	if err := checkQC(q, false); err != nil {
		return nil, err
	}
	return q, nil
}

// evidenceFile holds every equivocation the driver was told of, appended
// as records of
//
//	uvarint-length validator id, uvarint round,
//	uvarint-length message A, uvarint-length message B
const (
	evidenceFile   = "evidence"
	maxEvidenceMsg = 128 << 20
)

func encodeEvidence(ev []Evidence) []byte {
	var b []byte
	for _, e := range ev {
		b = binary.AppendUvarint(b, uint64(len(e.Validator)))
		b = append(b, e.Validator...)
		b = binary.AppendUvarint(b, e.Round)
		b = binary.AppendUvarint(b, uint64(len(e.A)))
		b = append(b, e.A...)
		b = binary.AppendUvarint(b, uint64(len(e.B)))
		b = append(b, e.B...)
	}
	return b
}

// decodeEvidence reads records until the data ends. A record cut short
// (a crash during an append) ends the list with an error wrapping
// ErrBadPayload, after the records before it.
func decodeEvidence(data []byte) ([]Evidence, error) {
	var out []Evidence
	in := rd{b: data}
	for len(in.b) > 0 {
		id := in.bytes(maxIDLen)
		round := in.uvarint()
		a := in.bytes(maxEvidenceMsg)
		b := in.bytes(maxEvidenceMsg)
		if in.err != nil {
			return out, fmt.Errorf("evidence record %d: %w", len(out), in.err)
		}
		out = append(out, Evidence{Validator: string(id), Round: round, A: slices.Clone(a), B: slices.Clone(b)})
	}
	return out, nil
}

// appendEvidence adds ev to the evidence file durably.
func (s *fileStore) appendEvidence(ev []Evidence) error {
	f, err := os.OpenFile(filepath.Join(s.dir, evidenceFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("bft storage: evidence: %w", err)
	}
	if _, err := f.Write(encodeEvidence(ev)); err != nil {
		f.Close()
		return fmt.Errorf("bft storage: evidence: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("bft storage: evidence: %w", err)
	}
	return f.Close()
}

// loadEvidence reads the evidence file; a record cut short by a crash is
// dropped.
func (s *fileStore) loadEvidence() ([]Evidence, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, evidenceFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bft storage: evidence: %w", err)
	}
	ev, _ := decodeEvidence(b)
	return ev, nil
}
