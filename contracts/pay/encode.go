package pay

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/accord-chain/accord/contracts/pay/pb"
)

// The records every payment writes, its Payment and its Entry, are encoded
// here by hand: the same bytes as marshal (deterministic protobuf: fields
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

func paymentSize(p *pb.Payment) int {
	return sizeVarintField(uint64(p.Version)) + sizeBytesField(len(p.Merchant)) + sizeBytesField(len(p.Payer)) +
		sizeVarintField(p.Amount) + sizeVarintField(p.Refunded) + sizeBytesField(len(p.Request)) +
		sizeVarintField(p.Height) + sizeVarintField(p.Time)
}

// appendPayment appends p as marshal(p) would encode it.
func appendPayment(b []byte, p *pb.Payment) []byte {
	b = appendVarintField(b, 1, uint64(p.Version))
	if p.Merchant != "" {
		b = protowire.AppendString(protowire.AppendTag(b, 2, protowire.BytesType), p.Merchant)
	}
	b = appendBytesField(b, 3, p.Payer)
	b = appendVarintField(b, 4, p.Amount)
	b = appendVarintField(b, 5, p.Refunded)
	b = appendBytesField(b, 6, p.Request)
	b = appendVarintField(b, 7, p.Height)
	return appendVarintField(b, 8, p.Time)
}

func entrySize(e *pb.Entry) int {
	return sizeVarintField(uint64(e.Version)) + sizeVarintField(uint64(e.Kind)) + sizeBytesField(len(e.Id)) +
		sizeVarintField(e.Amount) + sizeBytesField(len(e.Payment))
}

// appendEntry appends e as marshal(e) would encode it.
func appendEntry(b []byte, e *pb.Entry) []byte {
	b = appendVarintField(b, 1, uint64(e.Version))
	b = appendVarintField(b, 2, uint64(e.Kind))
	b = appendBytesField(b, 3, e.Id)
	b = appendVarintField(b, 4, e.Amount)
	return appendBytesField(b, 5, e.Payment)
}

// encodeRecords encodes a payment and its entry into one allocation; each
// result's capacity ends at its length, so neither can grow into the other.
func encodeRecords(p *pb.Payment, e *pb.Entry) (payment, entry []byte) {
	np, ne := paymentSize(p), entrySize(e)
	b := make([]byte, 0, np+ne)
	b = appendPayment(b, p)
	b = appendEntry(b, e)
	return b[:np:np], b[np:]
}
