package raft

import (
	"bytes"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/types"
)

// FuzzDecodeBlock: the block entry decoder never panics, what it accepts
// re-encodes to the same bytes (one encoding per block), and blockHeight
// (startup's quick look) reads the same height.
func FuzzDecodeBlock(f *testing.F) {
	f.Add(encodeBlock(1, 1700000000000, []byte{1}, testTxs(f, 3)))
	f.Add(encodeBlock(1<<40, 0, nil, nil))
	f.Add([]byte{blockVersion, 1, 0, 0, 1, 2, 0xaa, 0xbb})
	f.Add([]byte{blockVersion, 0x80, 0x00, 0, 0, 0})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, hok := blockHeight(data)
		b, err := decodeBlock(data)
		if err != nil {
			return
		}
		if !hok || h != b.Height {
			t.Fatalf("blockHeight = %d, %v; the block decodes with height %d", h, hok, b.Height)
		}
		txs := make([]*types.Tx, len(b.Txs))
		for i, raw := range b.Txs {
			txs[i] = &types.Tx{Raw: raw}
		}
		if !bytes.Equal(encodeBlock(b.Height, b.Time, b.Proposer, txs), data) {
			t.Fatalf("accepted block does not re-encode to its bytes: %x", data)
		}
	})
}

// FuzzDecodeSnapData: the snapshot data decoder never panics and has one
// encoding per value.
func FuzzDecodeSnapData(f *testing.F) {
	f.Add(encodeSnapData(snapData{Height: 42, Hash: [32]byte{1, 2, 3}, MaxID: 7}))
	f.Add(append([]byte{1, 42}, make([]byte, 32)...)) // version 1: no max id
	f.Add([]byte{snapDataVersion, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSnapData(data)
		if err != nil {
			return
		}
		if data[0] == snapDataVersion && !bytes.Equal(encodeSnapData(s), data) {
			t.Fatalf("accepted snapshot data does not re-encode to its bytes: %x", data)
		}
	})
}

// FuzzDecodeMessage: bytes from the network never panic the message decoder,
// and an accepted message is one a peer may send.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range []*raftpb.Message{
		{Type: raftpb.MsgApp.Enum(), To: new(uint64(1)), From: new(uint64(2)), Term: new(uint64(3)),
			Entries: []*raftpb.Entry{{Index: new(uint64(4)), Term: new(uint64(3)), Data: encodeBlock(1, 1, nil, nil)}}},
		{Type: raftpb.MsgHeartbeat.Enum(), To: new(uint64(1)), From: new(uint64(2))},
		{Type: raftpb.MsgSnap.Enum(), To: new(uint64(1)), From: new(uint64(2)),
			Snapshot: &raftpb.Snapshot{Data: encodeSnapData(snapData{Height: 1})}},
		{Type: raftpb.MsgStorageAppend.Enum(), To: new(uint64(1)), From: new(uint64(2))},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		if err != nil {
			return
		}
		if m.GetFrom() == 0 || m.GetTo() == 0 || m.GetType() == raftpb.MsgProp || len(m.GetResponses()) > 0 {
			t.Fatalf("accepted a message no peer may send: %v", m)
		}
		if _, err := proto.Marshal(m); err != nil {
			t.Fatalf("accepted message does not re-encode: %v", err)
		}
	})
}
