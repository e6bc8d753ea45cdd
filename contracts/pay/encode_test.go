package pay

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	"github.com/accord-chain/accord/contracts/pay/pb"
	"github.com/accord-chain/accord/types"
)

// TestEncodingsMatchProtobuf: the hand encoder writes exactly the bytes
// of deterministic protobuf, zero fields included, so state written
// before and after it is the same.
func TestEncodingsMatchProtobuf(t *testing.T) {
	u64 := rapid.OneOf(rapid.Just(uint64(0)), rapid.Uint64Range(1, 300), rapid.Uint64())
	u32 := rapid.OneOf(rapid.Just(uint32(0)), rapid.Uint32())
	blob := rapid.SliceOfN(rapid.Byte(), 0, 200)
	rapid.Check(t, func(rt *rapid.T) {
		e := &pb.Entry{Version: u32.Draw(rt, "version"), Kind: u32.Draw(rt, "kind"), Id: blob.Draw(rt, "id"),
			Amount: u64.Draw(rt, "amount"), Payment: blob.Draw(rt, "payment"), Payer: blob.Draw(rt, "payer"),
			Request: blob.Draw(rt, "request"), Refunded: u64.Draw(rt, "refunded")}
		want := marshal(e)
		if got := appendEntry(nil, e); !bytes.Equal(got, want) || entrySize(e) != len(want) {
			rt.Fatalf("entry %v: %x (size %d), protobuf %x", e, got, entrySize(e), want)
		}
		if got := encodeEntry(e); !bytes.Equal(got, want) || cap(got) != len(got) {
			rt.Fatalf("encodeEntry: %x (cap %d), want %x", got, cap(got), want)
		}
	})
}

// FuzzDecodeEntry: any bytes stored as an entry either decode, and then
// encode back to a record that decodes the same (state is rewritten with
// encodeEntry when a refund updates a payment), or fail with ErrCorrupt;
// a payment entry is found by its id alone.
func FuzzDecodeEntry(f *testing.F) {
	id := make([]byte, 32)
	id[0] = 7
	f.Add(encodeEntry(&pb.Entry{Version: 1, Kind: KindPayment, Id: id, Amount: 5, Payer: make([]byte, 20)}))
	f.Add(encodeEntry(&pb.Entry{Version: 1, Kind: KindRefund, Id: id, Amount: 5, Payment: id}))
	f.Add([]byte{0xff})
	key := entryKey("shop", 20429, 12, 3)
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := DecodeEntry(key, v)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("%x: error %v is not ErrCorrupt", v, err)
			}
			return
		}
		if e.Height != 12 || e.Index != 3 {
			t.Fatalf("%x: place %d/%d, want 12/3", v, e.Height, e.Index)
		}
		back, err := DecodeEntry(key, encodeEntry(e.Entry))
		if err != nil || !proto.Equal(back.Entry, e.Entry) {
			t.Fatalf("%x: %v re-encodes to %v, %v", v, e.Entry, back.Entry, err)
		}
		p, err := paymentEntry(v, types.Hash(e.Id))
		if err != nil || (p != nil) != (e.Kind == KindPayment) {
			t.Fatalf("%x: kind %d read as payment %v, %v", v, e.Kind, p, err)
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
