package chain

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/types"
)

// fakePeers is a network of voters as node0 sees it, without a transport:
// reports arrive through report.
type fakePeers struct{ voters int }

func (p fakePeers) Others() []string {
	var out []string
	for i := 1; i < p.voters; i++ {
		out = append(out, "node"+string(rune('0'+i)))
	}
	return out
}
func (p fakePeers) Voters() int               { return p.voters }
func (fakePeers) Announce(uint64, types.Hash) {}
func (fakePeers) AskHash(context.Context, string, uint64) (types.Hash, bool) {
	return types.Hash{}, false
}

func testAgreement(voters int) *agreement {
	return newAgreement(fakePeers{voters}, clock.Real)
}

// record sets this node's own hash without sending it anywhere.
func record(a *agreement, height uint64, hash types.Hash) {
	a.mu.Lock()
	a.mine[height] = hash
	a.mu.Unlock()
}

// TestAgreementCheck: a block is confirmed once a majority of the voters,
// this node included, computed its hash; a majority computing another
// hash is a fork that stops the node, naming the height.
func TestAgreementCheck(t *testing.T) {
	mine, theirs, other := types.Hash{1}, types.Hash{2}, types.Hash{3}

	// Four voters: this node and one other agreeing is not yet a majority.
	a := testAgreement(4)
	record(a, 7, mine)
	a.report("node1", 7, mine)
	if _, agreed, fork, missing, _ := a.tally(7); agreed || fork != nil || len(missing) != 2 {
		t.Fatalf("2 of 4 agreeing: agreed %v fork %v missing %v; want neither, 2 missing", agreed, fork, missing)
	}
	a.report("node2", 7, theirs)
	a.report("node3", 7, mine)
	if _, agreed, fork, _, _ := a.tally(7); !agreed || fork != nil {
		t.Fatalf("3 of 4 agreeing: agreed %v fork %v", agreed, fork)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.confirm(ctx, 7); err != nil {
		t.Fatalf("confirm with 3 of 4 agreeing: %v", err)
	}

	// Three of four computed another hash, reported before this node
	// executed the block: a fork, named by its height.
	a = testAgreement(4)
	for _, p := range []string{"node1", "node2", "node3"} {
		a.report(p, 9, theirs)
	}
	record(a, 9, mine)
	err := a.confirm(ctx, 9)
	if err == nil || !strings.Contains(err.Error(), "block 9") {
		t.Fatalf("3 of 4 disagree at height 9: got %v, want a stop naming block 9", err)
	}
	select {
	case <-a.diverge:
	default:
		t.Fatal("the fork did not reach the node's stop channel")
	}

	// Disagreeing among themselves, the others are no majority for any
	// hash: the block waits, it is neither confirmed nor a fork.
	a = testAgreement(3)
	record(a, 5, mine)
	a.report("node1", 5, theirs)
	a.report("node2", 5, other)
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if err := a.confirm(short, 5); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no majority either way: confirm returned %v, want it to keep waiting", err)
	}

	// A report arriving while confirm waits wakes it.
	a = testAgreement(3)
	record(a, 4, mine)
	done := make(chan error, 1)
	go func() { done <- a.confirm(ctx, 4) }()
	a.report("node2", 4, mine)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("confirm did not wake on the report that made a majority")
	}
}

// askingPeers answers every hash request with hash, and counts them.
type askingPeers struct {
	fakePeers
	hash  types.Hash
	asked chan string
}

func (p askingPeers) AskHash(_ context.Context, peer string, _ uint64) (types.Hash, bool) {
	p.asked <- peer
	return p.hash, true
}

// TestAgreementAsksMissing: hashes a node has not heard it asks its peers
// for, once the clock passes the ask delay, and their answers confirm.
func TestAgreementAsksMissing(t *testing.T) {
	mine := types.Hash{7}
	fake := clock.NewFake(time.Unix(0, 0))
	p := askingPeers{fakePeers: fakePeers{3}, hash: mine, asked: make(chan string, 8)}
	a := newAgreement(p, fake)
	record(a, 3, mine)
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { done <- a.confirm(ctx, 3) }()
	for fake.Waiters() == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("confirm never armed its ask timer")
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case peer := <-p.asked:
		t.Fatalf("asked %s before the clock moved", peer)
	default:
	}
	fake.Advance(200 * time.Millisecond)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the peers' answers did not confirm the block")
	}
}
