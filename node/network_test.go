package node

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/accord-chain/accord/types"
)

// TestAgreementCheck: a node stops when a majority of the voters report a
// block hash other than its own at a height, and only then.
func TestAgreementCheck(t *testing.T) {
	newNet := func(voters int) *network {
		return &network{
			n:       &Node{log: slog.New(slog.NewTextHandler(io.Discard, nil))},
			heads:   map[string]head{},
			mine:    map[uint64]types.Hash{},
			diverge: make(chan error, 1),
			voters:  func() int { return voters },
		}
	}
	report := func(w *network, from string, height uint64, hash types.Hash) {
		msg := make([]byte, 40)
		msg[7] = byte(height)
		copy(msg[8:], hash[:])
		w.onHead(from, chHead, msg)
	}
	mine, theirs, other := types.Hash{1}, types.Hash{2}, types.Hash{3}
	stopped := func(w *network) error {
		select {
		case err := <-w.diverge:
			return err
		default:
			return nil
		}
	}

	// Four voters: two others agreeing against this node are not a majority.
	w := newNet(4)
	w.mine[7] = mine
	report(w, "node1", 7, theirs)
	report(w, "node2", 7, theirs)
	report(w, "node3", 7, mine)
	if err := stopped(w); err != nil {
		t.Fatalf("stopped with only 2 of 4 against it: %v", err)
	}
	// Three of four against it, reported before it committed the block.
	w = newNet(4)
	for _, p := range []string{"node1", "node2", "node3"} {
		report(w, p, 7, theirs)
	}
	if err := stopped(w); err != nil {
		t.Fatalf("stopped before computing the block: %v", err)
	}
	w.mine[7] = mine
	w.check(7)
	err := stopped(w)
	if err == nil || !strings.Contains(err.Error(), "block 7") {
		t.Fatalf("3 of 4 nodes disagree at height 7: got %v, want a stop naming block 7", err)
	}
	// Disagreeing among themselves, the others are no majority for any hash.
	w = newNet(3)
	w.mine[9] = mine
	report(w, "node1", 9, theirs)
	report(w, "node2", 9, other)
	if err := stopped(w); err != nil {
		t.Fatalf("stopped though no hash has a majority: %v", err)
	}
	// A head at another height says nothing about this one.
	w = newNet(3)
	w.mine[5] = mine
	report(w, "node1", 6, theirs)
	report(w, "node2", 6, theirs)
	if err := stopped(w); err != nil {
		t.Fatalf("stopped over a height it has not computed: %v", err)
	}
	// Malformed heads are ignored.
	w.onHead("node1", chHead, []byte{1, 2, 3})
}
