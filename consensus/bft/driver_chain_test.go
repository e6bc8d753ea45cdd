package bft

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/chain"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
	apb "github.com/accord-chain/accord/types/pb"
)

type zeroNonces struct{}

func (zeroNonces) Nonce(types.Address) (uint64, error) { return 0, nil }

// realChain is a node's chain on the store in dir (a new one with its
// genesis if empty), as node wires it for BFT. The caller closes it once
// its driver has stopped.
type realChain struct {
	*chain.Chain
	st    *store.Store
	close func()
}

func newRealChain(t *testing.T, dir string) realChain {
	t.Helper()
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	exec, err := execution.New(execution.Config{ChainID: "test", Hash: crypto.SHA256, Workers: 1}, token.New())
	if err != nil {
		t.Fatal(err)
	}
	if st.Tip().Empty {
		if err := chain.CommitGenesis(st, exec, 1000, nil, "genesis", []byte("doc")); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := txpool.New(txpool.DefaultConfig(), "test", crypto.SHA256, zeroNonces{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	c := chain.New(chain.Config{Hash: crypto.SHA256, Store: st, Exec: exec, Pool: pool, Hub: api.NewHub(),
		Peers: silentPeers{}, Certified: true, Clock: clock.Real, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			c.Close()
			pool.Close()
			st.Close()
		})
	}
	return realChain{c, st, closeAll}
}

// silentPeers never answer: a certified chain does not wait for them.
type silentPeers struct{}

func (silentPeers) Others() []string            { return []string{"v1", "v2", "v3"} }
func (silentPeers) Voters() int                 { return 4 }
func (silentPeers) Announce(uint64, types.Hash) {}
func (silentPeers) AskHash(ctx context.Context, _ string, _ uint64) (types.Hash, bool) {
	return types.Hash{}, false
}

// TestDriverOnRealChains: four validators over real chains. Their votes
// carry the chain's block hashes, so the certified result of every
// committed block is the block hash each chain computed; transfers commit
// on every node, each block is executed once (its speculation is
// committed), and all chains agree on every block hash.
func TestDriverOnRealChains(t *testing.T) {
	chains := make([]realChain, 4)
	dirs := make([]string, 4)
	// Registered before the cluster's, so it runs after the drivers stop.
	t.Cleanup(func() {
		for _, ch := range chains {
			if ch.Chain != nil {
				ch.close()
			}
		}
	})
	votes := &votesSeen{m: map[voteKey]bool{}}
	c := newTestClusterWith(t, 4, func(c *testCluster) {
		c.chains = make([]Applier, 4)
		for i := range chains {
			dirs[i] = t.TempDir()
			chains[i] = newRealChain(t, dirs[i])
			c.chains[i] = chains[i]
		}
		g, ok, err := chains[0].HashAt(0)
		if err != nil || !ok {
			t.Fatalf("genesis hash: %v", err)
		}
		c.genesis = g[:]
		c.tr = func(i int, base memTransport) Transport {
			if i != 0 {
				return base
			}
			return voteLog{base, votes}
		}
	})
	key, err := crypto.GenerateKey(crypto.Ed25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []store.Hash
	for n := range uint64(6) {
		body := &apb.TxPayload{ChainId: "test", Nonce: n, ExpiresAt: 1 << 62, Contract: token.Name, Method: token.MethodTransfer,
			Args: tokencall.Transfer(types.Address{byte(n)}, 1)}
		tx, err := types.SignTx(body, key, crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		c.pools[0].add(tx)
		ids = append(ids, store.Hash(tx.ID))
	}
	for i, ch := range chains {
		waitFor(t, fmt.Sprintf("node %d to commit the transfers", i), func() bool {
			for _, id := range ids {
				if _, _, err := ch.st.TxLocation(id); err != nil {
					return false
				}
			}
			// A few blocks follow, whose votes carry the results of
			// the blocks checked below.
			return ch.st.Tip().Height >= 4
		})
	}
	top := uint64(1 << 62)
	for _, ch := range chains {
		if err := ch.Flush(); err != nil {
			t.Fatal(err)
		}
		top = min(top, ch.st.Tip().Height)
	}
	for h := uint64(1); h <= top; h++ {
		want, _, _ := chains[0].HashAt(h)
		for i, ch := range chains[1:] {
			if got, _, _ := ch.HashAt(h); got != want {
				t.Fatalf("block %d: node %d has hash %s, node 0 %s", h, i+1, got, want)
			}
		}
	}
	for i, ch := range chains {
		if _, reused := ch.Speculated(); reused < top {
			t.Errorf("node %d committed %d of %d blocks from their speculation", i, reused, top)
		}
	}
	// Node 0's votes carried those hashes: a vote for block h+1 names
	// the hash of block h as its parent's result.
	votes.Lock()
	for h := uint64(1); h < top; h++ {
		want, _, _ := chains[0].HashAt(h)
		if !votes.m[voteKey{h + 1, string(want[:])}] {
			t.Errorf("no vote of node 0 for a block at height %d carries its parent's block hash %s", h+1, want)
		}
	}
	votes.Unlock()

	// A restarted node (driver and chain) gives its chain the committed
	// blocks it lacks, anchors speculation on it again and commits with
	// the others.
	c.stop(2)
	chains[2].close()
	chains[2] = newRealChain(t, dirs[2])
	c.chains[2] = chains[2]
	c.start(2)
	body := &apb.TxPayload{ChainId: "test", Nonce: 6, ExpiresAt: 1 << 62, Contract: token.Name, Method: token.MethodTransfer,
		Args: tokencall.Transfer(types.Address{6}, 1)}
	tx, err := types.SignTx(body, key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	c.pools[2].add(tx)
	for i, ch := range chains {
		waitFor(t, fmt.Sprintf("node %d to commit after node 2 restarted", i), func() bool {
			_, _, err := ch.st.TxLocation(store.Hash(tx.ID))
			return err == nil
		})
	}
	h, _, _ := chains[2].st.TxLocation(store.Hash(tx.ID))
	want, _, _ := chains[0].HashAt(h)
	if got, _, _ := chains[2].HashAt(h); got != want {
		t.Fatalf("after the restart, block %d: node 2 has hash %s, node 0 %s", h, got, want)
	}
}

type voteKey struct {
	height uint64
	result string
}

// voteLog records the (height, parent result) of the votes a node sends.
type voteLog struct {
	memTransport
	log *votesSeen
}

type votesSeen struct {
	sync.Mutex
	m map[voteKey]bool
}

func (v voteLog) Send(to string, msg []byte) {
	if m, err := DecodeMessage(msg); err == nil && m.GetVote() != nil {
		d := m.GetVote().Data
		v.log.Lock()
		v.log.m[voteKey{d.Height, string(d.ParentResult)}] = true
		v.log.Unlock()
	}
	v.memTransport.Send(to, msg)
}
