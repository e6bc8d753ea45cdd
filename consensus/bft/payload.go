package bft

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// ErrBadPayload wraps every refusal of a block payload or a stored record
// of the driver.
var ErrBadPayload = errors.New("bft: bad payload")

const (
	payloadVersion = 1
	// payloadV2 adds membership changes after the transactions; a payload
	// without changes is written as version 1.
	payloadV2 = 2
	// maxPayloadBytes bounds a payload's transactions.
	maxPayloadBytes = 64 << 20
)

// payload is what the driver puts into a block: the proposer's clock and
// the transactions, both opaque to the core.
type payload struct {
	Time    uint64 // unix ms as proposed; Apply gets max(Time, previous + 1)
	Txs     [][]byte
	Changes [][]byte // membership changes (version 2): the block ends the epoch
}

// A payload is:
//
//	version  1 byte (1)
//	time     uvarint, unix ms
//	count    uvarint
//	count ×  uvarint length (1 .. types.MaxSize), raw transaction bytes
//
// Version 2 adds, after the transactions:
//
//	changes  uvarint (1 .. maxChanges)
//	changes × uvarint length (1 .. maxChangeBytes), an opaque membership change
//
// Varints are minimal and nothing may follow the last transaction, so each
// payload has exactly one encoding.
func encodePayload(t uint64, txs []*types.Tx) []byte {
	return encodePayloadChanges(t, txs, nil)
}

func encodePayloadChanges(t uint64, txs []*types.Tx, changes [][]byte) []byte {
	n := 1 + 3*binary.MaxVarintLen64
	for _, tx := range txs {
		n += binary.MaxVarintLen64 + len(tx.Raw)
	}
	b := make([]byte, 0, n)
	if len(changes) > 0 {
		b = append(b, payloadV2)
	} else {
		b = append(b, payloadVersion)
	}
	b = binary.AppendUvarint(b, t)
	b = binary.AppendUvarint(b, uint64(len(txs)))
	for _, tx := range txs {
		b = binary.AppendUvarint(b, uint64(len(tx.Raw)))
		b = append(b, tx.Raw...)
	}
	if len(changes) > 0 {
		b = binary.AppendUvarint(b, uint64(len(changes)))
		for _, c := range changes {
			b = binary.AppendUvarint(b, uint64(len(c)))
			b = append(b, c...)
		}
	}
	return b
}

func decodePayload(data []byte) (payload, error) {
	var p payload
	if len(data) == 0 {
		return p, fmt.Errorf("%w: empty payload", ErrBadPayload)
	}
	if data[0] != payloadVersion && data[0] != payloadV2 {
		return p, fmt.Errorf("%w: payload version %d (this node knows %d and %d): upgrade the node", ErrBadPayload, data[0], payloadVersion, payloadV2)
	}
	if len(data) > maxPayloadBytes {
		return p, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrBadPayload, len(data), maxPayloadBytes)
	}
	r := rd{b: data[1:]}
	p.Time = r.uvarint()
	count := r.uvarint()
	if r.err == nil && count > uint64(len(r.b)/2) { // each tx takes at least 2 bytes
		r.fail("%d transactions in %d bytes", count, len(r.b))
	}
	for i := uint64(0); i < count && r.err == nil; i++ {
		tx := r.bytes(types.MaxSize)
		if r.err == nil && len(tx) == 0 {
			r.fail("transaction %d is empty", i)
		}
		p.Txs = append(p.Txs, tx)
	}
	if data[0] == payloadV2 {
		n := r.uvarint()
		if r.err == nil && (n == 0 || n > maxChanges) {
			r.fail("%d membership changes (1 to %d)", n, maxChanges)
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			c := r.bytes(maxChangeBytes)
			if r.err == nil && len(c) == 0 {
				r.fail("membership change %d is empty", i)
			}
			p.Changes = append(p.Changes, c)
		}
	}
	switch {
	case r.err != nil:
		return payload{}, r.err
	case len(r.b) != 0:
		return payload{}, fmt.Errorf("%w: %d bytes after the payload's end", ErrBadPayload, len(r.b))
	}
	return p, nil
}

// decodeTxs decodes a payload's transactions.
func decodeTxs(raws [][]byte, h crypto.Hash) ([]*types.Tx, error) {
	txs := make([]*types.Tx, len(raws))
	for i, raw := range raws {
		tx, err := types.DecodeTx(raw, h)
		if err != nil {
			return nil, fmt.Errorf("%w: transaction %d: %w", ErrBadPayload, i, err)
		}
		txs[i] = tx
	}
	return txs, nil
}

// rd reads minimal uvarints and length-prefixed bytes, keeping the first
// error.
type rd struct {
	b   []byte
	err error
}

func (r *rd) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrBadPayload, fmt.Sprintf(format, a...))
	}
}

func (r *rd) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	if n != uvarintLen(v) {
		r.fail("non-minimal varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rd) bytes(max int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(r.b)) {
		r.fail("a field of %d bytes (at most %d, %d left)", n, max, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *rd) fixed(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail("want %d bytes, %d left", n, len(r.b))
		return nil
	}
	v := r.b[:n]
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
