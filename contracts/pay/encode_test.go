package pay

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
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

// TestDecodeMerchantMatchesProtobuf: the hand decoder of merchant records
// accepts exactly the records decodeState accepts (with a 20-byte owner)
// and reads the same id and owner, for valid records and for random
// corruptions of them.
func TestDecodeMerchantMatchesProtobuf(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		// Mostly valid records, so that the corruptions below are what
		// decides.
		ownerLen := rapid.SampledFrom([]int{20, 20, 20, 20, 0, 19, 21}).Draw(rt, "owner length")
		m := &pb.Merchant{Version: rapid.SampledFrom([]uint32{1, 1, 1, 1, 0, 2}).Draw(rt, "version"),
			Id: rapid.StringN(0, 20, 40).Draw(rt, "id"), Name: rapid.StringN(0, 20, 60).Draw(rt, "name"),
			Owner:         rapid.SliceOfN(rapid.Byte(), ownerLen, ownerLen).Draw(rt, "owner"),
			CreatedHeight: rapid.Uint64().Draw(rt, "height")}
		v := marshal(m)
		switch rapid.IntRange(0, 5).Draw(rt, "mutation") {
		case 1: // flip bytes
			for range rapid.IntRange(1, 3).Draw(rt, "flips") {
				if len(v) > 0 {
					v[rapid.IntRange(0, len(v)-1).Draw(rt, "at")] ^= rapid.Byte().Draw(rt, "xor")
				}
			}
		case 2: // truncate
			v = v[:rapid.IntRange(0, len(v)).Draw(rt, "len")]
		case 3: // append random bytes: more fields, repeated ones, junk
			v = append(v, rapid.SliceOfN(rapid.Byte(), 1, 30).Draw(rt, "tail")...)
		case 4: // a field repeated with another value: the last one wins
			v = append(v, marshal(&pb.Merchant{Owner: rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(rt, "owner2")})...)
		case 5: // a string field of bytes that may not be UTF-8
			num := protowire.Number(rapid.IntRange(2, 3).Draw(rt, "field"))
			v = protowire.AppendBytes(protowire.AppendTag(v, num, protowire.BytesType), rapid.SliceOfN(rapid.Byte(), 0, 4).Draw(rt, "raw"))
		}
		want := new(pb.Merchant)
		werr := decodeState(v, want)
		if werr == nil && len(want.Owner) != 20 {
			werr = errCorrupt
		}
		got, err := decodeMerchant("x", v)
		if (err == nil) != (werr == nil) {
			rt.Fatalf("record %x: hand decoder says %v, protobuf %v", v, err, werr)
		}
		if err == nil && (got.Id != want.Id || !bytes.Equal(got.Owner[:], want.Owner)) {
			rt.Fatalf("record %x: hand decoder read %q/%x, protobuf %q/%x", v, got.Id, got.Owner, want.Id, want.Owner)
		}
		if err != nil && !errors.Is(err, errCorrupt) {
			rt.Fatalf("record %x: error %v is not ErrCorrupt", v, err)
		}
	})
}
