package node

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/accord-chain/accord/config"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// TestMembersOnTheWire: members travel as p2p/pb messages; the JSON that
// earlier releases left in Raft logs and stores still reads; a member
// without an address is refused.
func TestMembersOnTheWire(t *testing.T) {
	list := []config.Peer{{ID: 1, NodeID: "node0", P2P: "127.0.0.1:1", API: "127.0.0.1:2"}, {ID: 2, NodeID: "node1", P2P: "127.0.0.1:3"}}
	old, _ := json.Marshal(list)
	for name, b := range map[string][]byte{"protobuf": encodeMembers(list), "json": old} {
		got, err := decodeMembers(b)
		if err != nil || !slices.Equal(got, list) {
			t.Errorf("%s member list: %v %v, want %v", name, got, err, list)
		}
	}
	oldOne, _ := json.Marshal(list[1])
	for name, b := range map[string][]byte{"protobuf": encodeMember(list[1]), "json": oldOne} {
		if got, err := decodeMember(b); err != nil || got != list[1] {
			t.Errorf("%s member: %v %v, want %v", name, got, err, list[1])
		}
	}
	if _, err := decodeMember(encodeMember(config.Peer{ID: 3, NodeID: "node2"})); !errors.Is(err, p2ppb.ErrMalformed) {
		t.Errorf("a member without a p2p address: %v, want ErrMalformed", err)
	}
}
