package p2p

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	chMsg  Channel = 1
	chEcho Channel = 2
	chSlow Channel = 3
	chFail Channel = 4
)

// deadline bounds every wait: generous, for a busy 2-core machine.
const deadline = 30 * time.Second

var (
	pkiMu    sync.Mutex
	pkiCAs   = map[string][2][]byte{}
	pkiNodes = map[string]TLS{}
)

// material returns node id's TLS material under the CA named ca, made once
// per test binary.
func material(t testing.TB, ca, id string) TLS {
	t.Helper()
	pkiMu.Lock()
	defer pkiMu.Unlock()
	if m, ok := pkiNodes[ca+"/"+id]; ok {
		return m
	}
	now := time.Now()
	pair, ok := pkiCAs[ca]
	if !ok {
		c, k, err := NewCA(ca, now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pair = [2][]byte{c, k}
		pkiCAs[ca] = pair
	}
	cert, key, err := IssueNodeCert(pair[0], pair[1], id, []string{"127.0.0.1", "localhost"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadTLS(pair[0], cert, key)
	if err != nil {
		t.Fatal(err)
	}
	pkiNodes[ca+"/"+id] = m
	return m
}

// logBuf collects a node's log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// has reports whether one line holds every part.
func (l *logBuf) has(parts ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.Lines(l.b.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type msg struct {
	from    string
	ch      Channel
	payload string
}

// node is a running Transport with handlers that record what arrives:
// chMsg messages go to msgs, chEcho requests are answered with
// "<id>:<payload>", chSlow requests wait for their context, chFail
// requests fail.
type node struct {
	*Transport
	log    *logBuf
	msgs   chan msg
	cancel context.CancelFunc
	done   chan error
}

func startNode(t testing.TB, ca, id string, mod func(*Config)) *node {
	t.Helper()
	lb := &logBuf{}
	cfg := Config{
		ID:         id,
		Listen:     "127.0.0.1:0",
		TLS:        material(t, ca, id),
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 300 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", id, err)
	}
	n := &node{Transport: tr, log: lb, msgs: make(chan msg, 100_000), done: make(chan error, 1)}
	tr.Handle(chMsg, func(from string, ch Channel, p []byte) {
		n.msgs <- msg{from, ch, string(p)}
	})
	tr.HandleRequest(chEcho, func(_ context.Context, from string, _ Channel, p []byte) ([]byte, error) {
		return []byte(id + ":" + string(p)), nil
	})
	tr.HandleRequest(chSlow, func(ctx context.Context, _ string, _ Channel, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	tr.HandleRequest(chFail, func(context.Context, string, Channel, []byte) ([]byte, error) {
		return nil, fmt.Errorf("block %d not found", 42)
	})
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() { n.done <- tr.Run(ctx) }()
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop ends Run and waits for it; stopping twice is fine.
func (n *node) stop(t testing.TB) {
	t.Helper()
	n.cancel()
	select {
	case err, ok := <-n.done:
		if ok {
			close(n.done)
			if err != nil {
				t.Errorf("%s: Run: %v", n.ID(), err)
			}
		}
	case <-time.After(deadline):
		t.Fatalf("%s: Run did not return %v after its context ended", n.ID(), deadline)
	}
}

// mesh makes every node a peer of every other.
func mesh(t *testing.T, nodes ...*node) {
	t.Helper()
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				if err := a.AddPeer(b.ID(), b.Addr().String()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// recv waits for the next message at n.
func (n *node) recv(t *testing.T) msg {
	t.Helper()
	select {
	case m := <-n.msgs:
		return m
	case <-time.After(deadline):
		t.Fatalf("%s: no message within %v", n.ID(), deadline)
		return msg{}
	}
}

func (n *node) status(id string) (PeerStatus, bool) {
	for _, s := range n.Peers() {
		if s.ID == id {
			return s, true
		}
	}
	return PeerStatus{}, false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("not true within %v: %s", deadline, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkLeaks fails t if, once every cleanup registered after it has run,
// more goroutines are left than when it was called.
func checkLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		end := time.Now().Add(deadline)
		for runtime.NumGoroutine() > before {
			if time.Now().After(end) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("goroutines: %d before, %d after; stacks:\n%s", before, runtime.NumGoroutine(), buf)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// caCert returns the certificate of the CA named ca, made by material.
func caCert(t testing.TB, ca string) *x509.Certificate {
	t.Helper()
	pkiMu.Lock()
	pair, ok := pkiCAs[ca]
	pkiMu.Unlock()
	if !ok {
		t.Fatalf("no CA %q yet: call material first", ca)
	}
	b, _ := pem.Decode(pair[0])
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
