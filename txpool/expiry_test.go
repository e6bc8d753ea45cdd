package txpool

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
)

// movingClock is a pool clock that a test advances.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestExpiredTransactionsAreDropped(t *testing.T) {
	alice, bob := keyFor(t, crypto.Ed25519, "alice"), keyFor(t, crypto.Ed25519, "bob")
	clk := &movingClock{t: testNow}
	p, err := New(Config{}, testChain, crypto.SHA256, newState(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)

	// Alice's nonces 1 and 2 wait behind her missing nonce 0 and expire in
	// a minute; nonce 3 lives an hour. Bob's nonce 0 is ready and expires
	// in a minute; his nonce 1, ready behind it, lives an hour.
	a1, a2 := signTx(t, alice, 1, expiresIn(time.Minute)), signTx(t, alice, 2, expiresIn(time.Minute))
	a3 := signTx(t, alice, 3)
	b0, b1 := signTx(t, bob, 0, expiresIn(time.Minute)), signTx(t, bob, 1)
	mustAdmit(t, p, a1, a2, a3, b0, b1)
	if n, _ := p.ReadyLen(); n != 2 || p.Len() != 5 {
		t.Fatalf("before expiry: %d ready of %d; want 2 of 5", n, p.Len())
	}

	// At the expiry instant they are still valid (a block of that time
	// takes them); a millisecond later they are not.
	clk.advance(time.Minute)
	p.mu.Lock()
	p.expire(p.nowMillis())
	p.mu.Unlock()
	if p.Len() != 5 {
		t.Fatalf("at the expiry time: Len %d; want 5 kept", p.Len())
	}
	clk.advance(time.Millisecond)
	got := p.Reap(10, 1<<20)
	if len(got) != 0 {
		t.Fatalf("reaped nonces %v after bob's nonce 0 expired; want none (his nonce 1 must wait for a new nonce 0)", nonces(got))
	}
	if p.Len() != 2 {
		t.Fatalf("Len %d after expiry; want 2 (alice's nonce 3 and bob's nonce 1)", p.Len())
	}
	if s := p.Stats(); s.Expired != 3 {
		t.Fatalf("Stats.Expired %d, want 3", s.Expired)
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}

	// The expired ones are forgotten: they may be submitted again (and
	// are refused as expired), and new transactions take their nonces.
	if r := p.Submit(raws(a1)); r[0].Err == nil {
		t.Fatal("an expired transaction was admitted again")
	}
	a0, a1new := signTx(t, alice, 0, expiresIn(time.Hour)), signTx(t, alice, 1, expiresIn(time.Hour))
	mustAdmit(t, p, a0, a1new)
	if got := nonces(p.Reap(10, 1<<20)); !slices.Equal(got, []uint64{0, 1}) {
		t.Fatalf("reaped nonces %v; want alice's [0 1], nonce 3 waiting for 2", got)
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

// TestSubmitDropsExpiredToMakeRoom checks that a pool whose room is taken
// by expired transactions admits new ones without waiting for a block.
func TestSubmitDropsExpiredToMakeRoom(t *testing.T) {
	alice, bob := keyFor(t, crypto.Ed25519, "alice"), keyFor(t, crypto.Ed25519, "bob")
	clk := &movingClock{t: testNow}
	p, err := New(Config{MaxTxs: 4}, testChain, crypto.SHA256, newState(), clk.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	mustAdmit(t, p, signTx(t, alice, 1, expiresIn(time.Second)), signTx(t, alice, 2, expiresIn(time.Second)), signTx(t, alice, 3, expiresIn(time.Second)))
	wantErr(t, p.Submit(raws(signTx(t, bob, 1)))[0].Err, ErrPoolFull, ReasonPoolFull, p)
	clk.advance(2 * time.Second)
	mustAdmit(t, p, signTx(t, bob, 1))
	if p.Len() != 1 {
		t.Fatalf("Len %d; want 1: the expired ones dropped", p.Len())
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

// TestReceivedIsTheAdmissionTime checks that admission stamps each
// transaction with the pool's clock, which the commit latency metric reads.
func TestReceivedIsTheAdmissionTime(t *testing.T) {
	p := newTestPool(t, Config{}, newState())
	mustAdmit(t, p, signTx(t, keyFor(t, crypto.Ed25519, "alice"), 0))
	got := p.Reap(1, 1<<20)
	if len(got) != 1 || got[0].Received != testNow.UnixNano() {
		t.Fatalf("reaped %d txs, Received %v; want 1 stamped %d", len(got), got, testNow.UnixNano())
	}
}
