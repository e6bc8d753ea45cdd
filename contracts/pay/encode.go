package pay

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/accord-chain/accord/contracts/pay/pb"
)

// The record every payment writes, its Entry, is encoded here by hand: the same bytes as marshal (deterministic protobuf: fields
// in number order, zero values left out; TestEncodingsMatchProtobuf checks
// it), without protobuf's reflection, which cost about a tenth of a
// payment's execution.

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

func sizeVarintField(v uint64) int {
	if v == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(v)
}

func sizeBytesField(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + protowire.SizeBytes(n)
}

func entrySize(e *pb.Entry) int {
	return sizeVarintField(uint64(e.Version)) + sizeVarintField(uint64(e.Kind)) + sizeBytesField(len(e.Id)) +
		sizeVarintField(e.Amount) + sizeBytesField(len(e.Payment)) + sizeBytesField(len(e.Payer)) +
		sizeBytesField(len(e.Request)) + sizeVarintField(e.Refunded)
}

// appendEntry appends e as marshal(e) would encode it.
func appendEntry(b []byte, e *pb.Entry) []byte {
	b = appendVarintField(b, 1, uint64(e.Version))
	b = appendVarintField(b, 2, uint64(e.Kind))
	b = appendBytesField(b, 3, e.Id)
	b = appendVarintField(b, 4, e.Amount)
	b = appendBytesField(b, 5, e.Payment)
	b = appendBytesField(b, 6, e.Payer)
	b = appendBytesField(b, 7, e.Request)
	return appendVarintField(b, 8, e.Refunded)
}

// encodeEntry encodes e in one allocation of its exact size.
func encodeEntry(e *pb.Entry) []byte { return appendEntry(make([]byte, 0, entrySize(e)), e) }
