package txpool

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

const testChain = "test-chain"

// testNow is the pool's clock in tests; transactions expire an hour later
// unless a test says otherwise.
var testNow = time.UnixMilli(1_700_000_000_000)

func clock() time.Time { return testNow }

// fakeState is an in-memory State.
type fakeState struct {
	mu     sync.Mutex
	nonces map[types.Address]uint64
	fail   map[types.Address]error
	reads  int
	// afterRead, when set, runs after a read has taken its value, to let
	// a test commit a block at that moment.
	afterRead func(types.Address)
}

func newState() *fakeState {
	return &fakeState{nonces: make(map[types.Address]uint64), fail: make(map[types.Address]error)}
}

func (s *fakeState) Nonce(a types.Address) (uint64, error) {
	s.mu.Lock()
	s.reads++
	n, err := s.nonces[a], s.fail[a]
	hook := s.afterRead
	s.afterRead = nil
	s.mu.Unlock()
	if hook != nil {
		hook(a)
	}
	return n, err
}

func (s *fakeState) set(a types.Address, n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nonces[a] = n
}

func (s *fakeState) get(a types.Address) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nonces[a]
}

// execute applies a block to the state the way an executor would: a
// transaction is valid when its nonce is the sender's next one and it is
// not listed in fail. It returns the valid ones.
func (s *fakeState) execute(block []*types.Tx, fail func(*types.Tx) bool) []*types.Tx {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ok []*types.Tx
	for _, tx := range block {
		if tx.Nonce() != s.nonces[tx.Sender] || (fail != nil && fail(tx)) {
			continue
		}
		s.nonces[tx.Sender]++
		ok = append(ok, tx)
	}
	return ok
}

var (
	keysMu sync.Mutex
	keys   = map[string]crypto.PrivateKey{}
)

// keyFor returns the same key for the same scheme and name in every run.
func keyFor(tb testing.TB, s crypto.Scheme, name string) crypto.PrivateKey {
	tb.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	id := s.String() + "/" + name
	if k, ok := keys[id]; ok {
		return k
	}
	k, err := crypto.GenerateKey(s, rand.NewChaCha8(sha256.Sum256([]byte(id))))
	if err != nil {
		tb.Fatalf("generate %s key: %v", id, err)
	}
	keys[id] = k
	return k
}

func addrOf(k crypto.PrivateKey) types.Address {
	return types.AddressOf(k.Scheme(), k.Public().Bytes())
}

type txOpt func(*pb.TxPayload)

func withChain(id string) txOpt    { return func(b *pb.TxPayload) { b.ChainId = id } }
func withExpiry(ms uint64) txOpt   { return func(b *pb.TxPayload) { b.ExpiresAt = ms } }
func withArgs(args []byte) txOpt   { return func(b *pb.TxPayload) { b.Args = args } }
func withMethod(name string) txOpt { return func(b *pb.TxPayload) { b.Method = name } }
func withGas(n uint64) txOpt       { return func(b *pb.TxPayload) { b.GasLimit = n } }
func expiresIn(d time.Duration) txOpt {
	return withExpiry(uint64(testNow.Add(d).UnixMilli()))
}

// signTx makes a valid transaction of key with nonce, changed by opts.
func signTx(tb testing.TB, key crypto.PrivateKey, nonce uint64, opts ...txOpt) *types.Tx {
	tb.Helper()
	body := &pb.TxPayload{
		ChainId:   testChain,
		Nonce:     nonce,
		ExpiresAt: uint64(testNow.Add(time.Hour).UnixMilli()),
		Contract:  "token",
		Method:    "transfer",
	}
	for _, o := range opts {
		o(body)
	}
	tx, err := types.SignTx(body, key, crypto.SHA256)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return tx
}

func newTestPool(tb testing.TB, cfg Config, st State) *Pool {
	tb.Helper()
	p, err := New(cfg, testChain, crypto.SHA256, st, clock)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(p.Close)
	return p
}

func raws(txs ...*types.Tx) [][]byte {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		out[i] = tx.Raw
	}
	return out
}

// checkInvariants verifies the pool's bookkeeping against its documented
// invariants. Call it only when no Submit is in flight.
func checkInvariants(p *Pool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	count, bytes, readyN, readyB := 0, int64(0), 0, 0
	for a, acct := range p.accounts {
		if len(acct.txs) == 0 {
			return fmt.Errorf("sender %s: empty account kept", a)
		}
		if acct.next < acct.committed {
			return fmt.Errorf("sender %s: next %d below committed %d", a, acct.next, acct.committed)
		}
		for i, e := range acct.txs {
			count++
			bytes += int64(len(e.tx.Raw))
			if e.tx.Sender != a {
				return fmt.Errorf("sender %s: holds a transaction of %s", a, e.tx.Sender)
			}
			if p.known[e.tx.ID] != e {
				return fmt.Errorf("sender %s nonce %d: not in known", a, e.nonce)
			}
			if i > 0 && acct.txs[i-1].nonce >= e.nonce {
				return fmt.Errorf("sender %s: nonces not strictly increasing at %d", a, i)
			}
			if e.nonce < acct.committed {
				return fmt.Errorf("sender %s: nonce %d below committed %d kept", a, e.nonce, acct.committed)
			}
			switch e.state {
			case ready:
				readyN++
				readyB += len(e.tx.Raw)
				if e.nonce >= acct.next {
					return fmt.Errorf("sender %s: nonce %d ready at or after next %d", a, e.nonce, acct.next)
				}
			case waiting:
				if e.nonce < acct.next {
					return fmt.Errorf("sender %s: nonce %d waiting before next %d", a, e.nonce, acct.next)
				}
			case dropped:
				return fmt.Errorf("sender %s: dropped nonce %d kept", a, e.nonce)
			}
			if e.nonce == acct.next && e.state == waiting {
				return fmt.Errorf("sender %s: nonce %d could be ready but waits", a, e.nonce)
			}
		}
		// Nonces committed..next-1 are all present: reaped ones, then ready.
		want := acct.committed
		seenReady := false
		for _, e := range acct.txs {
			if e.nonce >= acct.next {
				break
			}
			if e.nonce != want {
				return fmt.Errorf("sender %s: chain misses nonce %d before next %d", a, want, acct.next)
			}
			if e.state == ready {
				seenReady = true
			} else if seenReady {
				return fmt.Errorf("sender %s: nonce %d is %v after ready ones", a, e.nonce, e.state)
			}
			want++
		}
		if want != acct.next {
			return fmt.Errorf("sender %s: chain ends at %d, next is %d", a, want, acct.next)
		}
	}
	known := 0
	for _, e := range p.known {
		if e.state == admitting {
			return fmt.Errorf("admission claim left behind")
		}
		known++
	}
	switch {
	case count != p.count || known != p.count:
		return fmt.Errorf("count %d, accounts hold %d, known holds %d", p.count, count, known)
	case bytes != p.bytes:
		return fmt.Errorf("bytes %d, accounts hold %d", p.bytes, bytes)
	case readyN != p.readyCount || readyB != p.readyBytes:
		return fmt.Errorf("ready %d/%dB, entries say %d/%dB", p.readyCount, p.readyBytes, readyN, readyB)
	case p.count > p.cfg.MaxTxs || p.bytes > p.cfg.MaxBytes:
		return fmt.Errorf("over capacity: %d txs, %d bytes", p.count, p.bytes)
	case len(p.expiry) != p.count:
		return fmt.Errorf("expiry heap holds %d entries, the pool %d", len(p.expiry), p.count)
	}
	for i, e := range p.expiry {
		if e.heapIdx != i || e.state == dropped || p.known[e.tx.ID] != e {
			return fmt.Errorf("expiry heap slot %d: entry at index %d, state %v, known: %v", i, e.heapIdx, e.state, p.known[e.tx.ID] == e)
		}
	}
	// The queue's live slots are the ready entries, once each, and each
	// sender's come in nonce order.
	live, dead := 0, 0
	last := map[types.Address]uint64{}
	seen := map[*entry]bool{}
	for _, s := range p.queue.slots[p.queue.head:] {
		if !s.live() {
			dead++
			continue
		}
		live++
		if seen[s.e] {
			return fmt.Errorf("entry queued twice")
		}
		seen[s.e] = true
		a := s.e.tx.Sender
		if n, ok := last[a]; ok && s.e.nonce <= n {
			return fmt.Errorf("sender %s: ready nonce %d queued after %d", a, s.e.nonce, n)
		}
		last[a] = s.e.nonce
	}
	if live != readyN {
		return fmt.Errorf("queue has %d live slots, %d entries are ready", live, readyN)
	}
	if dead != p.queue.dead {
		return fmt.Errorf("queue counts %d dead slots, has %d", p.queue.dead, dead)
	}
	return nil
}

func (s entryState) String() string {
	return [...]string{"waiting", "ready", "reaped", "dropped", "admitting"}[s]
}

// nonces lists the nonces of txs, for messages.
func nonces(txs []*types.Tx) []uint64 {
	out := make([]uint64, len(txs))
	for i, tx := range txs {
		out[i] = tx.Nonce()
	}
	return out
}

func ids(txs []*types.Tx) []types.Hash {
	out := make([]types.Hash, len(txs))
	for i, tx := range txs {
		out[i] = tx.ID
	}
	return out
}
