package node

import (
	"os"
	"strings"
	"testing"
)

// A joining home takes its id from the member list it is given, never from
// the folders: with node2's folder deleted and node4 (id 5) a member, id 5
// is refused and id 6 makes node5, which dials exactly the members.
func TestNewJoiningHomeFollowsTheMemberList(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(InitOptions{Home: dir, Nodes: 4, BasePort: 9400}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(NodeHome(dir, 2)); err != nil {
		t.Fatal(err)
	}
	members := []PeerConfig{
		{ID: 1, NodeID: "node0", P2P: "127.0.0.1:9401"}, {ID: 2, NodeID: "node1", P2P: "127.0.0.1:9411"},
		{ID: 4, NodeID: "node3", P2P: "127.0.0.1:9431"}, {ID: 5, NodeID: "node4", P2P: "127.0.0.1:9441"},
	}
	if _, _, err := NewJoiningHome(JoinOptions{Network: dir, Members: members, ID: 5}); err == nil || !strings.Contains(err.Error(), "already a member") {
		t.Fatalf("joining as id 5, node4's: %v, want a refusal", err)
	}
	home, self, err := NewJoiningHome(JoinOptions{Network: dir, Members: members, ID: 6})
	if err != nil {
		t.Fatal(err)
	}
	if self.ID != 6 || self.NodeID != "node5" || home.Home != NodeHome(dir, 5) {
		t.Fatalf("joining home %+v %+v, want node5 with id 6 in %s", home, self, NodeHome(dir, 5))
	}
	cfg, err := LoadConfig(home.Home)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Raft.Peers; len(got) != 5 || got[3] != members[3] || got[4] != self || !cfg.Raft.Join {
		t.Fatalf("joining config peers %+v join %v, want the members and itself, joining", got, cfg.Raft.Join)
	}
	if _, _, err := NewJoiningHome(JoinOptions{Network: dir, Members: members}); err == nil {
		t.Fatal("a joining home without an id was made")
	}
}
