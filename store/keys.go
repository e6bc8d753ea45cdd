package store

import (
	"encoding/binary"
	"fmt"
)

// Key layout. Everything lives in one pebble DB; the first byte of a key
// says what it is. Heights and indexes are big-endian so that pebble's
// bytewise order is numeric order, which keeps a block's receipts adjacent and
// in tx order and makes future range scans (pruning, export) cheap.
//
//	0x01                          format version  -> uint64 (8 bytes)
//	0x02                          tip             -> tip encoding (see encodeTip)
//	0x03 | name                   meta blob       -> opaque
//	0x10 | height(8)              block           -> opaque encoded block
//	0x11 | block hash(32)         hash index      -> height(8)
//	0x12 | tx id(32)              tx index        -> height(8) | index(4)
//	0x13 | height(8) | index(4)   receipt         -> opaque encoded receipt
//	0x20 | key                    state           -> value
//
// The singleton keys sort first, then the chain data, then state, so the
// state keyspace is one contiguous range that ends at the end of the DB.
// Prefixes are never reused for a different meaning; a change to the layout
// or to an encoding must bump formatVersion.
const (
	prefixVersion  byte = 0x01
	prefixTip      byte = 0x02
	prefixMeta     byte = 0x03
	prefixBlock    byte = 0x10
	prefixHash     byte = 0x11
	prefixTx       byte = 0x12
	prefixReceipt  byte = 0x13
	prefixState    byte = 0x20
	prefixStateEnd byte = prefixState + 1
)

// formatVersion is the on-disk format this code writes and understands. It is
// written when a store is created and checked on every open.
const formatVersion uint64 = 1

var (
	keyVersion = []byte{prefixVersion}
	keyTip     = []byte{prefixTip}
)

const (
	hashLen       = 32
	heightLen     = 8
	indexLen      = 4
	txLocLen      = heightLen + indexLen
	tipLen        = 8 + 8 + 3*hashLen
	blockKeyLen   = 1 + heightLen
	hashKeyLen    = 1 + hashLen
	txKeyLen      = 1 + hashLen
	receiptKeyLen = 1 + heightLen + indexLen
)

func blockKey(h uint64) []byte {
	k := make([]byte, blockKeyLen)
	k[0] = prefixBlock
	binary.BigEndian.PutUint64(k[1:], h)
	return k
}

func hashKey(h Hash) []byte {
	k := make([]byte, hashKeyLen)
	k[0] = prefixHash
	copy(k[1:], h[:])
	return k
}

func txKey(id Hash) []byte {
	k := make([]byte, txKeyLen)
	k[0] = prefixTx
	copy(k[1:], id[:])
	return k
}

func receiptKey(h uint64, i uint32) []byte {
	k := make([]byte, receiptKeyLen)
	k[0] = prefixReceipt
	binary.BigEndian.PutUint64(k[1:], h)
	binary.BigEndian.PutUint32(k[1+heightLen:], i)
	return k
}

// receiptBounds returns the [lower, upper) key range of the receipts of
// height h.
func receiptBounds(h uint64) (lower, upper []byte) {
	lower = make([]byte, 1+heightLen)
	lower[0] = prefixReceipt
	binary.BigEndian.PutUint64(lower[1:], h)
	if h == ^uint64(0) {
		return lower, []byte{prefixReceipt + 1}
	}
	upper = make([]byte, 1+heightLen)
	upper[0] = prefixReceipt
	binary.BigEndian.PutUint64(upper[1:], h+1)
	return lower, upper
}

func metaKey(name string) []byte {
	k := make([]byte, 1+len(name))
	k[0] = prefixMeta
	copy(k[1:], name)
	return k
}

func encodeUint64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}

func decodeHeight(what string, v []byte) (uint64, error) {
	if len(v) != heightLen {
		return 0, fmt.Errorf("%w: %s value has %d bytes, want %d", ErrCorrupt, what, len(v), heightLen)
	}
	return binary.BigEndian.Uint64(v), nil
}

func encodeTxLoc(h uint64, i uint32) []byte {
	v := make([]byte, txLocLen)
	binary.BigEndian.PutUint64(v, h)
	binary.BigEndian.PutUint32(v[heightLen:], i)
	return v
}

func decodeTxLoc(v []byte) (uint64, uint32, error) {
	if len(v) != txLocLen {
		return 0, 0, fmt.Errorf("%w: tx index value has %d bytes, want %d", ErrCorrupt, len(v), txLocLen)
	}
	return binary.BigEndian.Uint64(v), binary.BigEndian.Uint32(v[heightLen:]), nil
}

// encodeTip encodes a (non-empty) tip as
//
//	height(8) | time(8) | block hash(32) | write set hash(32) | state hash(32)
//
// Empty is not stored: a store without a tip key has an empty tip.
func encodeTip(t Tip) []byte {
	v := make([]byte, 0, tipLen)
	v = binary.BigEndian.AppendUint64(v, t.Height)
	v = binary.BigEndian.AppendUint64(v, t.Time)
	v = append(v, t.BlockHash[:]...)
	v = append(v, t.WriteSetHash[:]...)
	v = append(v, t.StateHash[:]...)
	return v
}

func decodeTip(v []byte) (Tip, error) {
	if len(v) != tipLen {
		return Tip{}, fmt.Errorf("%w: tip value has %d bytes, want %d", ErrCorrupt, len(v), tipLen)
	}
	var t Tip
	t.Height = binary.BigEndian.Uint64(v[0:])
	t.Time = binary.BigEndian.Uint64(v[8:])
	copy(t.BlockHash[:], v[16:])
	copy(t.WriteSetHash[:], v[16+hashLen:])
	copy(t.StateHash[:], v[16+2*hashLen:])
	return t, nil
}
