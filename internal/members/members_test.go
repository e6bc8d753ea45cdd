package members

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/crypto"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// TestMembersOnTheWire: members travel as p2p/pb messages; the JSON that
// earlier releases left in Raft logs and stores still reads; a member
// without an address is refused.
func TestMembersOnTheWire(t *testing.T) {
	list := []config.Peer{{ID: 1, NodeID: "node0", P2P: "127.0.0.1:1", API: "127.0.0.1:2"}, {ID: 2, NodeID: "node1", P2P: "127.0.0.1:3"}}
	old, _ := json.Marshal(list)
	for name, b := range map[string][]byte{"protobuf": EncodePeers(list), "json": old} {
		got, err := DecodePeers(b)
		if err != nil || !slices.Equal(got, list) {
			t.Errorf("%s member list: %v %v, want %v", name, got, err, list)
		}
	}
	oldOne, _ := json.Marshal(list[1])
	for name, b := range map[string][]byte{"protobuf": EncodePeer(list[1]), "json": oldOne} {
		if got, err := DecodePeer(b); err != nil || got != list[1] {
			t.Errorf("%s member: %v %v, want %v", name, got, err, list[1])
		}
	}
	if _, err := DecodePeer(EncodePeer(config.Peer{ID: 3, NodeID: "node2"})); !errors.Is(err, p2ppb.ErrMalformed) {
		t.Errorf("a member without a p2p address: %v, want ErrMalformed", err)
	}
}

func testPub(t *testing.T, seed byte) []byte {
	t.Helper()
	k, err := crypto.PrivateKeyFromBytes(crypto.Ed25519, bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k.Public().Bytes()
}

// TestListChanges: an epoch's list takes an add with a new Raft id and a
// valid key and a remove of a member; it refuses a reused id, a second
// entry for one node, a bad key, a non-member and the last validator; its
// validator set is ordered by Raft id and survives the epoch record.
func TestListChanges(t *testing.T) {
	const s = crypto.Ed25519
	l := List{Peers: []config.Peer{{ID: 2, NodeID: "node1", P2P: "127.0.0.1:3", PubKey: hex.EncodeToString(testPub(t, 2))}}, MaxID: 2}
	add := &pb.NodeChange{Op: "add", Id: 2, NodeId: "node0", P2PAddress: "127.0.0.1:1", PubKey: testPub(t, 1)}
	for _, c := range []struct {
		change *pb.NodeChange
		want   string
	}{
		{add, "never reused"},
		{&pb.NodeChange{Op: "add", Id: 3, NodeId: "node1", PubKey: testPub(t, 3)}, "already a member"},
		{&pb.NodeChange{Op: "add", Id: 3, NodeId: "node2", PubKey: []byte{1, 2}}, "pub_key"},
		{&pb.NodeChange{Op: "remove", Id: 7}, "not a member"},
		{&pb.NodeChange{Op: "remove", Id: 2}, "last validator"},
	} {
		before := List{Peers: slices.Clone(l.Peers), MaxID: l.MaxID}
		if err := l.Apply(c.change, s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %d: %v, want an error saying %q", c.change.Op, c.change.Id, err, c.want)
		}
		if !slices.Equal(l.Peers, before.Peers) || l.MaxID != before.MaxID {
			t.Errorf("%s %d changed the list on refusal: %+v", c.change.Op, c.change.Id, l)
		}
	}
	add.Id = 5
	if err := l.Apply(add, s); err != nil || l.MaxID != 5 || len(l.Peers) != 2 {
		t.Fatalf("add node0 as 5: %v, list %+v", err, l)
	}
	vs, err := l.Validators(s)
	if err != nil || len(vs) != 2 || vs[0].ID != "node1" || vs[1].ID != "node0" || !bytes.Equal(vs[1].PubKey, add.PubKey) {
		t.Fatalf("validators: %v %v, want node1 then node0", vs, err)
	}
	if name, ok := l.NodeID(5); !ok || name != "node0" {
		t.Errorf("NodeID(5) = %q %v, want node0", name, ok)
	}
	again, err := DecodeList(l.Encode())
	if err != nil || !slices.Equal(again.Peers, l.Peers) || again.MaxID != l.MaxID {
		t.Errorf("through the epoch record: %+v %v, want %+v", again, err, l)
	}
	if err := l.Apply(&pb.NodeChange{Op: "remove", Id: 2}, s); err != nil || len(l.Peers) != 1 || l.MaxID != 5 {
		t.Fatalf("remove node1: %v, list %+v", err, l)
	}
	if _, ok := l.NodeID(2); ok {
		t.Error("a removed member still has a node id")
	}
}
