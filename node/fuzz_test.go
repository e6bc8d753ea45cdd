package node

import (
	"errors"
	"testing"

	apipb "github.com/accord-chain/accord/api/pb"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
	"github.com/accord-chain/accord/txpool"
)

// FuzzDecodeWire: the node's readers of node-to-node messages (verdicts,
// hash reports, forwarded changes, removal queries and answers) refuse
// any bytes they cannot use with p2ppb.ErrMalformed, never a panic; what
// they accept encodes back to the same values. Members have their own
// target (internal/members FuzzDecode).
func FuzzDecodeWire(f *testing.F) {
	f.Add(uint8(0), encodeVerdicts([]error{nil, txpool.ErrPoolFull}))
	f.Add(uint8(1), p2ppb.Marshal(&p2ppb.HashReport{Version: p2ppb.Version, Height: 3, Hash: make([]byte, 32)}))
	f.Add(uint8(2), encodeNodeChange(&apipb.ChangeNodesRequest{Change: []byte{1}}))
	f.Add(uint8(3), encodeRemovedQuery(2))
	f.Add(uint8(4), encodeRemovedAnswer(true))
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		var err error
		switch kind % 5 {
		case 0:
			var vs []error
			if vs, err = decodeVerdicts(b, 2); err == nil {
				_, err = decodeVerdicts(encodeVerdicts(vs), 2)
			}
		case 1:
			_, _, _, err = decodeHashReport(b)
		case 2:
			_, err = decodeNodeChange(b)
		case 3:
			var id uint64
			if id, err = decodeRemovedQuery(b); err == nil {
				if again, err2 := decodeRemovedQuery(encodeRemovedQuery(id)); err2 != nil || again != id {
					t.Fatalf("removal query changed on the way back: %d %v", again, err2)
				}
			}
		case 4:
			var removed bool
			if removed, err = decodeRemovedAnswer(b); err == nil {
				if again, err2 := decodeRemovedAnswer(encodeRemovedAnswer(removed)); err2 != nil || again != removed {
					t.Fatalf("removal answer changed on the way back: %v %v", again, err2)
				}
			}
		}
		if err != nil && !errors.Is(err, p2ppb.ErrMalformed) {
			t.Fatalf("refused without ErrMalformed: %v", err)
		}
	})
}
