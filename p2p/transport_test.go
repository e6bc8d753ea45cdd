package p2p

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestTwoNodesExchangeMessagesAndRequests(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", nil)
	b := startNode(t, "net", "b", nil)
	mesh(t, a, b)

	for i := range 100 {
		if err := a.Send("b", chMsg, fmt.Appendf(nil, "a%d", i)); err != nil {
			t.Fatal(err)
		}
		if err := b.Send("a", chMsg, fmt.Appendf(nil, "b%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		if m, want := b.recv(t), (msg{"a", chMsg, fmt.Sprintf("a%d", i)}); m != want {
			t.Fatalf("b received %+v, want %+v (messages from one node arrive in order)", m, want)
		}
		if m, want := a.recv(t), (msg{"b", chMsg, fmt.Sprintf("b%d", i)}); m != want {
			t.Fatalf("a received %+v, want %+v", m, want)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for _, c := range []struct{ from, to *node }{{a, b}, {b, a}} {
		got, err := c.from.Request(ctx, c.to.ID(), chEcho, []byte("height 7"))
		if err != nil {
			t.Fatalf("%s→%s request: %v", c.from.ID(), c.to.ID(), err)
		}
		if want := c.to.ID() + ":height 7"; string(got) != want {
			t.Fatalf("%s→%s response %q, want %q", c.from.ID(), c.to.ID(), got, want)
		}
	}

	_, err := a.Request(ctx, "b", chFail, nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Peer != "b" || re.Msg != "block 42 not found" {
		t.Fatalf("failing handler: got %v, want a RemoteError from b saying %q", err, "block 42 not found")
	}
	_, err = a.Request(ctx, "b", 99, nil)
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "no request handler for channel 99") {
		t.Fatalf("channel without handler: got %v, want a RemoteError naming the channel", err)
	}

	st, _ := a.status("b")
	if !st.Connected || st.Sent < 103 || st.Received < 103 || st.Dropped != 0 {
		t.Fatalf("a's status of b = %+v, want connected, ≥103 sent and received, none dropped", st)
	}
}

func TestThreeNodes(t *testing.T) {
	checkLeaks(t)
	nodes := []*node{startNode(t, "net", "a", nil), startNode(t, "net", "b", nil), startNode(t, "net", "c", nil)}
	mesh(t, nodes...)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	for _, from := range nodes {
		for _, to := range nodes {
			if from == to {
				continue
			}
			if err := from.Send(to.ID(), chMsg, []byte(from.ID()+">"+to.ID())); err != nil {
				t.Fatal(err)
			}
			got, err := from.Request(ctx, to.ID(), chEcho, []byte(from.ID()))
			if err != nil || string(got) != to.ID()+":"+from.ID() {
				t.Fatalf("%s→%s request: %q, %v", from.ID(), to.ID(), got, err)
			}
		}
	}
	for _, to := range nodes {
		seen := map[string]bool{}
		for range 2 {
			m := to.recv(t)
			if m.payload != m.from+">"+to.ID() {
				t.Fatalf("%s received %+v", to.ID(), m)
			}
			seen[m.from] = true
		}
		if len(seen) != 2 {
			t.Fatalf("%s heard from %v, want both other nodes", to.ID(), seen)
		}
	}
}

func TestPeerFromAnotherCAIsRefused(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", nil)
	// A "b" whose certificate comes from a CA that a does not trust; it
	// trusts a's CA, so that the refusal is a's to make.
	evil := startNode(t, "othernet", "b", func(c *Config) {
		c.TLS.CAs = material(t, "othernet", "b").CAs.Clone()
		c.TLS.CAs.AddCert(caCert(t, "net"))
	})
	if err := evil.AddPeer("a", a.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPeer("b", evil.Addr().String()); err != nil {
		t.Fatal(err)
	}
	evil.Send("a", chMsg, []byte("let me in"))

	waitFor(t, "a logs the refused inbound connection with its address and reason", func() bool {
		return a.log.has("refused inbound connection", "remote=127.0.0.1:", "unknown authority")
	})
	waitFor(t, "a refuses to connect to the impostor and says why", func() bool {
		st, _ := a.status("b")
		return !st.Connected && strings.Contains(st.LastError, "unknown authority") &&
			a.log.has("refused peer", "peer=b", "unknown authority")
	})
	waitFor(t, "the impostor's dial fails", func() bool {
		st, _ := evil.status("a")
		return st.LastError != ""
	})
	select {
	case m := <-a.msgs:
		t.Fatalf("a delivered %+v from a node with an untrusted certificate", m)
	default:
	}
}

func TestWrongCommonNameIsRefused(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", nil)
	c := startNode(t, "net", "c", nil)
	// a believes "b" lives where c listens.
	if err := a.AddPeer("b", c.Addr().String()); err != nil {
		t.Fatal(err)
	}
	a.Send("b", chMsg, []byte("for b only"))
	waitFor(t, `a refuses c's certificate when dialling "b"`, func() bool {
		st, _ := a.status("b")
		return !st.Connected && strings.Contains(st.LastError, `dialled node "b" but the certificate is for "c"`) &&
			a.log.has("refused peer", "peer=b", "remote="+c.Addr().String())
	})
	select {
	case m := <-c.msgs:
		t.Fatalf("c received %+v meant for b", m)
	default:
	}
}

func TestExpiredCertificateIsRefused(t *testing.T) {
	caPEM, caKey, err := NewCA("net", time.Now().Add(-48*time.Hour), 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := IssueNodeCert(caPEM, caKey, "old", nil, time.Now().Add(-48*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadTLS(caPEM, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = verifyPeer(m.CAs, []*x509.Certificate{m.Cert.Leaf}, x509.ExtKeyUsageClientAuth, "", time.Now())
	if !errors.Is(err, ErrPeerCert) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired certificate: got %v, want ErrPeerCert saying it expired", err)
	}
	cfg := Config{ID: "old", Listen: "127.0.0.1:0", TLS: m}
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Validate with an expired certificate: %v, want an error saying it expired", err)
	}
}

func TestReconnectAfterPeerRestarts(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", nil)
	b := startNode(t, "net", "b", nil)
	mesh(t, a, b)
	a.Send("b", chMsg, []byte("before"))
	if m := b.recv(t); m.payload != "before" {
		t.Fatalf("b received %+v", m)
	}

	addr := b.Addr().String()
	b.stop(t)
	waitFor(t, "a sees b down", func() bool {
		st, _ := a.status("b")
		return !st.Connected && st.LastError != ""
	})
	// a keeps sending while b is away; the queue holds or drops, never blocks.
	for range 10 {
		if err := a.Send("b", chMsg, []byte("while down")); err != nil {
			t.Fatal(err)
		}
	}

	b2 := startNode(t, "net", "b", func(c *Config) { c.Listen = addr })
	if err := b2.AddPeer("a", a.Addr().String()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a reconnects to the restarted b", func() bool {
		st, _ := a.status("b")
		return st.Connected
	})
	a.Send("b", chMsg, []byte("after"))
	for m := b2.recv(t); m.payload != "after"; m = b2.recv(t) {
		if m.payload != "while down" {
			t.Fatalf("restarted b received %+v", m)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if got, err := b2.Request(ctx, "a", chEcho, []byte("x")); err != nil || string(got) != "a:x" {
		t.Fatalf("restarted b → a request: %q, %v", got, err)
	}
}

func TestRemovePeerStopsTraffic(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", nil)
	b := startNode(t, "net", "b", nil)
	mesh(t, a, b)
	a.Send("b", chMsg, []byte("hi"))
	b.recv(t)

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	pending := make(chan error, 1)
	go func() {
		_, err := a.Request(ctx, "b", chSlow, nil)
		pending <- err
	}()
	waitFor(t, "the slow request reaches b", func() bool {
		st, _ := b.status("a")
		return st.Received >= 2
	})

	a.RemovePeer("b")
	if err := <-pending; !errors.Is(err, ErrPeerRemoved) {
		t.Fatalf("request waiting on a removed peer: %v, want ErrPeerRemoved", err)
	}
	if err := a.Send("b", chMsg, []byte("gone")); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("Send to a removed peer: %v, want ErrUnknownPeer", err)
	}
	if _, err := a.Request(ctx, "b", chEcho, nil); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("Request to a removed peer: %v, want ErrUnknownPeer", err)
	}
	if _, ok := a.status("b"); ok {
		t.Fatalf("a still lists b after RemovePeer: %+v", a.Peers())
	}
	// RemovePeer returned after a's connection to b closed; b sees it end.
	waitFor(t, "b logs the end of a's connection", func() bool {
		return b.log.has("inbound connection closed", "peer=a")
	})
	// b can still talk to a: a node is learned from the traffic it sends.
	b.Send("a", chMsg, []byte("still here"))
	if m := a.recv(t); m.payload != "still here" {
		t.Fatalf("a received %+v", m)
	}
	// Adding b back restores traffic.
	if err := a.AddPeer("b", b.Addr().String()); err != nil {
		t.Fatal(err)
	}
	a.Send("b", chMsg, []byte("back"))
	if m := b.recv(t); m.payload != "back" {
		t.Fatalf("b received %+v", m)
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	checkLeaks(t)
	// Nothing listens at dead, so its queue never drains.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()

	a := startNode(t, "net", "a", func(c *Config) { c.QueueLen = 4 })
	b := startNode(t, "net", "b", nil)
	mesh(t, a, b)
	if err := a.AddPeer("c", dead); err != nil {
		t.Fatal(err)
	}
	var full int
	for i := range 10 {
		switch err := a.Send("c", chMsg, []byte{byte(i)}); {
		case errors.Is(err, ErrQueueFull):
			full++
		case err != nil:
			t.Fatalf("Send %d to a dead peer: %v", i, err)
		}
	}
	if full != 6 {
		t.Fatalf("%d of 10 sends to a dead peer with QueueLen 4 reported ErrQueueFull, want 6", full)
	}
	if st, _ := a.status("c"); st.Dropped != 6 || st.Connected || st.Sent != 0 {
		t.Fatalf("status of the dead peer = %+v, want 6 dropped, not connected, none sent", st)
	}
	if err := a.Send("b", chMsg, []byte("unaffected")); err != nil {
		t.Fatal(err)
	}
	if m := b.recv(t); m.payload != "unaffected" {
		t.Fatalf("b received %+v", m)
	}
	if err := a.Send("nobody", chMsg, nil); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("Send to an unknown node: %v, want ErrUnknownPeer", err)
	}
}

func TestRequestTimesOutWithContext(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", nil)
	b := startNode(t, "net", "b", nil)
	mesh(t, a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := a.Request(ctx, "b", chSlow, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request to a handler that never answers: %v, want context.DeadlineExceeded", err)
	}
	// The connection is still good.
	ctx2, cancel2 := context.WithTimeout(context.Background(), deadline)
	defer cancel2()
	if got, err := a.Request(ctx2, "b", chEcho, []byte("ok")); err != nil || string(got) != "b:ok" {
		t.Fatalf("request after a timeout: %q, %v", got, err)
	}
}

func TestInboundFromNodeOutsidePeerSetIsDelivered(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", nil)
	d := startNode(t, "net", "d", nil)
	// d knows a; a has not learned of d yet.
	if err := d.AddPeer("a", a.Addr().String()); err != nil {
		t.Fatal(err)
	}
	d.Send("a", chMsg, []byte("hello from d"))
	if m := a.recv(t); m != (msg{"d", chMsg, "hello from d"}) {
		t.Fatalf("a received %+v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if got, err := d.Request(ctx, "a", chEcho, []byte("sync")); err != nil || string(got) != "a:sync" {
		t.Fatalf("d's request to a, which does not know d: %q, %v", got, err)
	}
	if !a.log.has("level=DEBUG", "not in the peer set", "peer=d") {
		t.Fatalf("a did not log the unknown node at debug level; log:\n%s", a.log)
	}
}

func TestOversizedPayloads(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", func(c *Config) { c.MaxFrame = 1 << 16 })
	b := startNode(t, "net", "b", func(c *Config) { c.MaxFrame = 1 << 10 })
	mesh(t, a, b)
	if err := b.Send("a", chMsg, make([]byte, 1<<10+1)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Send over MaxFrame: %v, want ErrFrameTooLarge", err)
	}
	// b refuses a frame over its own limit, drops the connection, and a
	// redials.
	a.Send("b", chMsg, make([]byte, 1<<12))
	waitFor(t, "b closes the connection that carried an oversized frame", func() bool {
		return b.log.has("bad frame", "peer=a", "frame too large")
	})
	// Messages queued behind the big one may be lost with its connection:
	// send until one arrives over the new connection.
	waitFor(t, "a small message reaches b after a redials", func() bool {
		a.Send("b", chMsg, []byte("small"))
		select {
		case m := <-b.msgs:
			if m.payload != "small" {
				t.Fatalf("b delivered %d bytes over its MaxFrame", len(m.payload))
			}
			return true
		case <-time.After(10 * time.Millisecond):
			return false
		}
	})
}

func TestLifecycle(t *testing.T) {
	checkLeaks(t)
	tr, err := New(Config{ID: "a", Listen: "127.0.0.1:0", TLS: material(t, "net", "a")})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.AddPeer("a", "127.0.0.1:1"); err == nil {
		t.Fatal("AddPeer of the node itself succeeded")
	}
	if err := tr.AddPeer("b", "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tr.Run(context.Background()) }()
	waitFor(t, "Run dials b", func() bool { return tr.Peers()[0].LastError != "" })
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run after Close: %v", err)
	}
	if err := tr.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Run: %v, want ErrClosed", err)
	}
	if err := tr.Send("b", chMsg, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// A transport that never runs gives its port back on Close.
	idle, err := New(Config{ID: "b", Listen: "127.0.0.1:0", TLS: material(t, "net", "b")})
	if err != nil {
		t.Fatal(err)
	}
	addr := idle.Addr().String()
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port of a closed idle transport still bound: %v", err)
	}
	ln.Close()
}

func TestConfigValidate(t *testing.T) {
	var zero Config
	zero.EnsureDefaults()
	d := DefaultConfig()
	if zero.MaxFrame != d.MaxFrame || zero.QueueLen != d.QueueLen || zero.DialTimeout != d.DialTimeout ||
		zero.MinBackoff != 100*time.Millisecond || zero.MaxBackoff != 5*time.Second || zero.Rand == nil || zero.Logger == nil {
		t.Fatalf("EnsureDefaults on zero: %+v", zero)
	}
	good := func() Config {
		c := Config{ID: "a", Listen: "127.0.0.1:0", TLS: material(t, "net", "a")}
		c.EnsureDefaults()
		return c
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, c := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no ID", func(c *Config) { c.ID = "" }, "empty ID"},
		{"no Listen", func(c *Config) { c.Listen = "" }, "empty Listen"},
		{"ID is not the certificate's", func(c *Config) { c.ID = "b" }, `certificate is for "a" but ID is "b"`},
		{"certificate from another CA", func(c *Config) { c.TLS.CAs = material(t, "othernet", "a").CAs }, "unknown authority"},
		{"no CA", func(c *Config) { c.TLS.CAs = nil }, "no CA pool"},
		{"huge MaxFrame", func(c *Config) { c.MaxFrame = 2 << 30 }, "MaxFrame"},
		{"negative QueueLen", func(c *Config) { c.QueueLen = -1 }, "QueueLen"},
		{"backoff upside down", func(c *Config) { c.MaxBackoff = c.MinBackoff / 2 }, "back-off"},
	} {
		cfg := good()
		c.mod(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	tr, err := New(Config{ID: "a", Listen: "127.0.0.1:0", TLS: material(t, "net", "a")})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for _, d := range []time.Duration{time.Millisecond, 100 * time.Millisecond, 5 * time.Second} {
		for range 1000 {
			if j := tr.jitter(d); j < d/2 || j > d {
				t.Fatalf("jitter(%v) = %v, want within [%v, %v]", d, j, d/2, d)
			}
		}
	}
}

// TestInboundWakesRedial: a node that dials us is up, so our own redial to
// it does not wait out its back-off.
func TestInboundWakesRedial(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", func(c *Config) { c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour })
	b := startNode(t, "net", "b", nil)
	mesh(t, a, b)
	addr := b.Addr().String()
	b.stop(t)
	waitFor(t, "a sees b down", func() bool {
		st, _ := a.status("b")
		return !st.Connected && st.LastError != ""
	})
	// a now waits an hour before redialling, unless b dials it first.
	b2 := startNode(t, "net", "b", func(c *Config) { c.Listen = addr })
	if err := b2.AddPeer("a", a.Addr().String()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a redials b as soon as b dials a", func() bool {
		st, _ := a.status("b")
		return st.Connected
	})
}
