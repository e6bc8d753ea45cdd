package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/types"
)

// testNetwork is a network of the given voters as node0 sees it, without
// a transport: reports arrive through onHead.
func testNetwork(voters int) *network {
	n := &Node{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n.cfg.Raft = &RaftConfig{ID: 1}
	w := newNetwork(n)
	w.voters = func() int { return voters }
	w.ask = func(context.Context, string, uint64) {}
	for i := range voters {
		w.members[uint64(i+1)] = PeerConfig{ID: uint64(i + 1), NodeID: "node" + string(rune('0'+i))}
	}
	n.net = w
	return w
}

func reportHash(w *network, from string, height uint64, hash types.Hash) {
	msg := make([]byte, 40)
	msg[7] = byte(height)
	copy(msg[8:], hash[:])
	w.onHead(from, chHead, msg)
}

// record sets this node's own hash without sending it anywhere.
func record(w *network, height uint64, hash types.Hash) {
	w.mu.Lock()
	w.mine[height] = hash
	w.mu.Unlock()
}

// TestAgreementCheck: a block is confirmed once a majority of the voters,
// this node included, computed its hash; a majority computing another
// hash is a fork that stops the node, naming the height.
func TestAgreementCheck(t *testing.T) {
	mine, theirs, other := types.Hash{1}, types.Hash{2}, types.Hash{3}

	// Four voters: this node and one other agreeing is not yet a majority.
	w := testNetwork(4)
	record(w, 7, mine)
	reportHash(w, "node1", 7, mine)
	if _, agreed, fork, missing, _ := w.tally(7); agreed || fork != nil || len(missing) != 2 {
		t.Fatalf("2 of 4 agreeing: agreed %v fork %v missing %v; want neither, 2 missing", agreed, fork, missing)
	}
	reportHash(w, "node2", 7, theirs)
	reportHash(w, "node3", 7, mine)
	if _, agreed, fork, _, _ := w.tally(7); !agreed || fork != nil {
		t.Fatalf("3 of 4 agreeing: agreed %v fork %v", agreed, fork)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.confirm(ctx, 7); err != nil {
		t.Fatalf("confirm with 3 of 4 agreeing: %v", err)
	}

	// Three of four computed another hash, reported before this node
	// executed the block: a fork, named by its height.
	w = testNetwork(4)
	for _, p := range []string{"node1", "node2", "node3"} {
		reportHash(w, p, 9, theirs)
	}
	record(w, 9, mine)
	err := w.confirm(ctx, 9)
	if err == nil || !strings.Contains(err.Error(), "block 9") {
		t.Fatalf("3 of 4 disagree at height 9: got %v, want a stop naming block 9", err)
	}
	select {
	case <-w.diverge:
	default:
		t.Fatal("the fork did not reach the node's stop channel")
	}

	// Disagreeing among themselves, the others are no majority for any
	// hash: the block waits, it is neither confirmed nor a fork.
	w = testNetwork(3)
	record(w, 5, mine)
	reportHash(w, "node1", 5, theirs)
	reportHash(w, "node2", 5, other)
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if err := w.confirm(short, 5); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no majority either way: confirm returned %v, want it to keep waiting", err)
	}

	// A report arriving while confirm waits wakes it.
	w = testNetwork(3)
	record(w, 4, mine)
	done := make(chan error, 1)
	go func() { done <- w.confirm(ctx, 4) }()
	reportHash(w, "node2", 4, mine)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("confirm did not wake on the report that made a majority")
	}

	// Malformed reports are ignored.
	w.onHead("node1", chHead, []byte{1, 2, 3})
}
