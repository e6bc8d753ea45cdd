package node

import (
	"errors"
	"slices"
	"testing"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/config"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
	"github.com/accord-chain/accord/txpool"
)

// FuzzDecodeWire: the node's readers of node-to-node messages (verdicts,
// hash reports, members, forwarded changes) refuse any bytes they cannot
// use with p2ppb.ErrMalformed, never a panic; what they accept encodes
// back to the same values.
func FuzzDecodeWire(f *testing.F) {
	f.Add(uint8(0), encodeVerdicts([]error{nil, txpool.ErrPoolFull}))
	f.Add(uint8(1), p2ppb.Marshal(&p2ppb.HashReport{Version: p2ppb.Version, Height: 3, Hash: make([]byte, 32)}))
	f.Add(uint8(2), encodeMembers([]config.Peer{{ID: 1, NodeID: "node0", P2P: "127.0.0.1:1", API: "127.0.0.1:2"}}))
	f.Add(uint8(3), encodeMember(config.Peer{ID: 2, NodeID: "node1", P2P: "127.0.0.1:3"}))
	f.Add(uint8(4), encodeNodeChange(&apipb.ChangeNodesRequest{Change: []byte{1}}))
	f.Add(uint8(5), encodeRemovedQuery(2))
	f.Add(uint8(6), encodeRemovedAnswer(true))
	f.Add(uint8(7), encodeBFTMembers(bftMemberList{peers: []config.Peer{{ID: 1, NodeID: "node0", P2P: "127.0.0.1:1", PubKey: "0102"}}, maxID: 3}))
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		var err error
		switch kind % 8 {
		case 0:
			var vs []error
			if vs, err = decodeVerdicts(b, 2); err == nil {
				_, err = decodeVerdicts(encodeVerdicts(vs), 2)
			}
		case 1:
			_, _, _, err = decodeHashReport(b)
		case 2:
			var ps []config.Peer
			if ps, err = decodeMembers(b); err == nil {
				if again, err2 := decodeMembers(encodeMembers(ps)); err2 != nil || !slices.Equal(again, ps) {
					t.Fatalf("members changed on the way back: %v %v", again, err2)
				}
			}
		case 3:
			var p config.Peer
			if p, err = decodeMember(b); err == nil {
				if again, err2 := decodeMember(encodeMember(p)); err2 != nil || again != p {
					t.Fatalf("member changed on the way back: %v %v", again, err2)
				}
			}
		case 4:
			_, err = decodeNodeChange(b)
		case 5:
			var id uint64
			if id, err = decodeRemovedQuery(b); err == nil {
				if again, err2 := decodeRemovedQuery(encodeRemovedQuery(id)); err2 != nil || again != id {
					t.Fatalf("removal query changed on the way back: %d %v", again, err2)
				}
			}
		case 6:
			var removed bool
			if removed, err = decodeRemovedAnswer(b); err == nil {
				if again, err2 := decodeRemovedAnswer(encodeRemovedAnswer(removed)); err2 != nil || again != removed {
					t.Fatalf("removal answer changed on the way back: %v %v", again, err2)
				}
			}
		case 7:
			var l bftMemberList
			if l, err = decodeBFTMembers(b); err == nil {
				if again, err2 := decodeBFTMembers(encodeBFTMembers(l)); err2 != nil || !slices.Equal(again.peers, l.peers) || again.maxID != l.maxID {
					t.Fatalf("bft members changed on the way back: %v %v", again, err2)
				}
			}
		}
		if err != nil && !errors.Is(err, p2ppb.ErrMalformed) {
			t.Fatalf("refused without ErrMalformed: %v", err)
		}
	})
}
