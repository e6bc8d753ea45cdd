package bft

import (
	"bytes"
	"errors"
	"testing"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// A block's payload comes from another validator: what decodePayload
// accepts re-encodes to the same bytes, and what it refuses wraps
// ErrBadPayload.
func FuzzDecodePayload(f *testing.F) {
	f.Add(encodePayload(5, nil))
	f.Add(encodePayload(1<<40, []*types.Tx{{Raw: []byte("ab")}, {Raw: bytes.Repeat([]byte{1}, 300)}}))
	f.Add([]byte{1, 0x80, 0})
	f.Add(encodePayloadChanges(9, []*types.Tx{{Raw: []byte("ab")}}, [][]byte{[]byte("change")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePayload(b)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		txs := make([]*types.Tx, len(p.Txs))
		for i, raw := range p.Txs {
			txs[i] = &types.Tx{Raw: raw}
		}
		if !bytes.Equal(encodePayloadChanges(p.Time, txs, p.Changes), b) {
			t.Fatal("accepted payload does not re-encode to its bytes")
		}
	})
}

// The root record is read back from disk, where it may be damaged.
func FuzzDecodeRoot(f *testing.F) {
	g := genesisRoot(make([]byte, HashSize))
	blk := &pb.Block{Version: WireVersion, Round: 3, Height: 2, Parent: make([]byte, HashSize), Proposer: []byte("v1"),
		Justify: &pb.QC{Data: &pb.VoteData{Round: 2, Height: 1, Block: make([]byte, HashSize), ParentResult: make([]byte, HashSize)},
			Signers: []byte{7}, Sigs: [][]byte{{1}, {2}, {3}}}}
	f.Add(encodeRoot(storedRoot{Block: blk, QC: blk.Justify, Result: g.Result,
		Reputation: Reputation{Failed: []Failure{{Round: 1, ID: "v2"}}, Anchor: []string{"v2"}}}))
	f.Add(encodeRoot(storedRoot{Block: blk, Result: g.Result}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRoot(b)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) && !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(encodeRoot(r), b) {
			t.Fatal("accepted root does not re-encode to its bytes")
		}
	})
}

// The evidence file is read back from disk, where a crash may have cut
// its last record short.
func FuzzDecodeEvidence(f *testing.F) {
	f.Add(encodeEvidence([]Evidence{{Validator: "v3", Round: 7, A: []byte{1, 2}, B: []byte{3}}, {Validator: "v1", Round: 1 << 40}}))
	f.Add([]byte{2, 'v', '1', 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvidence(b)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if !bytes.HasPrefix(b, encodeEvidence(ev)) {
				t.Fatal("the records before a bad one are not a prefix of the data")
			}
			return
		}
		if !bytes.Equal(encodeEvidence(ev), b) {
			t.Fatal("accepted evidence does not re-encode to its bytes")
		}
	})
}

// The epoch record is read back from disk, where it may be damaged.
func FuzzDecodeEpoch(f *testing.F) {
	f.Add(encodeEpoch(EpochInfo{Epoch: 2, Height: 9, Validators: ValidatorSet{{ID: "v1", PubKey: []byte{1, 2}}}, Members: []byte("m")}))
	f.Add([]byte{epochVersion, 0, 0, 1, 1, 'a', 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEpoch(b)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(encodeEpoch(e), b) {
			t.Fatal("accepted epoch record does not re-encode to its bytes")
		}
	})
}
