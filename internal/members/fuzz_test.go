package members

import (
	"errors"
	"slices"
	"testing"

	"github.com/accord-chain/accord/config"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// FuzzDecode: the readers of members (a Raft change's member, the stored
// list, an epoch's list) refuse any bytes they cannot use with
// p2ppb.ErrMalformed, never a panic; what they accept encodes back to the
// same values.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(0), EncodePeers([]config.Peer{{ID: 1, NodeID: "node0", P2P: "127.0.0.1:1", API: "127.0.0.1:2"}}))
	f.Add(uint8(1), EncodePeer(config.Peer{ID: 2, NodeID: "node1", P2P: "127.0.0.1:3"}))
	f.Add(uint8(2), List{Peers: []config.Peer{{ID: 1, NodeID: "node0", P2P: "127.0.0.1:1", PubKey: "0102"}}, MaxID: 3}.Encode())
	f.Add(uint8(0), []byte(`[{"id":1,"node_id":"node0","p2p":"127.0.0.1:1"}]`))
	f.Add(uint8(1), []byte(`{"id":2,"node_id":"node1","p2p":"127.0.0.1:3"}`))
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		var err error
		switch kind % 3 {
		case 0:
			var ps []config.Peer
			if ps, err = DecodePeers(b); err == nil {
				if again, err2 := DecodePeers(EncodePeers(ps)); err2 != nil || !slices.Equal(again, ps) {
					t.Fatalf("members changed on the way back: %v %v", again, err2)
				}
			}
		case 1:
			var p config.Peer
			if p, err = DecodePeer(b); err == nil {
				if again, err2 := DecodePeer(EncodePeer(p)); err2 != nil || again != p {
					t.Fatalf("member changed on the way back: %v %v", again, err2)
				}
			}
		case 2:
			var l List
			if l, err = DecodeList(b); err == nil {
				if again, err2 := DecodeList(l.Encode()); err2 != nil || !slices.Equal(again.Peers, l.Peers) || again.MaxID != l.MaxID {
					t.Fatalf("epoch members changed on the way back: %v %v", again, err2)
				}
			}
		}
		if err != nil && !errors.Is(err, p2ppb.ErrMalformed) {
			t.Fatalf("refused without ErrMalformed: %v", err)
		}
	})
}
