package pay

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"

	"github.com/accord-chain/accord/contracts/pay/pb"
)

// TestEncodingsMatchProtobuf: the hand encoders write exactly the bytes of
// deterministic protobuf, zero fields included, so state written before
// and after them is the same.
func TestEncodingsMatchProtobuf(t *testing.T) {
	u64 := rapid.OneOf(rapid.Just(uint64(0)), rapid.Uint64Range(1, 300), rapid.Uint64())
	u32 := rapid.OneOf(rapid.Just(uint32(0)), rapid.Uint32())
	blob := rapid.SliceOfN(rapid.Byte(), 0, 200)
	rapid.Check(t, func(rt *rapid.T) {
		p := &pb.Payment{Version: u32.Draw(rt, "version"), Merchant: rapid.StringN(0, 150, 150).Draw(rt, "merchant"),
			Payer: blob.Draw(rt, "payer"), Amount: u64.Draw(rt, "amount"), Refunded: u64.Draw(rt, "refunded"),
			Request: blob.Draw(rt, "request"), Height: u64.Draw(rt, "height"), Time: u64.Draw(rt, "time")}
		e := &pb.Entry{Version: u32.Draw(rt, "eversion"), Kind: u32.Draw(rt, "kind"), Id: blob.Draw(rt, "id"),
			Amount: u64.Draw(rt, "eamount"), Payment: blob.Draw(rt, "payment")}
		wantP, wantE := marshal(p), marshal(e)
		if got := appendPayment(nil, p); !bytes.Equal(got, wantP) || paymentSize(p) != len(wantP) {
			rt.Fatalf("payment %v: %x (size %d), protobuf %x", p, got, paymentSize(p), wantP)
		}
		if got := appendEntry(nil, e); !bytes.Equal(got, wantE) || entrySize(e) != len(wantE) {
			rt.Fatalf("entry %v: %x (size %d), protobuf %x", e, got, entrySize(e), wantE)
		}
		gp, ge := encodeRecords(p, e)
		if !bytes.Equal(gp, wantP) || !bytes.Equal(ge, wantE) || cap(gp) != len(gp) {
			rt.Fatalf("encodeRecords: %x %x (cap %d), want %x %x", gp, ge, cap(gp), wantP, wantE)
		}
	})
}
