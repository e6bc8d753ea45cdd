package raft

import (
	"encoding/binary"
	"fmt"

	"github.com/accord-chain/accord/types"
)

// Formats of what this engine writes into the Raft log and its snapshots.
// Versions only go up; decoders reject versions they do not know.
const (
	blockVersion    = 1
	snapDataVersion = 2 // 2 added MaxID; 1 is still read

	maxProposerLen = 256
	// maxBlockBytes bounds a block entry's transactions (Config.MaxBlockBytes).
	maxBlockBytes = 64 << 20
)

// block is a decoded block entry. Proposer and Txs alias the entry's bytes.
type block struct {
	Height   uint64
	Time     uint64 // unix ms, as proposed; Apply gets max(Time, previous + 1)
	Proposer []byte
	Txs      [][]byte
}

// A block entry is:
//
//	version   1 byte (1)
//	height    uvarint, >= 1
//	time      uvarint, unix ms
//	proposer  uvarint length (<= 256), bytes
//	count     uvarint
//	count ×   uvarint length (1 .. types.MaxSize), raw transaction bytes
//
// Varints are minimal and nothing may follow the last transaction, so each
// block has exactly one encoding.
func encodeBlock(height, t uint64, proposer []byte, txs []*types.Tx) []byte {
	n := 1 + uvarintLen(height) + uvarintLen(t) + uvarintLen(uint64(len(proposer))) + len(proposer) + uvarintLen(uint64(len(txs)))
	for _, tx := range txs {
		n += uvarintLen(uint64(len(tx.Raw))) + len(tx.Raw)
	}
	b := make([]byte, 0, n)
	b = append(b, blockVersion)
	b = binary.AppendUvarint(b, height)
	b = binary.AppendUvarint(b, t)
	b = binary.AppendUvarint(b, uint64(len(proposer)))
	b = append(b, proposer...)
	b = binary.AppendUvarint(b, uint64(len(txs)))
	for _, tx := range txs {
		b = binary.AppendUvarint(b, uint64(len(tx.Raw)))
		b = append(b, tx.Raw...)
	}
	return b
}

// blockHeight reads only the height of a block entry.
func blockHeight(data []byte) (uint64, bool) {
	if len(data) == 0 || data[0] != blockVersion {
		return 0, false
	}
	h, n := binary.Uvarint(data[1:])
	return h, n > 0
}

func decodeBlock(data []byte) (block, error) {
	var b block
	if len(data) == 0 {
		return b, fmt.Errorf("%w: empty block entry", ErrBadEntry)
	}
	if data[0] != blockVersion {
		return b, fmt.Errorf("%w: block entry version %d (this node knows %d): upgrade the node", ErrBadEntry, data[0], blockVersion)
	}
	r := reader{b: data[1:]}
	b.Height = r.uvarint()
	b.Time = r.uvarint()
	b.Proposer = r.bytes(maxProposerLen)
	count := r.uvarint()
	if r.err == nil && count > uint64(len(r.b)/2) { // each tx takes at least 2 bytes
		r.fail("%d transactions in %d bytes", count, len(r.b))
	}
	if r.err == nil && count > 0 {
		b.Txs = make([][]byte, 0, count)
		for i := uint64(0); i < count && r.err == nil; i++ {
			tx := r.bytes(types.MaxSize)
			if r.err == nil && len(tx) == 0 {
				r.fail("transaction %d is empty", i)
			}
			b.Txs = append(b.Txs, tx)
		}
	}
	switch {
	case r.err != nil:
		return block{}, r.err
	case len(r.b) != 0:
		return block{}, fmt.Errorf("%w: %d bytes after the last transaction", ErrBadEntry, len(r.b))
	case b.Height == 0:
		return block{}, fmt.Errorf("%w: block height 0", ErrBadEntry)
	}
	return b, nil
}

// snapData is the application part of a Raft snapshot: a durable block the
// snapshot's index covers, and the highest Raft id the cluster ever used (ids
// are never reused, and the snapshot's ConfState names only the current
// voters). Encoded as version (1 byte) ‖ uvarint height ‖ 32-byte block hash
// ‖ uvarint max id; version 1 lacks the max id (read as 0).
type snapData struct {
	Height uint64
	Hash   [32]byte
	MaxID  uint64
}

func encodeSnapData(s snapData) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+32)
	b = append(b, snapDataVersion)
	b = binary.AppendUvarint(b, s.Height)
	b = append(b, s.Hash[:]...)
	return binary.AppendUvarint(b, s.MaxID)
}

func decodeSnapData(data []byte) (snapData, error) {
	var s snapData
	if len(data) == 0 {
		return s, fmt.Errorf("%w: empty snapshot data", ErrBadEntry)
	}
	if data[0] != 1 && data[0] != snapDataVersion {
		return s, fmt.Errorf("%w: snapshot version %d (this node knows 1 to %d): upgrade the node", ErrBadEntry, data[0], snapDataVersion)
	}
	r := reader{b: data[1:]}
	s.Height = r.uvarint()
	if r.err != nil {
		return snapData{}, r.err
	}
	if data[0] == 1 {
		if len(r.b) != 32 {
			return snapData{}, fmt.Errorf("%w: snapshot block hash of %d bytes, want 32", ErrBadEntry, len(r.b))
		}
		copy(s.Hash[:], r.b)
		return s, nil
	}
	if len(r.b) < 32 {
		return snapData{}, fmt.Errorf("%w: snapshot block hash of %d bytes, want 32", ErrBadEntry, len(r.b))
	}
	copy(s.Hash[:], r.b)
	r.b = r.b[32:]
	s.MaxID = r.uvarint()
	switch {
	case r.err != nil:
		return snapData{}, r.err
	case len(r.b) != 0:
		return snapData{}, fmt.Errorf("%w: %d bytes after the snapshot's max id", ErrBadEntry, len(r.b))
	}
	return s, nil
}

// reader decodes minimal uvarints and length-prefixed byte strings; the first
// failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrBadEntry}, args...)...)
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("truncated or overlong varint")
		return 0
	}
	if n > 1 && r.b[n-1] == 0 {
		r.fail("non-minimal varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(r.b)) {
		r.fail("field of %d bytes (limit %d, %d left)", n, limit, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
