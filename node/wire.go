package node

import (
	"encoding/binary"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/txpool"
)

// Encodings of the node-to-node requests (see network.go). Every decoder
// here reads bytes from another node and is fuzzed.

// maxWireItems bounds the count field of a list before anything is
// allocated for it.
const maxWireItems = 1 << 20

var errWire = errors.New("malformed node-to-node message")

var errDuplicate = txpool.ErrDuplicate

// encodeRaws frames a list of byte strings: a 4-byte count, then each as a
// 4-byte length and its bytes (big-endian).
func encodeRaws(items [][]byte) []byte {
	n := 4
	for _, it := range items {
		n += 4 + len(it)
	}
	b := make([]byte, 4, n)
	binary.BigEndian.PutUint32(b, uint32(len(items)))
	for _, it := range items {
		b = binary.BigEndian.AppendUint32(b, uint32(len(it)))
		b = append(b, it...)
	}
	return b
}

// decodeRaws is the inverse of encodeRaws. The items alias b.
func decodeRaws(b []byte) ([][]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: short list", errWire)
	}
	count := binary.BigEndian.Uint32(b)
	b = b[4:]
	// Each item takes at least its 4-byte length.
	if count > maxWireItems || uint64(count)*4 > uint64(len(b)) {
		return nil, fmt.Errorf("%w: list of %d items in %d bytes", errWire, count, len(b))
	}
	out := make([][]byte, 0, count)
	for range count {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: truncated item length", errWire)
		}
		l := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: item of %d bytes, %d left", errWire, l, len(b))
		}
		out = append(out, b[:l:l])
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the list", errWire, len(b))
	}
	return out, nil
}

// encodeVerdicts frames verdicts as a list: an empty item for an admitted
// transaction, else a code byte, the reason, a zero byte and the message.
func encodeVerdicts(vs []verdict) []byte {
	items := make([][]byte, len(vs))
	for i, v := range vs {
		if v.reason == "" {
			continue
		}
		it := make([]byte, 0, 2+len(v.reason)+len(v.msg))
		it = append(it, byte(v.code))
		it = append(it, v.reason...)
		it = append(it, 0)
		items[i] = append(it, v.msg...)
	}
	return encodeRaws(items)
}

// decodeVerdicts is the inverse of encodeVerdicts; want is the number of
// transactions asked about.
func decodeVerdicts(b []byte, want int) ([]verdict, error) {
	items, err := decodeRaws(b)
	if err != nil {
		return nil, err
	}
	if len(items) != want {
		return nil, fmt.Errorf("%w: %d verdicts for %d transactions", errWire, len(items), want)
	}
	out := make([]verdict, len(items))
	for i, it := range items {
		if len(it) == 0 {
			continue
		}
		code := connect.Code(it[0])
		if code == 0 || code > connect.CodeUnauthenticated {
			return nil, fmt.Errorf("%w: verdict code %d", errWire, it[0])
		}
		rest := it[1:]
		k := 0
		for k < len(rest) && rest[k] != 0 {
			k++
		}
		if k == 0 || k == len(rest) {
			return nil, fmt.Errorf("%w: verdict without a reason", errWire)
		}
		out[i] = verdict{code: code, reason: string(rest[:k]), msg: string(rest[k+1:])}
	}
	return out, nil
}
