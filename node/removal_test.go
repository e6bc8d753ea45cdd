package node

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"strings"
	"testing"

	"github.com/accord-chain/accord/consensus/raft"
)

// A replayed founding member's addition (no address: founders' addresses
// are in the config) whose id is not in the member list is a member that was
// removed later in the log, as when a restored node starts from a copy of
// another node's data: nothing is wrong, so nothing is logged as an error.
func TestReplayedFounderMissingFromMembersIsNoError(t *testing.T) {
	w := testNetwork(2)
	var logs bytes.Buffer
	w.n.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
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

// FuzzDecodeRemoved: the removal query and answer decoders never panic, and
// what they accept is exactly what their senders write.
func FuzzDecodeRemoved(f *testing.F) {
	f.Add(binary.BigEndian.AppendUint64(nil, 2))
	f.Add([]byte{answerRemoved})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if id, err := decodeRemovedQuery(b); err == nil && !bytes.Equal(binary.BigEndian.AppendUint64(nil, id), b) {
			t.Fatalf("query %x decodes to id %d", b, id)
		}
		if removed, err := decodeRemovedAnswer(b); err == nil {
			want := []byte{answerMember}
			if removed {
				want = []byte{answerRemoved}
			}
			if !bytes.Equal(want, b) {
				t.Fatalf("answer %x decodes to removed=%v", b, removed)
			}
		}
	})
}
