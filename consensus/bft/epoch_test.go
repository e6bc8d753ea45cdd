package bft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// testNextEpoch applies changes "add N" and "remove N" (N indexes c.set);
// anything else leaves the set as it is.
func (c *testCluster) testNextEpoch(e EpochChange) (EpochInfo, error) {
	vs := slices.Clone(e.Prev.Validators)
	for _, ch := range e.Changes {
		op, arg, _ := strings.Cut(string(ch), " ")
		i, err := strconv.Atoi(arg)
		if err != nil || i < 0 || i >= len(c.set) {
			continue
		}
		v := c.set[i]
		switch {
		case op == "add" && vs.Index(v.ID) < 0:
			vs = append(vs, v)
		case op == "remove" && vs.Index(v.ID) >= 0 && len(vs) > 1:
			vs = slices.DeleteFunc(vs, func(x Validator) bool { return x.ID == v.ID })
		}
	}
	return EpochInfo{Validators: vs}, nil
}

func TestEndsEpochIsDecidedFromTheBlockBytes(t *testing.T) {
	tx := testTx(t, 1)
	for _, tc := range []struct {
		payload []byte
		want    bool
	}{
		{nil, false},
		{encodePayload(5, []*types.Tx{tx}), false},
		{encodePayloadChanges(5, nil, [][]byte{[]byte("add 4")}), true},
		{encodePayloadChanges(5, []*types.Tx{tx}, [][]byte{[]byte("x")}), true},
		{append(encodePayloadChanges(5, nil, [][]byte{[]byte("x")}), 0), false}, // does not decode: commits empty
	} {
		if got := endsEpoch(&pb.Block{Payload: tc.payload}); got != tc.want {
			t.Errorf("endsEpoch(%x) = %v, want %v", tc.payload, got, tc.want)
		}
	}
	p, err := decodePayload(encodePayloadChanges(7, []*types.Tx{tx}, [][]byte{[]byte("a"), []byte("bc")}))
	if err != nil || p.Time != 7 || len(p.Txs) != 1 || len(p.Changes) != 2 || string(p.Changes[1]) != "bc" {
		t.Fatalf("round trip: %+v, %v", p, err)
	}
	if _, err := decodePayload([]byte{payloadV2, 1, 0, 0}); !errors.Is(err, ErrBadPayload) {
		t.Errorf("version 2 without changes: %v", err)
	}
}

func TestEpochRecordRoundTrip(t *testing.T) {
	e := EpochInfo{Epoch: 3, Height: 17, Validators: ValidatorSet{{ID: "a", PubKey: []byte{1}}, {ID: "b", PubKey: []byte{2, 3}}}, Members: []byte("m")}
	got, err := decodeEpoch(encodeEpoch(e))
	if err != nil || got.Epoch != 3 || got.Height != 17 || len(got.Validators) != 2 || got.Validators[1].ID != "b" ||
		!bytes.Equal(got.Validators[1].PubKey, []byte{2, 3}) || string(got.Members) != "m" {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {9}, append(encodeEpoch(e), 0), encodeEpoch(EpochInfo{Epoch: 1})} {
		if _, err := decodeEpoch(bad); !errors.Is(err, ErrBadPayload) {
			t.Errorf("decodeEpoch(%x): %v", bad, err)
		}
	}
}

// An epoch change through real drivers: four genesis validators add a
// fifth, which starts from genesis, catches up through the old epoch's
// end and votes; then one is removed and stops, and the rest keep
// committing, every node with the same chain.
func TestDriverValidatorSetChange(t *testing.T) {
	c := newTestClusterWith(t, 5, func(c *testCluster) {
		c.genesisN = 4
		c.next = c.testNextEpoch
	})
	for i := range 20 {
		c.pools[i%4].add(testTx(t, i))
	}
	waitFor(t, "the first blocks", func() bool { return c.apps[0].height() >= 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := c.drivers[1].ProposeChange(ctx, []byte("add 4"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Epoch != 1 || len(e.Validators) != 5 || e.Validators.Index("v4") < 0 {
		t.Fatalf("epoch after the change: %+v", e)
	}
	for i := range 5 {
		waitFor(t, fmt.Sprintf("node %d in epoch 1", i), func() bool { return c.drivers[i].Epoch() == 1 })
	}
	// With one of the old four down, a quorum of five (four) needs v4.
	c.setDown(0, true)
	var txs []*types.Tx
	for i := 100; i < 110; i++ {
		tx := testTx(t, i)
		txs = append(txs, tx)
		c.pools[1+i%4].add(tx)
	}
	for _, i := range []int{1, 2, 3, 4} {
		waitFor(t, fmt.Sprintf("node %d to commit in epoch 1 with v4 voting", i), func() bool { return hasAll(c.apps[i].txIDs(), txs) })
	}
	c.setDown(0, false)
	e, err = c.drivers[2].ProposeChange(ctx, []byte("remove 3"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Epoch != 2 || len(e.Validators) != 4 || e.Validators.Index("v3") >= 0 {
		t.Fatalf("epoch after the removal: %+v", e)
	}
	select {
	case err := <-c.dones[3]:
		if !errors.Is(err, ErrRemoved) {
			t.Fatalf("the removed node stopped with %v, want ErrRemoved", err)
		}
		c.cancels[3]()
		c.cancels[3] = nil
	case <-time.After(30 * time.Second):
		t.Fatal("the removed node did not stop")
	}
	before := c.apps[3].height()
	txs = nil
	for i := 200; i < 210; i++ {
		tx := testTx(t, i)
		txs = append(txs, tx)
		c.pools[[]int{0, 1, 2, 4}[i%4]].add(tx)
	}
	for _, i := range []int{0, 1, 2, 4} {
		waitFor(t, fmt.Sprintf("node %d to commit in epoch 2", i), func() bool { return hasAll(c.apps[i].txIDs(), txs) })
	}
	if c.apps[3].height() != before {
		t.Errorf("the removed node applied blocks after it stopped")
	}
	c.checkSame(0, 1, 2, 3, 4)
	// Every node switched at the same block: the epoch record agrees.
	var h uint64
	for _, i := range []int{0, 1, 2, 4} {
		r, ok, err := LoadEpoch(c.dirs[i])
		if err != nil || !ok || r.Epoch != 2 {
			t.Fatalf("node %d epoch record: %+v %v %v", i, r, ok, err)
		}
		if i == 0 {
			h = r.Height
		} else if r.Height != h {
			t.Errorf("node %d switched after height %d, node 0 after %d", i, r.Height, h)
		}
	}
	// A restart resumes in the recorded epoch.
	c.stop(1)
	c.start(1)
	if got := c.drivers[1].Epoch(); got != 2 {
		t.Errorf("restarted in epoch %d, want 2", got)
	}
	n := c.apps[1].height()
	c.pools[1].add(testTx(t, 300))
	waitFor(t, "the restarted node to commit", func() bool { return c.apps[1].height() > n })
	c.checkSame(0, 1, 2, 4)
}

// A core of the next epoch ignores the last epoch's messages (their
// signatures cover the old epoch) and records a later epoch's.
func TestCoreIgnoresOtherEpochs(t *testing.T) {
	prop, vote := leaderProposal(t) // epoch 0
	c, err := New(Config{ID: "n1", ChainID: "test", Signer: fakeKey{"n1"}, Verifier: fakeVerifier{}, Validators: fakeSet(ids(4)), Epoch: 1},
		genesis(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HasReady() {
		c.Ready()
		c.Advance()
	}
	for _, m := range []*pb.Message{prop, vote} {
		if err := c.Step("n2", m); err != nil {
			t.Fatalf("an old epoch's message: %v", err)
		}
		if c.HasReady() {
			t.Fatalf("an old epoch's %s made the core act: %+v", describe(m), c.Ready())
		}
	}
	if st := c.Status(); st.LaterEpoch != 0 || st.HighQCRound != 0 {
		t.Fatalf("status after old messages: %+v", st)
	}
	later := cloneMsg(vote)
	later.Epoch = 3
	if err := c.Step("n2", later); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.LaterEpoch != 3 {
		t.Fatalf("LaterEpoch %d, want 3", st.LaterEpoch)
	}
}

// Honest nodes may hold different QCs of the block an epoch starts on,
// signed by the previous epoch's validators, which the new epoch's core
// cannot check: a proposal justified by another node's QC of the root is
// still voted for.
func TestNewEpochAcceptsAnotherQCOfItsRoot(t *testing.T) {
	g := genesis()
	b1 := &pb.Block{Version: WireVersion, Round: 1, Height: 1, Parent: c0hash(g.Block), Proposer: []byte("n2"),
		Justify: &pb.QC{Data: &pb.VoteData{Block: c0hash(g.Block), ParentResult: make([]byte, HashSize)}}}
	d := &pb.VoteData{Round: 1, Height: 1, Block: c0hash(b1), ParentResult: g.Result}
	sig := bytes.Repeat([]byte{1}, 32)
	qcs := []*pb.QC{
		{Data: d, Signers: []byte{0b0111}, Sigs: [][]byte{sig, sig, sig}},
		{Data: d, Signers: []byte{0b1110}, Sigs: [][]byte{sig, sig, sig}},
	}
	result := execResult(g.Result, c0hash(b1))
	cores := map[string]*Core{}
	leader := ""
	var round uint64
	for i, id := range ids(4) {
		c, err := New(Config{ID: id, ChainID: "test", Signer: fakeKey{id}, Verifier: fakeVerifier{}, Validators: fakeSet(ids(4)), Epoch: 1},
			Root{Block: b1, QC: qcs[i%2], Result: result}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.HasReady() {
			if rd := c.Ready(); rd.ProposeRound != 0 {
				leader, round = id, rd.ProposeRound
			}
			c.Advance()
		}
		cores[id] = c
	}
	if leader == "" || round != 2 {
		t.Fatalf("no leader asked to propose round 2 (%q, %d)", leader, round)
	}
	l := cores[leader]
	if err := l.Propose(round, []byte("x")); err != nil {
		t.Fatal(err)
	}
	var prop *pb.Message
	for _, e := range l.Ready().Messages {
		if e.Msg.GetProposal() != nil {
			prop = e.Msg
		}
	}
	l.Advance()
	voted := 0
	for id, c := range cores {
		if id == leader {
			continue
		}
		if err := c.Step(leader, cloneMsg(prop)); err != nil {
			t.Fatalf("%s refused the proposal: %v", id, err)
		}
		if len(votesIn(c.Ready())) > 0 {
			voted++
		}
		c.Advance()
	}
	if voted != 3 {
		t.Fatalf("%d of 3 voted for a proposal justified by a QC of the epoch's root", voted)
	}
}

// A node that stops between committing the epoch's last block and
// recording the next epoch (here: its NextEpoch fails once) finishes the
// switch when it starts again, at the same block as the others.
func TestDriverResumesAnEpochChangeCutShort(t *testing.T) {
	var failed atomic.Bool
	c := newTestClusterWith(t, 4, func(c *testCluster) { c.next = c.testNextEpoch })
	c.stop(0)
	c.next = func(e EpochChange) (EpochInfo, error) {
		if failed.CompareAndSwap(false, true) {
			return EpochInfo{}, errors.New("planted failure")
		}
		return c.testNextEpoch(e)
	}
	c.start(0)
	c.next = c.testNextEpoch
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.drivers[1].ProposeChange(ctx, []byte("remove 3")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.dones[0]:
		if err == nil || !strings.Contains(err.Error(), "planted failure") {
			t.Fatalf("node 0 stopped with %v", err)
		}
		c.cancels[0]()
		c.cancels[0] = nil
	case <-time.After(30 * time.Second):
		t.Fatal("node 0 did not stop on its planted failure")
	}
	if _, ok, _ := LoadEpoch(c.dirs[0]); ok {
		t.Fatal("node 0 recorded the epoch although its NextEpoch failed")
	}
	c.start(0)
	waitFor(t, "node 0 in epoch 1", func() bool { return c.drivers[0].Epoch() == 1 })
	r0, _, err := LoadEpoch(c.dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	r1, _, err := LoadEpoch(c.dirs[1])
	if err != nil || r0.Height != r1.Height || len(r0.Validators) != 3 {
		t.Fatalf("node 0 switched after height %d with %d validators, node 1 after %d (%v)", r0.Height, len(r0.Validators), r1.Height, err)
	}
	n := c.apps[0].height()
	c.pools[0].add(testTx(t, 1))
	waitFor(t, "node 0 committing in the new epoch", func() bool { return c.apps[0].height() > n+2 })
	c.checkSame(0, 1, 2)
}

// A proposal of the next epoch that arrives before this node has switched
// is kept and voted for once it switches.
func TestDriverKeepsTheNextEpochsEarlyMessages(t *testing.T) {
	vs := fakeSet(ids(4))
	var sent []*pb.Message
	tr := transportFunc(func(_ string, msg []byte) {
		if m, err := DecodeMessage(msg); err == nil {
			sent = append(sent, m)
		}
	})
	d, err := NewDriver(DriverConfig{Core: Config{ID: "n1", ChainID: "test", Signer: fakeKey{"n1"}, Verifier: fakeVerifier{}, Validators: vs},
		Dir: t.TempDir(), GenesisHash: make([]byte, HashSize)}, newMemPool(), &memApp{}, tr, clock.Real)
	if err != nil {
		t.Fatal(err)
	}
	root := genesisRoot(make([]byte, HashSize))
	// The next epoch's leader of its first round proposes on the root.
	var prop *pb.Message
	for _, id := range ids(4)[1:] {
		l, err := New(Config{ID: id, ChainID: "test", Signer: fakeKey{id}, Verifier: fakeVerifier{}, Validators: vs, Epoch: 1}, root, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rd := l.Ready(); rd.ProposeRound != 0 {
			l.Advance()
			if err := l.Propose(rd.ProposeRound, encodePayload(1, nil)); err != nil {
				t.Fatal(err)
			}
			for _, e := range l.Ready().Messages {
				if e.Msg.GetProposal() != nil {
					prop = e.Msg
				}
			}
		}
	}
	if prop == nil {
		t.Skip("n1 leads the next epoch's first round") // not with this set
	}
	if done, err := d.otherEpoch(inbound{from: string(prop.GetProposal().Block.Proposer), msg: prop}); done || err != nil {
		t.Fatalf("otherEpoch: %v %v", done, err)
	}
	if err := d.switchEpoch(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	if d.Epoch() != 1 || !d.core.HasReady() || len(votesIn(d.core.Ready())) != 1 {
		t.Fatalf("after the switch: epoch %d, the early proposal got no vote", d.Epoch())
	}
}

type transportFunc func(to string, msg []byte)

func (f transportFunc) Send(to string, msg []byte) { f(to, msg) }
