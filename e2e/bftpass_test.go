package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/accord-chain/accord/sdk"
)

// TestBFTPassesTransactionsOn sends every transfer to node0 only: node0
// passes what it admits on to the next leaders, so blocks of the other
// validators carry them too (not only node0's, one round in four), and
// each commits exactly once on every node.
func TestBFTPassesTransactionsOn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network of processes")
	}
	tn := newBFTNet(t)
	tn.startAll()
	all := []int{0, 1, 2, 3}
	waitFor(t, "blocks committing on every node", 60*time.Second, func() (bool, string) {
		return tn.minHeight(all) >= 3, strconv.FormatUint(tn.minHeight(all), 10)
	})
	b := newBank(tn, 6)
	for _, i := range all[1:] {
		b.setDown(i, true) // the workload sends to node0 only
	}
	b.run()
	defer b.halt()
	waitFor(t, "transfers committing", 60*time.Second, func() (bool, string) {
		return b.ackedCount() >= 60, strconv.Itoa(b.ackedCount())
	})
	b.halt()
	s, err := tn.status(0)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every node reaching node0's height", 60*time.Second, func() (bool, string) {
		h := tn.minHeight(all)
		return h >= s.Height, fmt.Sprintf("%d of %d", h, s.Height)
	})
	b.check(all)
	tn.sameHashes(all, s.Height)

	// No transaction is in two blocks, and other validators proposed some.
	c := sdk.New(tn.url(1))
	seen := map[string]uint64{}
	byProposer := map[string]int{}
	for h := uint64(1); h <= s.Height; h++ {
		blk, err := c.Block(context.Background(), h)
		if err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
		for _, id := range blk.TxIds {
			if at, ok := seen[id]; ok {
				t.Fatalf("transaction %s committed at heights %d and %d", id, at, h)
			}
			seen[id] = h
		}
		if len(blk.TxIds) > 0 {
			byProposer[blk.Header.Proposer]++
		}
	}
	node0 := hex.EncodeToString([]byte("node0"))
	others := 0
	for p, n := range byProposer {
		if p != node0 {
			others += n
		}
	}
	t.Logf("blocks with transactions by proposer: %v", byProposer)
	if others == 0 {
		t.Fatalf("only node0 proposed the transfers sent to it: nothing was passed on (%v)", byProposer)
	}
}
