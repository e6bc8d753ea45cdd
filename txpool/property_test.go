package txpool

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

const propSenders = 3

var (
	propMu  sync.Mutex
	propTxs = map[[3]uint64]*types.Tx{}
)

// propTx returns the same transaction for the same sender, nonce and
// variant in every run, signing each once: variants share a nonce but not
// an id.
func propTx(t testing.TB, sender int, nonce uint64, variant int) *types.Tx {
	propMu.Lock()
	defer propMu.Unlock()
	k := [3]uint64{uint64(sender), nonce, uint64(variant)}
	if tx, ok := propTxs[k]; ok {
		return tx
	}
	key := keyFor(t, crypto.Ed25519, fmt.Sprint("prop", sender))
	tx := signTx(t, key, nonce, withMethod(fmt.Sprint("m", variant)))
	propTxs[k] = tx
	return tx
}

// TestPoolProperties runs random submit, reap and commit sequences, with
// blocks in flight while others commit, failed transactions and blocks
// from other nodes, and checks after every step that:
//   - the bookkeeping invariants hold and Len never exceeds MaxTxs;
//   - no transaction is reaped twice while it is in flight;
//   - each sender's reaped nonces continue from its last reaped one, or
//     restart at its committed nonce past the nonces still in flight
//     (only after a failure or a block from elsewhere), and no two
//     in-flight transactions share a nonce;
//   - a sender with no failures and no outside blocks has every reaped
//     transaction valid when its block executes;
//   - after ResetReaped (blocks in flight abandoned) each sender's
//     transactions are reaped again from its committed nonce.
func TestPoolProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{
			MaxTxs:      rapid.IntRange(1, 12).Draw(rt, "max_txs"),
			NonceWindow: rapid.Uint64Range(1, 6).Draw(rt, "window"),
			Workers:     rapid.IntRange(1, 3).Draw(rt, "workers"),
			BatchSize:   rapid.IntRange(1, 4).Draw(rt, "batch"),
			CacheSize:   rapid.IntRange(1, 8).Draw(rt, "cache"),
		}
		st := newState()
		p, err := New(cfg, testChain, crypto.SHA256, st, clock)
		if err != nil {
			rt.Fatal(err)
		}
		defer p.Close()

		var (
			blocks    [][]*types.Tx                  // reaped, not yet committed, in order
			inFlight  = map[types.Hash]bool{}        // ids in blocks
			flightN   = map[types.Address][]uint64{} // in-flight nonces per sender
			lastReap  = map[types.Address]int64{}    // last reaped nonce, -1 for none
			disturbed = map[types.Address]bool{}     // saw a failure or an outside block
		)
		sender := func(i int) types.Address { return propTx(t, i, 0, 0).Sender }
		// restart is where a disturbed sender's chain may start again: its
		// committed nonce, past the run of nonces from there that are
		// still in flight (blocks ahead of this one will use them). The
		// nonce n being checked is already in flightN and does not count.
		restart := func(a types.Address, n uint64) uint64 {
			r := st.get(a)
			for slices.Contains(flightN[a][:len(flightN[a])-1], r) && r != n {
				r++
			}
			return r
		}
		for i := range propSenders {
			lastReap[sender(i)] = -1
		}

		rt.Repeat(map[string]func(*rapid.T){
			"submit": func(rt *rapid.T) {
				n := rapid.IntRange(1, 6).Draw(rt, "n")
				batch := make([][]byte, n)
				for k := range batch {
					s := rapid.IntRange(0, propSenders-1).Draw(rt, "sender")
					base := int64(st.get(sender(s)))
					nonce := base + rapid.Int64Range(-1, int64(cfg.NonceWindow)+1).Draw(rt, "offset")
					batch[k] = propTx(t, s, uint64(max(nonce, 0)), rapid.IntRange(0, 1).Draw(rt, "variant")).Raw
				}
				for k, r := range p.Submit(batch) {
					switch {
					case r.Err == nil, errors.Is(r.Err, ErrDuplicate), errors.Is(r.Err, ErrStaleNonce),
						errors.Is(r.Err, ErrNonceGap), errors.Is(r.Err, ErrPoolFull):
					default:
						rt.Fatalf("tx %d: unexpected error %v", k, r.Err)
					}
				}
			},
			"reap": func(rt *rapid.T) {
				maxTxs := rapid.IntRange(0, 8).Draw(rt, "max_txs")
				maxBytes := rapid.SampledFrom([]int{150, 400, 1 << 20}).Draw(rt, "max_bytes")
				got := p.Reap(maxTxs, maxBytes)
				if len(got) > maxTxs {
					rt.Fatalf("reaped %d, max %d", len(got), maxTxs)
				}
				size := 0
				for _, tx := range got {
					size += len(tx.Raw)
					if inFlight[tx.ID] {
						rt.Fatalf("tx nonce %d reaped twice", tx.Nonce())
					}
					inFlight[tx.ID] = true
					a, n := tx.Sender, tx.Nonce()
					for _, m := range flightN[a] {
						if m == n {
							rt.Fatalf("sender %s: nonce %d in flight twice", a, n)
						}
					}
					flightN[a] = append(flightN[a], n)
					next := uint64(lastReap[a] + 1)
					if n != next && (!disturbed[a] || n != restart(a, n)) {
						rt.Fatalf("sender %s: reaped nonce %d after %d (committed %d)", a, n, lastReap[a], st.get(a))
					}
					lastReap[a] = int64(n)
				}
				if size > maxBytes {
					rt.Fatalf("reaped %d bytes, max %d", size, maxBytes)
				}
				if len(got) > 0 {
					blocks = append(blocks, got)
				}
			},
			"commit": func(rt *rapid.T) {
				if len(blocks) == 0 {
					rt.Skip("no block in flight")
				}
				block := blocks[0]
				blocks = blocks[1:]
				failAt := rapid.IntRange(-len(block), len(block)-1).Draw(rt, "fail_at") // negative: none fails
				valid := st.execute(block, func(tx *types.Tx) bool { return failAt >= 0 && tx == block[failAt] })
				ok := map[*types.Tx]bool{}
				for _, tx := range valid {
					ok[tx] = true
				}
				for i, tx := range block {
					if !ok[tx] && !disturbed[tx.Sender] && i != failAt {
						rt.Fatalf("sender %s: nonce %d invalid in its block (committed %d)", tx.Sender, tx.Nonce(), st.get(tx.Sender))
					}
					if i == failAt {
						disturbed[tx.Sender] = true
					}
					delete(inFlight, tx.ID)
					f := flightN[tx.Sender]
					for j, m := range f {
						if m == tx.Nonce() {
							flightN[tx.Sender] = append(f[:j], f[j+1:]...)
							break
						}
					}
				}
				p.Update(block)
			},
			"remove": func(rt *rapid.T) {
				// A leader refused some forwarded transactions: they leave
				// the pool unless in flight; the rest of the model holds.
				var ids []types.Hash
				for range rapid.IntRange(1, 3).Draw(rt, "n") {
					s := rapid.IntRange(0, propSenders-1).Draw(rt, "sender")
					nonce := st.get(sender(s)) + rapid.Uint64Range(0, 3).Draw(rt, "offset")
					ids = append(ids, propTx(t, s, nonce, rapid.IntRange(0, 1).Draw(rt, "variant")).ID)
				}
				p.Remove(ids)
			},
			"claim and release": func(rt *rapid.T) {
				// Another leader's block on this node's chain carried some
				// transactions, then its branch was abandoned: the pool is
				// consistent in between and after, and what was not in
				// flight here is reapable again, in nonce order.
				var ids []types.Hash
				for range rapid.IntRange(1, 3).Draw(rt, "n") {
					s := rapid.IntRange(0, propSenders-1).Draw(rt, "sender")
					nonce := st.get(sender(s)) + rapid.Uint64Range(0, 3).Draw(rt, "offset")
					if id := propTx(t, s, nonce, rapid.IntRange(0, 1).Draw(rt, "variant")).ID; !inFlight[id] {
						ids = append(ids, id)
					}
				}
				p.Claim(ids)
				if err := checkInvariants(p); err != nil {
					rt.Fatalf("after Claim: %v", err)
				}
				p.Unclaim(ids)
			},
			"lose leadership": func(rt *rapid.T) {
				// The blocks in flight will never commit (a Raft leader lost
				// its term before they did): every reaped transaction must
				// come back, each sender's chain from its committed nonce.
				p.ResetReaped()
				blocks = nil
				clear(inFlight)
				clear(flightN)
				for i := range propSenders {
					a := sender(i)
					lastReap[a] = int64(st.get(a)) - 1
				}
			},
			"outside block": func(rt *rapid.T) {
				// Another node's block with one transaction of a variant no
				// submit uses: it takes the sender's next nonce, or it fails.
				s := rapid.IntRange(0, propSenders-1).Draw(rt, "sender")
				fails := rapid.Bool().Draw(rt, "fails")
				tx := propTx(t, s, st.get(sender(s))+rapid.Uint64Range(0, 2).Draw(rt, "ahead"), 2)
				disturbed[tx.Sender] = true
				st.execute([]*types.Tx{tx}, func(*types.Tx) bool { return fails })
				p.Update([]*types.Tx{tx})
			},
			"": func(rt *rapid.T) {
				if err := checkInvariants(p); err != nil {
					rt.Fatal(err)
				}
				if n := p.Len(); n > cfg.MaxTxs {
					rt.Fatalf("Len %d exceeds MaxTxs %d", n, cfg.MaxTxs)
				}
			},
		})
	})
}
