package raft

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
	"google.golang.org/protobuf/proto"
)

// streamPool hands out a fixed list of transactions in order, cheaply, for
// throughput measurement. Reaped transactions are not handed out again.
type streamPool struct {
	mu    sync.Mutex
	txs   []*types.Tx
	next  int
	ready chan struct{}
}

func (p *streamPool) Reap(maxTxs, maxBytes int) []*types.Tx {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, size := 0, 0
	for p.next+n < len(p.txs) && n < maxTxs && size+len(p.txs[p.next+n].Raw) <= maxBytes {
		size += len(p.txs[p.next+n].Raw)
		n++
	}
	out := p.txs[p.next : p.next+n : p.next+n]
	p.next += n
	return out
}

func (p *streamPool) ReadyLen() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.txs) - p.next
	return n, n * 150
}

func (p *streamPool) Ready() <-chan struct{} { return p.ready }
func (p *streamPool) ResetReaped()           {}

// unsignedTxs makes n decodable transactions of about 150 bytes (signatures
// are not checked by the engine).
func unsignedTxs(b *testing.B, n int) []*types.Tx {
	k, err := crypto.GenerateKey(crypto.Ed25519, nil)
	if err != nil {
		b.Fatal(err)
	}
	sig := make([]byte, 64)
	out := make([]*types.Tx, n)
	for i := range out {
		payload, err := proto.Marshal(&pb.TxPayload{Version: types.PayloadVersion, ChainId: "bench", Nonce: uint64(i), ExpiresAt: 1 << 62,
			Contract: "token", Method: "transfer", Args: make([]byte, 24),
			Signer: &pb.Signer{Scheme: pb.Scheme(crypto.Ed25519), Identity: &pb.Signer_PublicKey{PublicKey: k.Public().Bytes()}}})
		if err != nil {
			b.Fatal(err)
		}
		out[i], err = types.DecodeTx(types.EncodeTx(payload, sig), crypto.SHA256)
		if err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// BenchmarkCommit4Nodes measures committed transactions per second through
// four in-memory nodes (every node decodes and applies every block).
func BenchmarkCommit4Nodes(b *testing.B) {
	const total = 200_000
	txs := unsignedTxs(b, total)
	for b.Loop() {
		c := newBenchCluster(b, txs)
		start := time.Now()
		c.waitAll(total)
		el := time.Since(start)
		b.ReportMetric(float64(total)/el.Seconds(), "tx/s")
		c.close()
	}
}

type benchCluster struct {
	b       *testing.B
	apps    []*fakeApp
	cancels []func()
	engines []*Engine
	done    []chan error
}

func newBenchCluster(b *testing.B, txs []*types.Tx) *benchCluster {
	net := newNetwork(b)
	c := &benchCluster{b: b}
	peers := []uint64{1, 2, 3, 4}
	for _, id := range peers {
		app := &fakeApp{}
		pool := &streamPool{txs: txs, ready: make(chan struct{}, 1)}
		e, err := New(Config{ID: id, Peers: peers, Dir: b.TempDir(), Hash: crypto.SHA256,
			TickInterval: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
			pool, app, net.transport(id), []byte{byte(id)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		net.attach(id, e)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		c.apps, c.cancels, c.engines, c.done = append(c.apps, app), append(c.cancels, cancel), append(c.engines, e), append(c.done, done)
	}
	return c
}

func (c *benchCluster) waitAll(total int) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		ok := true
		for _, a := range c.apps {
			if countTxs(a.snapshot()) < total {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.b.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *benchCluster) close() {
	for i := range c.engines {
		c.cancels[i]()
		if err := <-c.done[i]; err != nil {
			c.b.Error(err)
		}
		c.engines[i].Close()
	}
}
