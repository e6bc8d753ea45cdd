package txpool

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// commit executes block on st and tells p, as a node does after a block
// commits.
func commit(p *Pool, st *fakeState, block []*types.Tx, fail func(*types.Tx) bool) {
	st.execute(block, fail)
	p.Update(block)
}

// submitOne submits tx alone and returns its error.
func submitOne(p *Pool, tx *types.Tx) error {
	return p.Submit([][]byte{tx.Raw})[0].Err
}

func mustAdmit(t *testing.T, p *Pool, txs ...*types.Tx) {
	t.Helper()
	for i, r := range p.Submit(raws(txs...)) {
		if r.Err != nil {
			t.Fatalf("tx %d (nonce %d): want admitted, got %v", i, txs[i].Nonce(), r.Err)
		}
		if r.ID != txs[i].ID {
			t.Fatalf("tx %d: result id %s, want %s", i, r.ID, txs[i].ID)
		}
	}
}

func wantErr(t *testing.T, got, want error, reason Reason, p *Pool) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("want error wrapping %q, got %v", want, got)
	}
	if n := p.Stats().Rejected[reason]; n != 1 {
		t.Fatalf("want Stats().Rejected[%s] = 1, got %d", reason, n)
	}
}

// unknownSchemeTx encodes by hand a transaction signed with scheme 9, which
// types.SignTx cannot make.
func unknownSchemeTx(t *testing.T) []byte {
	t.Helper()
	body := &pb.TxPayload{
		Version:   types.PayloadVersion,
		ChainId:   testChain,
		Signer:    &pb.Signer{Scheme: pb.Scheme(9), Identity: &pb.Signer_PublicKey{PublicKey: make([]byte, 32)}},
		ExpiresAt: uint64(testNow.Add(time.Hour).UnixMilli()),
		Contract:  "token",
		Method:    "transfer",
	}
	payload, err := proto.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return types.EncodeTx(payload, make([]byte, 64))
}

func TestAdmissionErrors(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	cases := []struct {
		name   string
		cfg    Config
		nonce  uint64 // committed nonce of alice
		raw    func(t *testing.T) []byte
		want   error
		reason Reason
		noID   bool
	}{
		{
			name: "oversize", cfg: Config{MaxTxBytes: 512},
			raw:  func(t *testing.T) []byte { return signTx(t, key, 0, withArgs(make([]byte, 600))).Raw },
			want: types.ErrTooLarge, reason: ReasonTooLarge, noID: true,
		},
		{
			name: "malformed bytes",
			raw:  func(*testing.T) []byte { return []byte{0x0a, 0x05, 1, 2} },
			want: types.ErrMalformed, reason: ReasonMalformed, noID: true,
		},
		{
			name: "wrong chain id",
			raw:  func(t *testing.T) []byte { return signTx(t, key, 0, withChain("other-chain")).Raw },
			want: types.ErrWrongChain, reason: ReasonWrongChain,
		},
		{
			name: "expired",
			raw:  func(t *testing.T) []byte { return signTx(t, key, 0, expiresIn(-time.Millisecond)).Raw },
			want: types.ErrExpired, reason: ReasonExpired,
		},
		{
			name: "bad signature",
			raw: func(t *testing.T) []byte {
				raw := slices.Clone(signTx(t, key, 0).Raw)
				raw[len(raw)-10] ^= 0x01 // inside the signature, the envelope's last field
				return raw
			},
			want: types.ErrBadSignature, reason: ReasonBadSignature,
		},
		{
			name: "unknown scheme",
			raw:  unknownSchemeTx,
			want: types.ErrUnknownScheme, reason: ReasonUnknownScheme, noID: true,
		},
		{
			name: "stale nonce", nonce: 5,
			raw:  func(t *testing.T) []byte { return signTx(t, key, 4).Raw },
			want: ErrStaleNonce, reason: ReasonStaleNonce,
		},
		{
			name: "nonce gap", cfg: Config{NonceWindow: 8}, nonce: 5,
			raw:  func(t *testing.T) []byte { return signTx(t, key, 5+9).Raw },
			want: ErrNonceGap, reason: ReasonNonceGap,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newState()
			st.set(addrOf(key), c.nonce)
			p := newTestPool(t, c.cfg, st)
			r := p.Submit([][]byte{c.raw(t)})[0]
			wantErr(t, r.Err, c.want, c.reason, p)
			if c.noID != r.ID.IsZero() {
				t.Errorf("result id %s: want zero %v", r.ID, c.noID)
			}
			if p.Len() != 0 || p.Stats().Admitted != 0 {
				t.Errorf("rejected tx was pooled: Len %d, admitted %d", p.Len(), p.Stats().Admitted)
			}
			if err := checkInvariants(p); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNonceWindowEdge(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	st := newState()
	st.set(addrOf(key), 5)
	p := newTestPool(t, Config{NonceWindow: 8}, st)
	mustAdmit(t, p, signTx(t, key, 5+8)) // exactly the window: admitted, waiting
	if n, _ := p.ReadyLen(); n != 0 {
		t.Fatalf("nonce 13 with committed 5: want waiting, ReadyLen %d", n)
	}
}

func TestDuplicate(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	p := newTestPool(t, Config{}, newState())
	tx := signTx(t, key, 0)
	mustAdmit(t, p, tx)

	wantErr(t, submitOne(p, tx), ErrDuplicate, ReasonDuplicate, p)

	// The same transaction twice in one call: the first is admitted.
	tx1 := signTx(t, key, 1)
	res := p.Submit(raws(tx1, tx1))
	if res[0].Err != nil || !errors.Is(res[1].Err, ErrDuplicate) {
		t.Fatalf("same tx twice in a call: want ok then duplicate, got %v, %v", res[0].Err, res[1].Err)
	}
	if v := p.Stats().Verified; v != 2 {
		t.Fatalf("%d signatures verified, want 2: a copy is caught before verification", v)
	}

	// Reaped but not committed: still known.
	if got := p.Reap(10, 1<<20); len(got) != 2 {
		t.Fatalf("reaped %d, want 2", len(got))
	}
	if err := submitOne(p, tx); !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), "block") {
		t.Fatalf("reaped tx resubmitted: want duplicate (in a block), got %v", err)
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

func TestSameNonceOtherTxIsStale(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	p := newTestPool(t, Config{}, newState())
	mustAdmit(t, p, signTx(t, key, 0))
	other := signTx(t, key, 0, withMethod("burn"))
	wantErr(t, submitOne(p, other), ErrStaleNonce, ReasonStaleNonce, p)
	if p.Len() != 1 {
		t.Fatalf("replacement must not happen: Len %d", p.Len())
	}
}

func TestPoolFullByCount(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	st := newState()
	p := newTestPool(t, Config{MaxTxs: 2}, st)
	a, b, c := signTx(t, key, 0), signTx(t, key, 1), signTx(t, key, 2)
	res := p.Submit(raws(a, b, c))
	if res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("first two: %v, %v", res[0].Err, res[1].Err)
	}
	wantErr(t, res[2].Err, ErrPoolFull, ReasonPoolFull, p)

	// Reaping does not free room: reaped transactions are held until Update.
	reaped := p.Reap(10, 1<<20)
	if err := submitOne(p, c); !errors.Is(err, ErrPoolFull) {
		t.Fatalf("after reap: want pool full, got %v", err)
	}
	commit(p, st, reaped, nil)
	mustAdmit(t, p, c)
}

func TestPoolFullByBytes(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	a, b := signTx(t, key, 0), signTx(t, key, 1)
	size := int64(len(a.Raw))
	p := newTestPool(t, Config{MaxBytes: 2*size - 1, MaxTxBytes: int(size) + 16}, newState())
	mustAdmit(t, p, a)
	wantErr(t, submitOne(p, b), ErrPoolFull, ReasonPoolFull, p)
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

// A full pool answers at once; it never waits for room.
func TestFullPoolRejectsWithoutBlocking(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	p := newTestPool(t, Config{MaxTxs: 1}, newState())
	mustAdmit(t, p, signTx(t, key, 0))
	batch := make([]*types.Tx, 50)
	for i := range batch {
		batch[i] = signTx(t, key, uint64(i+1))
	}
	done := make(chan []Result)
	go func() { done <- p.Submit(raws(batch...)) }()
	select {
	case res := <-done:
		for i, r := range res {
			if !errors.Is(r.Err, ErrPoolFull) {
				t.Fatalf("tx %d: want pool full, got %v", i, r.Err)
			}
		}
	case <-time.After(time.Minute): // a watchdog, not a wait: Submit answers in microseconds
		t.Fatal("Submit on a full pool blocked")
	}
	if v := p.Stats().Verified; v != 1 {
		t.Errorf("a full pool should reject before verifying: %d signatures verified, want 1", v)
	}
}

func TestOutOfOrderArrivalBecomesReadyInNonceOrder(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	p := newTestPool(t, Config{}, newState())
	tx0, tx1, tx2 := signTx(t, key, 0), signTx(t, key, 1), signTx(t, key, 2)
	steps := []struct {
		tx    *types.Tx
		ready int
	}{{tx2, 0}, {tx0, 1}, {tx1, 3}}
	for _, s := range steps {
		mustAdmit(t, p, s.tx)
		if n, _ := p.ReadyLen(); n != s.ready {
			t.Fatalf("after nonce %d: ReadyLen %d, want %d", s.tx.Nonce(), n, s.ready)
		}
		if err := checkInvariants(p); err != nil {
			t.Fatal(err)
		}
	}
	if got := nonces(p.Reap(10, 1<<20)); !slices.Equal(got, []uint64{0, 1, 2}) {
		t.Fatalf("reaped nonces %v, want [0 1 2]", got)
	}
}

func TestReapInArrivalOrderPerSenderConsecutive(t *testing.T) {
	a, b := keyFor(t, crypto.Ed25519, "alice"), keyFor(t, crypto.SM2, "bob")
	p := newTestPool(t, Config{}, newState())
	a0, a1, a2, b0, b1 := signTx(t, a, 0), signTx(t, a, 1), signTx(t, a, 2), signTx(t, b, 0), signTx(t, b, 1)
	mustAdmit(t, p, b1, a0, a2) // b1 and a2 wait
	mustAdmit(t, p, b0, a1)     // b0 readies b1; a1 readies a2

	want := []*types.Tx{a0, b0, b1, a1, a2}
	n, bytes := p.ReadyLen()
	total := 0
	for _, tx := range want {
		total += len(tx.Raw)
	}
	if n != 5 || bytes != total {
		t.Fatalf("ReadyLen %d, %d bytes; want 5, %d", n, bytes, total)
	}
	got := p.Reap(2, 1<<20)
	if n := len(p.Reap(10, len(b1.Raw)+len(a1.Raw)+len(a2.Raw)-1)); n != 2 {
		t.Fatalf("the byte limit should stop Reap before a2: reaped %d, want 2", n)
	}
	got = append(got, b1, a1)
	got = append(got, p.Reap(10, 1<<20)...)
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("reaped %d txs in the wrong order", len(got))
	}
	if n, bytes := p.ReadyLen(); n != 0 || bytes != 0 {
		t.Fatalf("after reaping all: ReadyLen %d, %d", n, bytes)
	}
	if p.Len() != 5 {
		t.Fatalf("reaped txs are held until Update: Len %d, want 5", p.Len())
	}
	if p.Reap(0, 100) != nil || len(p.Reap(10, 1<<20)) != 0 {
		t.Fatal("nothing left to reap")
	}
}

func TestResetReapedReturnsAbandonedBlocks(t *testing.T) {
	a, b := keyFor(t, crypto.Ed25519, "alice"), keyFor(t, crypto.P256, "bob")
	st := newState()
	p := newTestPool(t, Config{}, st)
	a0, a1, a2, a3, b0 := signTx(t, a, 0), signTx(t, a, 1), signTx(t, a, 2), signTx(t, a, 3), signTx(t, b, 0)
	mustAdmit(t, p, a0, a1, a2, a3, b0)
	first := p.Reap(2, 1<<20)  // a0 a1: a block that commits
	second := p.Reap(2, 1<<20) // a2 a3: a block that will never commit
	if !slices.Equal(ids(first), ids([]*types.Tx{a0, a1})) || !slices.Equal(ids(second), ids([]*types.Tx{a2, a3})) {
		t.Fatalf("reaped %v then %v", nonces(first), nonces(second))
	}
	p.ResetReaped()
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.ReadyLen(); n != 5 {
		t.Fatalf("after ResetReaped: %d ready, want all 5 back", n)
	}
	// The first block commits after all; the pool keeps the rest in order.
	commit(p, st, first, nil)
	got := p.Reap(10, 1<<20)
	if !slices.Equal(ids(got), ids([]*types.Tx{a2, a3, b0})) && !slices.Equal(ids(got), ids([]*types.Tx{b0, a2, a3})) {
		t.Fatalf("reaped nonces %v; want a2, a3 and b0, each sender in nonce order", nonces(got))
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

func TestReadySignal(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "alice")
	p := newTestPool(t, Config{}, newState())
	var _ consensus.Mempool = p
	mustAdmit(t, p, signTx(t, key, 1))
	select {
	case <-p.Ready():
		t.Fatal("signalled with nothing ready")
	default:
	}
	mustAdmit(t, p, signTx(t, key, 0))
	select {
	case <-p.Ready():
	default:
		t.Fatal("not signalled when transactions became ready")
	}
}

func TestUpdateForgetsCommittedAndDropsStale(t *testing.T) {
	a, b := keyFor(t, crypto.Ed25519, "alice"), keyFor(t, crypto.Ed25519, "bob")
	st := newState()
	p := newTestPool(t, Config{}, st)
	a0, a1, a2 := signTx(t, a, 0), signTx(t, a, 1), signTx(t, a, 2)
	b0, b1 := signTx(t, b, 0), signTx(t, b, 1)
	mustAdmit(t, p, a0, a1, b0, b1)

	block := p.Reap(2, 1<<20) // a0, a1
	commit(p, st, block, nil)
	if p.Len() != 2 {
		t.Fatalf("after committing a0, a1: Len %d, want 2", p.Len())
	}
	mustAdmit(t, p, a2) // nonce 2 is next for alice: ready at once
	if n, _ := p.ReadyLen(); n != 3 {
		t.Fatalf("ReadyLen %d, want 3 (b0 b1 a2)", n)
	}
	if err := submitOne(p, a1); !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("committed tx resubmitted: want stale nonce, got %v", err)
	}

	// Bob's nonces 0 and 1 were committed through another node's block
	// with other transactions: his pooled ones are now stale.
	other0, other1 := signTx(t, b, 0, withMethod("x")), signTx(t, b, 1, withMethod("x"))
	commit(p, st, []*types.Tx{other0, other1}, nil)
	if p.Len() != 1 {
		t.Fatalf("after bob's nonces were used elsewhere: Len %d, want 1", p.Len())
	}
	if got := p.Reap(10, 1<<20); len(got) != 1 || got[0].ID != a2.ID {
		t.Fatalf("reaped %v, want only a2", nonces(got))
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

// A reaped transaction that fails in its block leaves its nonce missing:
// its successors, ready or reaped, go back to waiting until it is filled.
func TestUpdateReapedInvalidLeavesGap(t *testing.T) {
	key := keyFor(t, crypto.P256, "carol")
	st := newState()
	p := newTestPool(t, Config{}, st)
	txs := []*types.Tx{signTx(t, key, 0), signTx(t, key, 1), signTx(t, key, 2), signTx(t, key, 3), signTx(t, key, 4)}
	mustAdmit(t, p, txs...)

	block1 := p.Reap(2, 1<<20) // 0, 1
	block2 := p.Reap(1, 1<<20) // 2, in flight while block 1 commits
	// Nonce 1 fails in block 1 (say, insufficient funds).
	valid := st.execute(block1, func(tx *types.Tx) bool { return tx.Nonce() == 1 })
	if len(valid) != 1 {
		t.Fatalf("block 1: %d valid, want 1", len(valid))
	}
	p.Update(block1)
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
	if n, _ := p.ReadyLen(); n != 0 {
		t.Fatalf("nonce 1 is missing again: want nothing ready, ReadyLen %d", n)
	}
	if p.Len() != 3 {
		t.Fatalf("Len %d, want 3 (2 in flight, 3 and 4 waiting)", p.Len())
	}

	// Nonce 1 comes back (a new transaction); 2 is in flight in block 2
	// and will fail there, so 3 and 4 still wait.
	re1 := signTx(t, key, 1, withMethod("retry"))
	mustAdmit(t, p, re1)
	if got := p.Reap(10, 1<<20); len(got) != 1 || got[0].ID != re1.ID {
		t.Fatalf("reaped nonces %v, want only the new 1", nonces(got))
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
	commit(p, st, block2, nil) // 2 fails: the chain is at 1
	if n, _ := p.ReadyLen(); n != 0 {
		t.Fatalf("after block 2: ReadyLen %d, want 0", n)
	}
	commit(p, st, []*types.Tx{re1}, nil) // the new 1 commits; 2 is missing
	mustAdmit(t, p, txs[2])              // 2 again: 2, 3, 4 ready
	if got := nonces(p.Reap(10, 1<<20)); !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("reaped nonces %v, want [2 3 4]", got)
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

// A reaped transaction stays doomed behind a refilled gap: its block comes
// before the refill's, so nothing after it may become ready, even when an
// unrelated failure of the sender makes the pool re-derive the chain.
func TestDoomedReapedBlocksSuccessors(t *testing.T) {
	key := keyFor(t, crypto.SM2, "ivan")
	st := newState()
	p := newTestPool(t, Config{}, st)
	mustAdmit(t, p, signTx(t, key, 0), signTx(t, key, 1))
	blockF, blockG := p.Reap(1, 1<<20), p.Reap(1, 1<<20)
	commit(p, st, blockF, func(*types.Tx) bool { return true }) // 0 fails; 1 is doomed in G
	mustAdmit(t, p, signTx(t, key, 0, withMethod("retry")), signTx(t, key, 2))
	if n, _ := p.ReadyLen(); n != 1 {
		t.Fatalf("want only the new 0 ready, ReadyLen %d", n)
	}
	commit(p, st, []*types.Tx{signTx(t, key, 7, withMethod("elsewhere"))}, nil) // fails: nonce 7
	if n, _ := p.ReadyLen(); n != 1 {
		t.Fatalf("after an outside failure: want only the new 0 ready, ReadyLen %d", n)
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
	commit(p, st, blockG, nil) // 1 fails
	if got := nonces(p.Reap(10, 1<<20)); !slices.Equal(got, []uint64{0}) {
		t.Fatalf("reaped %v, want [0]: 2 waits for a new 1", got)
	}
}

// A ready (not reaped) chain loses a middle transaction to a block built by
// another node that failed it: the ready successors are demoted.
func TestUpdateDemotesReadySuccessors(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "dave")
	st := newState()
	p := newTestPool(t, Config{}, st)
	txs := []*types.Tx{signTx(t, key, 0), signTx(t, key, 1), signTx(t, key, 2), signTx(t, key, 3)}
	mustAdmit(t, p, txs...)
	// Another node's block has 0 (valid) and 1 (failed).
	st.execute(txs[:2], func(tx *types.Tx) bool { return tx.Nonce() == 1 })
	p.Update(txs[:2])
	if n, _ := p.ReadyLen(); n != 0 {
		t.Fatalf("2 and 3 must wait for a new 1: ReadyLen %d", n)
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, p, signTx(t, key, 1, withMethod("retry")))
	if got := nonces(p.Reap(10, 1<<20)); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("reaped %v, want [1 2 3]", got)
	}
}

func TestSendersWithNothingPooledAreForgotten(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "erin")
	st := newState()
	p := newTestPool(t, Config{}, st)
	wantErr(t, submitOne(p, signTx(t, key, 5000)), ErrNonceGap, ReasonNonceGap, p)
	if len(p.accounts) != 0 {
		t.Fatal("a rejected sender was remembered")
	}
	tx := signTx(t, key, 0)
	mustAdmit(t, p, tx)
	commit(p, st, p.Reap(1, 1<<20), nil)
	if len(p.accounts) != 0 || len(p.known) != 0 {
		t.Fatalf("after commit: %d accounts, %d known ids; want none", len(p.accounts), len(p.known))
	}
	// Forgotten means the nonce is read again from State.
	if err := submitOne(p, tx); !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("want stale nonce, got %v", err)
	}
}

// A block commits while Submit reads a new sender's nonce outside the lock:
// the read is stale, and Submit must read again rather than pool a
// transaction whose nonce the block just used.
func TestUpdateDuringSubmitRereadsNonce(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "kim")
	st := newState()
	p := newTestPool(t, Config{}, st)
	tx := signTx(t, key, 0)
	st.afterRead = func(types.Address) {
		commit(p, st, []*types.Tx{signTx(t, key, 0, withMethod("elsewhere"))}, nil)
	}
	if err := submitOne(p, tx); !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("nonce 0 was committed during admission: want stale nonce, got %v", err)
	}
	if p.Len() != 0 {
		t.Fatalf("Len %d, want 0", p.Len())
	}
}

func TestStateErrors(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "frank")
	st := newState()
	boom := errors.New("disk on fire")
	st.fail[addrOf(key)] = boom
	p := newTestPool(t, Config{}, st)
	err := submitOne(p, signTx(t, key, 0))
	if !errors.Is(err, boom) || p.Stats().Rejected[ReasonState] != 1 {
		t.Fatalf("want the state's error, got %v", err)
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

func TestSubmitDecoded(t *testing.T) {
	key := keyFor(t, crypto.SM2, "grace")
	p := newTestPool(t, Config{}, newState())
	tx := signTx(t, key, 0)
	bad := *signTx(t, key, 1)
	bad.Signature = slices.Clone(bad.Signature)
	bad.Signature[0] ^= 1
	res := p.SubmitDecoded([]*types.Tx{tx, nil, &bad, tx, signTx(t, key, 1, withChain("x"))})
	want := []error{nil, types.ErrMalformed, types.ErrBadSignature, ErrDuplicate, types.ErrWrongChain}
	for i, r := range res {
		if !errors.Is(r.Err, want[i]) || (want[i] == nil) != (r.Err == nil) {
			t.Errorf("tx %d: got %v, want %v", i, r.Err, want[i])
		}
	}
}

func TestClose(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "heidi")
	p := newTestPool(t, Config{Workers: 2}, newState())
	mustAdmit(t, p, signTx(t, key, 0))
	p.Close()
	p.Close()
	if err := submitOne(p, signTx(t, key, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: want ErrClosed, got %v", err)
	}
	if got := p.Reap(10, 1<<20); len(got) != 1 {
		t.Fatalf("Reap after Close: %d txs, want 1", len(got))
	}
}

func TestConfig(t *testing.T) {
	var c Config
	c.EnsureDefaults()
	if c != DefaultConfig() {
		t.Fatalf("EnsureDefaults on zero: %+v, want %+v", c, DefaultConfig())
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := []func(*Config){
		func(c *Config) { c.MaxTxs = -1 },
		func(c *Config) { c.MaxTxBytes = types.MaxSize + 1 },
		func(c *Config) { c.MaxBytes = int64(c.MaxTxBytes) - 1 },
		func(c *Config) { c.Workers = -2 },
		func(c *Config) { c.BatchSize = 5000 },
		func(c *Config) { c.CacheSize = -1 },
	}
	for i, f := range bad {
		c := DefaultConfig()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
		if _, err := New(c, testChain, crypto.SHA256, newState(), clock); err == nil {
			t.Errorf("case %d: New accepted %+v", i, c)
		}
	}
	if _, err := New(Config{}, "", crypto.SHA256, newState(), clock); err == nil {
		t.Error("New accepted an empty chain id")
	}
	if _, err := New(Config{}, testChain, crypto.SHA256, nil, clock); err == nil {
		t.Error("New accepted a nil State")
	}
}

// Several clients submit the same transactions, in different orders and
// with forged copies, while a node reaps and commits blocks. Every block
// must execute cleanly and, once all is committed, every nonce is used.
func TestConcurrentSubmitReapCommit(t *testing.T) {
	const senders, perSender, clients = 8, 12, 4
	var all []*types.Tx
	for s := range senders {
		key := keyFor(t, crypto.Ed25519, fmt.Sprint("conc", s))
		for n := range perSender {
			all = append(all, signTx(t, key, uint64(n)))
		}
	}
	st := newState()
	p := newTestPool(t, Config{Workers: 2, BatchSize: 8}, st)

	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			order := rand.New(rand.NewPCG(uint64(c), 1)).Perm(len(all))
			for lo := 0; lo < len(order); lo += 10 {
				var batch []*types.Tx
				for _, i := range order[lo:min(lo+10, len(order))] {
					batch = append(batch, flipped(t, all[i]), all[i])
				}
				for k, r := range p.Submit(raws(batch...)) {
					forged := k%2 == 0
					switch {
					case forged && !errors.Is(r.Err, types.ErrBadSignature) && !errors.Is(r.Err, ErrDuplicate):
						t.Errorf("forged copy: %v", r.Err)
					case !forged && r.Err != nil && !errors.Is(r.Err, ErrDuplicate) && !errors.Is(r.Err, ErrStaleNonce):
						t.Errorf("genuine copy: %v", r.Err)
					}
				}
			}
		})
	}
	submitted := make(chan struct{})
	go func() { wg.Wait(); close(submitted) }()

	blocks := 0
	execute := func(block []*types.Tx) {
		if valid := st.execute(block, nil); len(valid) != len(block) {
			t.Fatalf("block %d: %d of %d transactions invalid", blocks, len(block)-len(valid), len(block))
		}
		p.Update(block)
		blocks++
	}
	for done := false; !done; {
		select {
		case <-submitted:
			done = true
		case <-p.Ready():
		}
		if block := p.Reap(7, 1<<20); len(block) > 0 {
			execute(block)
		}
	}
	for block := p.Reap(1000, 1<<30); len(block) > 0; block = p.Reap(1000, 1<<30) {
		execute(block)
	}
	for s := range senders {
		if n := st.get(all[s*perSender].Sender); n != perSender {
			t.Errorf("sender %d: committed nonce %d, want %d", s, n, perSender)
		}
	}
	if p.Len() != 0 {
		t.Errorf("Len %d after committing everything", p.Len())
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

// While a forged copy (same payload and id, bad signature) is being
// verified by another Submit, the genuine copy is still admitted; a copy
// with the same signature as the one in flight is a duplicate.
func TestForgedCopyInFlightDoesNotShutOutGenuine(t *testing.T) {
	key := keyFor(t, crypto.Ed25519, "judy")
	p := newTestPool(t, Config{}, newState())
	tx := signTx(t, key, 0)
	forged := &entry{tx: flipped(t, tx), state: admitting}
	p.mu.Lock()
	p.known[tx.ID] = forged // as stage 1 of another Submit leaves it
	p.mu.Unlock()

	if err := submitOne(p, forged.tx); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("copy of the copy in flight: want duplicate, got %v", err)
	}
	mustAdmit(t, p, tx)
	if p.known[tx.ID] == forged || p.Len() != 1 {
		t.Fatal("the genuine copy did not take over the claim")
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveTakesOutAndReopensTheGap(t *testing.T) {
	a := keyFor(t, crypto.Ed25519, "alice")
	st := newState()
	p := newTestPool(t, Config{}, st)
	a0, a1, a2 := signTx(t, a, 0), signTx(t, a, 1), signTx(t, a, 2)
	mustAdmit(t, p, a0, a1, a2)
	reaped := p.Reap(1, 1<<20) // a0, in a block on its way
	p.Remove([]types.Hash{a0.ID, a1.ID, {9}})
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
	if p.Len() != 2 {
		t.Fatalf("Len %d after removing a1 (a0 is reaped and stays): want 2", p.Len())
	}
	if n, _ := p.ReadyLen(); n != 0 {
		t.Fatalf("%d ready: a2 must wait for the removed a1", n)
	}
	commit(p, st, reaped, nil)
	mustAdmit(t, p, a1) // the gap filled again
	if got := p.Reap(10, 1<<20); !slices.Equal(ids(got), ids([]*types.Tx{a1, a2})) {
		t.Fatalf("reaped nonces %v, want 1 and 2", nonces(got))
	}
}

// TestReapStopsAtBlockGas checks that Reap keeps a block's declared gas
// within the GasBudget: a call that does not fit waits for the next Reap
// (keeping its sender's nonce order) instead of becoming INVALID in the
// block, and one that alone exceeds the limit is reaped alone.
func TestReapStopsAtBlockGas(t *testing.T) {
	a, b, c := keyFor(t, crypto.Ed25519, "alice"), keyFor(t, crypto.SM2, "bob"), keyFor(t, crypto.P256, "carol")
	p := newTestPool(t, Config{}, newState())
	p.SetGasBudget(func() (uint64, func(*types.Tx) uint64) {
		return 100, func(tx *types.Tx) uint64 { return tx.Body.GasLimit }
	})
	a0, b0, a1, a2 := signTx(t, a, 0, withGas(40)), signTx(t, b, 0, withGas(30)), signTx(t, a, 1, withGas(40)), signTx(t, a, 2, withGas(40))
	b1 := signTx(t, b, 1) // no gas: fits whatever is left
	mustAdmit(t, p, a0, b0, a1, a2, b1)
	if got := ids(p.Reap(10, 1<<20)); !slices.Equal(got, ids([]*types.Tx{a0, b0})) {
		t.Fatalf("first block reaped %d txs, want a0 and b0 (70 of 100 gas; a1 needs 40)", len(got))
	}
	if got := ids(p.Reap(10, 1<<20)); !slices.Equal(got, ids([]*types.Tx{a1, a2, b1})) {
		t.Fatalf("second block reaped %d txs, want a1, a2, b1", len(got))
	}
	c0, c1 := signTx(t, c, 0, withGas(150)), signTx(t, c, 1, withGas(10))
	mustAdmit(t, p, c0, c1)
	if got := ids(p.Reap(10, 1<<20)); !slices.Equal(got, ids([]*types.Tx{c0})) {
		t.Fatalf("a tx above the block limit should be reaped alone: got %d txs", len(got))
	}
	if got := ids(p.Reap(10, 1<<20)); !slices.Equal(got, ids([]*types.Tx{c1})) {
		t.Fatalf("after it: got %d txs, want c1", len(got))
	}
	if err := checkInvariants(p); err != nil {
		t.Fatal(err)
	}
}
