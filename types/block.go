package types

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types/pb"
)

// HeaderVersion is the only header format this code produces and accepts.
const HeaderVersion = 1

// ErrBadBlock is returned for block bytes that do not decode.
var ErrBadBlock = errors.New("malformed block")

var deterministic = proto.MarshalOptions{Deterministic: true}

// Block is a decoded block: its header and transactions in order.
type Block struct {
	Header *pb.Header
	Hash   Hash
	Txs    []*Tx
}

// HeaderHash is the chain hash of the header's deterministic encoding.
func HeaderHash(h crypto.Hash, hdr *pb.Header) (Hash, []byte, error) {
	b, err := deterministic.Marshal(hdr)
	if err != nil {
		return Hash{}, nil, err
	}
	return Hash(h.Sum(b)), b, nil
}

// EncodeBlock writes a pb.Block: the header followed by each transaction's
// raw bytes, which are already encoded pb.Tx messages and are not re-encoded.
func EncodeBlock(header []byte, txs []*Tx) []byte {
	n := protowire.SizeTag(1) + protowire.SizeBytes(len(header))
	for _, tx := range txs {
		n += protowire.SizeTag(2) + protowire.SizeBytes(len(tx.Raw))
	}
	b := make([]byte, 0, n)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, header)
	for _, tx := range txs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, tx.Raw)
	}
	return b
}

// DecodeBlock decodes block bytes as written by EncodeBlock. Transactions
// alias raw. The header hash is computed over the header bytes as stored.
func DecodeBlock(raw []byte, h crypto.Hash) (*Block, error) {
	hb, txs, err := SplitBlock(raw)
	if err != nil {
		return nil, err
	}
	hdr, err := DecodeHeader(hb)
	if err != nil {
		return nil, err
	}
	if uint32(len(txs)) != hdr.TxCount || len(txs) != int(hdr.TxCount) {
		return nil, fmt.Errorf("%w: header counts %d transactions, block has %d", ErrBadBlock, hdr.TxCount, len(txs))
	}
	blk := &Block{Header: hdr, Hash: Hash(h.Sum(hb)), Txs: make([]*Tx, len(txs))}
	for i, txb := range txs {
		tx, err := DecodeTx(txb, h)
		if err != nil {
			return nil, fmt.Errorf("%w: transaction %d: %v", ErrBadBlock, i, err)
		}
		blk.Txs[i] = tx
	}
	return blk, nil
}

// EncodeReceipt is the canonical encoding of a receipt, the one hashed into
// the receipt root.
func EncodeReceipt(r *pb.Receipt) []byte {
	b, err := deterministic.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("types: encoding a receipt cannot fail: %v", err))
	}
	return b
}

// DecodeReceipt decodes a stored receipt.
func DecodeReceipt(b []byte) (*pb.Receipt, error) {
	r := new(pb.Receipt)
	if err := proto.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("malformed receipt: %w", err)
	}
	return r, nil
}

// SplitBlock splits block bytes into the header bytes and each transaction's
// raw bytes without decoding the transactions, for readers that need one.
func SplitBlock(raw []byte) (header []byte, txs [][]byte, err error) {
	b := raw
	for first := true; len(b) > 0; first = false {
		num, typ, n := protowire.ConsumeTag(b)
		want := protowire.Number(2)
		if first {
			want = 1
		}
		if n < 0 || num != want || typ != protowire.BytesType {
			return nil, nil, fmt.Errorf("%w: unexpected field %d", ErrBadBlock, num)
		}
		b = b[n:]
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return nil, nil, fmt.Errorf("%w: field truncated", ErrBadBlock)
		}
		b = b[m:]
		if first {
			header = v
		} else {
			txs = append(txs, v)
		}
	}
	if header == nil {
		return nil, nil, fmt.Errorf("%w: header missing", ErrBadBlock)
	}
	size := protowire.SizeTag(1) + protowire.SizeBytes(len(header))
	for _, tx := range txs {
		size += protowire.SizeTag(2) + protowire.SizeBytes(len(tx))
	}
	if size != len(raw) {
		return nil, nil, fmt.Errorf("%w: not minimally encoded", ErrBadBlock)
	}
	return header, txs, nil
}

// DecodeHeader decodes header bytes, rejecting unknown fields and versions.
func DecodeHeader(b []byte) (*pb.Header, error) {
	hdr := new(pb.Header)
	if err := proto.Unmarshal(b, hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadBlock, err)
	}
	if len(hdr.ProtoReflect().GetUnknown()) > 0 {
		return nil, fmt.Errorf("%w: header has unknown fields", ErrBadBlock)
	}
	if hdr.Version != HeaderVersion {
		return nil, fmt.Errorf("%w: header version %d (this node knows %d)", ErrBadBlock, hdr.Version, HeaderVersion)
	}
	return hdr, nil
}

// TxID computes a transaction's id from its raw bytes without decoding the
// payload.
func TxID(raw []byte, h crypto.Hash) (Hash, error) {
	payload, _, err := splitEnvelope(raw)
	if err != nil {
		return Hash{}, err
	}
	return Hash(h.Sum(payload)), nil
}
