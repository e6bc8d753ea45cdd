package node

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus/raft"
)

// A replayed founding member's addition (no address: founders' addresses
// are in the config) whose id is not in the member list is a member that was
// removed later in the log, as when a restored node starts from a copy of
// another node's data: nothing is wrong, so nothing is logged as an error.
func TestReplayedFounderMissingFromMembersIsNoError(t *testing.T) {
	var logs bytes.Buffer
	w := &network{
		log:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		self:    1,
		members: map[uint64]config.Peer{1: {ID: 1, NodeID: "node0", P2P: "127.0.0.1:1"}, 2: {ID: 2, NodeID: "node1", P2P: "127.0.0.1:2"}},
	}
	w.confChanged(raft.ConfChange{Type: raft.ConfAddNode, ID: 3})
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("replaying a removed founder's addition logged an error:\n%s", logs.String())
	}
	if _, ok := w.nodeID(3); ok {
		t.Fatal("a founder without an address joined the member list")
	}
}

// A peer says "removed" only of an id the network used and no longer has.
func TestWasRemoved(t *testing.T) {
	st := raft.Status{Voters: []uint64{1, 3, 4}, MaxID: 4}
	for id, want := range map[uint64]bool{1: false, 2: true, 4: false, 5: false} {
		if got := wasRemoved(st, id); got != want {
			t.Errorf("wasRemoved(voters 1 3 4, max 4, id %d) = %v, want %v", id, got, want)
		}
	}
}
