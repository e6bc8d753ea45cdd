package p2p

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Send, Request, AddPeer and Run. Frame errors
// (ErrBadFrame, ErrFrameTooLarge) end the connection they arrive on and
// show in PeerStatus.LastError and the log.
var (
	// ErrUnknownPeer means the node ID is not in the peer set: AddPeer it
	// first.
	ErrUnknownPeer = errors.New("unknown peer")
	// ErrQueueFull means the peer's send queue was full and the message was
	// dropped (and counted in PeerStatus.Dropped).
	ErrQueueFull = errors.New("peer send queue full")
	// ErrPeerRemoved means the peer was removed while a request to it was
	// waiting.
	ErrPeerRemoved = errors.New("peer removed")
	// ErrConnLost means the connection broke before the response came;
	// the request may or may not have been handled.
	ErrConnLost = errors.New("connection to peer lost")
	// ErrClosed means the transport has stopped.
	ErrClosed = errors.New("transport closed")
)

// RemoteError is the error a peer's request handler returned.
type RemoteError struct {
	Peer string // the node that answered
	Msg  string // its handler's error text
}

func (e *RemoteError) Error() string { return fmt.Sprintf("p2p: node %s: %s", e.Peer, e.Msg) }

// MessageHandler receives a one-way message. It runs on the reading
// goroutine of the sender's connection: messages from one node arrive in
// order, and a slow handler slows only that node's connection. It owns
// payload.
type MessageHandler func(from string, ch Channel, payload []byte)

// RequestHandler answers a request with the response bytes or an error,
// whose text the requester receives in a RemoteError. Requests run
// concurrently, each on its own goroutine; ctx ends when the connection or
// the transport closes, and the handler must then return. It owns payload.
type RequestHandler func(ctx context.Context, from string, ch Channel, payload []byte) ([]byte, error)

// PeerStatus is one peer as `accord status` shows it.
type PeerStatus struct {
	ID   string
	Addr string
	// Connected means an outbound connection is up. TLS 1.3 lets the
	// dialler finish its handshake before the peer has checked the
	// dialler's certificate, so a peer that refuses this node shows
	// connected for a moment, then not, with the reason in LastError.
	Connected bool
	LastError string // why the last dial or connection failed; cleared on connecting
	Sent      uint64 // messages and requests handed to the peer's connection
	Dropped   uint64 // messages dropped because the queue was full
	Received  uint64 // frames read from the peer, on either connection
}

// maxConcurrentRequests bounds the request handlers running for one
// connection; past it the connection's reader waits.
const maxConcurrentRequests = 64

// Transport connects this node to its peers. Its methods are safe for
// concurrent use.
type Transport struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener
	srv *tls.Config

	msgHandlers [256]atomic.Pointer[MessageHandler]
	reqHandlers [256]atomic.Pointer[RequestHandler]

	nextID atomic.Uint64
	closed atomic.Bool
	done   chan struct{} // closed when the transport stops

	randMu sync.Mutex

	mu      sync.RWMutex
	state   int // idle, running or stopped
	runCtx  context.Context
	stopRun context.CancelFunc
	stopped chan struct{} // closed when Run has returned
	wg      sync.WaitGroup
	peers   map[string]*peer
	inbound map[string]*conn // the newest accepted connection per node
	calls   map[uint64]*call
}

const (
	stateIdle = iota
	stateRunning
	stateStopped
)

type peer struct {
	id       string
	queue    chan frame
	removed  chan struct{}
	loopDone chan struct{} // closed when the dial loop has exited
	wake     chan struct{} // cuts a redial wait short: the peer just dialled us
	cancel   context.CancelFunc

	sent, dropped, received atomic.Uint64

	mu        sync.Mutex
	addr      string
	conn      *conn
	lastError string
}

type call struct {
	peer string
	done chan result // buffered: whoever completes the call never waits
}

type result struct {
	payload []byte
	err     error
}

// conn is one established connection.
type conn struct {
	nc       net.Conn // the TCP connection under TLS; closing it ends everything
	tc       *tls.Conn
	remote   string // the peer's node ID
	outbound bool
	ctx      context.Context
	cancel   context.CancelFunc
	resp     chan frame    // responses to requests read from this connection
	sem      chan struct{} // request handlers running
	handlers sync.WaitGroup
}

// New checks cfg (after EnsureDefaults) and binds the listener, so that
// Addr is known before Run. Call Run to serve, or Close to release the
// listener of a transport that will not run.
func New(cfg Config) (*Transport, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("p2p: listen on %s: %w: choose a free address", cfg.Listen, err)
	}
	return &Transport{
		cfg:     cfg,
		log:     cfg.Logger.With("node", cfg.ID),
		ln:      ln,
		srv:     serverTLS(cfg.TLS, cfg.Clock.Now),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		peers:   make(map[string]*peer),
		inbound: make(map[string]*conn),
		calls:   make(map[uint64]*call),
	}, nil
}

// ID returns this node's ID.
func (t *Transport) ID() string { return t.cfg.ID }

// Addr returns the address the transport listens on.
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Handle registers h for messages on ch, replacing any handler before it;
// nil removes it. Messages on a channel without a handler are dropped.
func (t *Transport) Handle(ch Channel, h MessageHandler) {
	if h == nil {
		t.msgHandlers[ch].Store(nil)
		return
	}
	t.msgHandlers[ch].Store(&h)
}

// HandleRequest registers h for requests on ch, replacing any handler
// before it; nil removes it. A request on a channel without a handler gets
// an error response.
func (t *Transport) HandleRequest(ch Channel, h RequestHandler) {
	if h == nil {
		t.reqHandlers[ch].Store(nil)
		return
	}
	t.reqHandlers[ch].Store(&h)
}

// Run accepts peers and dials every peer in the peer set until ctx is done
// or Close is called, then closes every connection, waits for every
// goroutine it started (handlers included) and returns nil. Run may be
// called once.
func (t *Transport) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t.mu.Lock()
	if t.state != stateIdle {
		t.mu.Unlock()
		return fmt.Errorf("p2p: Run called twice or after Close: %w", ErrClosed)
	}
	t.state = stateRunning
	t.runCtx, t.stopRun = ctx, cancel
	t.wg.Add(1)
	go t.acceptLoop(ctx)
	for _, p := range t.peers {
		t.startPeerLocked(p)
	}
	t.mu.Unlock()

	<-ctx.Done()
	t.mu.Lock()
	t.state = stateStopped
	t.mu.Unlock()
	t.closed.Store(true)
	close(t.done)
	t.ln.Close()
	t.wg.Wait()
	t.failCalls(func(*call) bool { return true }, ErrClosed)
	close(t.stopped)
	return nil
}

// Close stops a running transport and waits for Run to return, or releases
// the listener of one that never ran. It is idempotent. It must not be
// called from a handler, which Run waits for.
func (t *Transport) Close() error {
	t.mu.Lock()
	switch t.state {
	case stateIdle:
		t.state = stateStopped
		t.mu.Unlock()
		t.closed.Store(true)
		close(t.done)
		return t.ln.Close()
	case stateRunning:
		t.stopRun()
		t.mu.Unlock()
		<-t.stopped
		return nil
	default:
		t.mu.Unlock()
		return nil
	}
}

// AddPeer adds node id, reached at addr, to the peer set; a running
// transport starts dialling it at once. Adding a known id with a new
// address moves it there (its connection is redialled).
func (t *Transport) AddPeer(id, addr string) error {
	switch {
	case id == "":
		return errors.New("p2p: AddPeer: empty node ID")
	case id == t.cfg.ID:
		return fmt.Errorf("p2p: AddPeer %q: that is this node", id)
	case addr == "":
		return fmt.Errorf("p2p: AddPeer %q: empty address", id)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == stateStopped {
		return ErrClosed
	}
	if p, ok := t.peers[id]; ok {
		p.mu.Lock()
		moved := p.addr != addr
		p.addr = addr
		c := p.conn
		p.mu.Unlock()
		if moved && c != nil {
			c.cancel()
		}
		return nil
	}
	p := &peer{
		id:       id,
		addr:     addr,
		queue:    make(chan frame, t.cfg.QueueLen),
		removed:  make(chan struct{}),
		loopDone: make(chan struct{}),
		wake:     make(chan struct{}, 1),
	}
	t.peers[id] = p
	if t.state == stateRunning {
		t.startPeerLocked(p)
	}
	return nil
}

// RemovePeer takes id out of the peer set: its connection closes, it is no
// longer dialled, queued messages are discarded and waiting requests fail
// with ErrPeerRemoved. Messages it sends on its own connection are still
// received (see the package comment). RemovePeer returns once the dialling
// has stopped; it may be called from a handler. Removing an unknown id does
// nothing.
func (t *Transport) RemovePeer(id string) {
	t.mu.Lock()
	p, ok := t.peers[id]
	if ok {
		delete(t.peers, id)
	}
	t.mu.Unlock()
	if !ok {
		return
	}
	close(p.removed)
	if p.cancel != nil {
		p.cancel()
		<-p.loopDone
	}
	t.failCalls(func(c *call) bool { return c.peer == id }, ErrPeerRemoved)
}

// Peers returns the peer set, ordered by ID.
func (t *Transport) Peers() []PeerStatus {
	t.mu.RLock()
	ps := make([]*peer, 0, len(t.peers))
	for _, p := range t.peers {
		ps = append(ps, p)
	}
	t.mu.RUnlock()
	slices.SortFunc(ps, func(a, b *peer) int { return strings.Compare(a.id, b.id) })
	out := make([]PeerStatus, len(ps))
	for i, p := range ps {
		p.mu.Lock()
		out[i] = PeerStatus{ID: p.id, Addr: p.addr, Connected: p.conn != nil, LastError: p.lastError}
		p.mu.Unlock()
		out[i].Sent = p.sent.Load()
		out[i].Dropped = p.dropped.Load()
		out[i].Received = p.received.Load()
	}
	return out
}

// Send queues a one-way message to node to and returns at once. It fails
// with ErrUnknownPeer for a node outside the peer set, ErrFrameTooLarge
// for a payload over MaxFrame, and ErrQueueFull, counting the drop, when
// the peer's queue is full. Send takes ownership of payload: the caller
// must not change it afterwards.
func (t *Transport) Send(to string, ch Channel, payload []byte) error {
	if t.closed.Load() {
		return ErrClosed
	}
	if len(payload) > t.cfg.MaxFrame {
		return fmt.Errorf("p2p: send %d bytes to %s: %w (MaxFrame %d)", len(payload), to, ErrFrameTooLarge, t.cfg.MaxFrame)
	}
	p := t.peer(to)
	if p == nil {
		return fmt.Errorf("p2p: send to %q: %w", to, ErrUnknownPeer)
	}
	select {
	case p.queue <- frame{kind: kindMessage, ch: ch, payload: payload}:
		return nil
	default:
		p.dropped.Add(1)
		return fmt.Errorf("p2p: send to %s: %w", to, ErrQueueFull)
	}
}

// Request sends payload to node to on ch and waits for the response of
// its request handler, for ctx to end, or for the connection to break
// (ErrConnLost). A handler's error comes back as a *RemoteError. Unlike
// Send, Request waits for room in a full queue. Request takes ownership of
// payload.
func (t *Transport) Request(ctx context.Context, to string, ch Channel, payload []byte) ([]byte, error) {
	if t.closed.Load() {
		return nil, ErrClosed
	}
	if len(payload) > t.cfg.MaxFrame {
		return nil, fmt.Errorf("p2p: request of %d bytes to %s: %w (MaxFrame %d)", len(payload), to, ErrFrameTooLarge, t.cfg.MaxFrame)
	}
	p := t.peer(to)
	if p == nil {
		return nil, fmt.Errorf("p2p: request to %q: %w", to, ErrUnknownPeer)
	}
	id := t.nextID.Add(1)
	c := &call{peer: to, done: make(chan result, 1)}
	t.mu.Lock()
	t.calls[id] = c
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.calls, id)
		t.mu.Unlock()
	}()
	select {
	case p.queue <- frame{kind: kindRequest, ch: ch, id: id, payload: payload}:
	case <-ctx.Done():
		return nil, fmt.Errorf("p2p: request to %s: %w", to, ctx.Err())
	case <-p.removed:
		return nil, fmt.Errorf("p2p: request to %s: %w", to, ErrPeerRemoved)
	case <-t.done:
		return nil, ErrClosed
	}
	select {
	case r := <-c.done:
		if r.err != nil && !errors.As(r.err, new(*RemoteError)) {
			return nil, fmt.Errorf("p2p: request to %s: %w", to, r.err)
		}
		return r.payload, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("p2p: request to %s: %w", to, ctx.Err())
	case <-p.removed:
		return nil, fmt.Errorf("p2p: request to %s: %w", to, ErrPeerRemoved)
	case <-t.done:
		return nil, ErrClosed
	}
}

func (t *Transport) peer(id string) *peer {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.peers[id]
}

// failCalls completes, with err, every waiting call that match selects.
func (t *Transport) failCalls(match func(*call) bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, c := range t.calls {
		if match(c) {
			c.done <- result{err: err}
			delete(t.calls, id)
		}
	}
}

// complete hands a response from node from to its waiting call. A response
// to a call made to another node is ignored: only the asked node answers.
func (t *Transport) complete(from string, f frame) {
	t.mu.Lock()
	c, ok := t.calls[f.id]
	if ok && c.peer == from {
		delete(t.calls, f.id)
	}
	t.mu.Unlock()
	if !ok || c.peer != from {
		return // the caller gave up, or a node answers what it was not asked
	}
	if f.kind == kindError {
		c.done <- result{err: &RemoteError{Peer: from, Msg: string(f.payload)}}
		return
	}
	c.done <- result{payload: f.payload}
}

func (t *Transport) startPeerLocked(p *peer) {
	ctx, cancel := context.WithCancel(t.runCtx)
	p.cancel = cancel
	t.wg.Add(1)
	go t.dialLoop(ctx, p)
}

func (t *Transport) jitter(d time.Duration) time.Duration {
	t.randMu.Lock()
	defer t.randMu.Unlock()
	half := d / 2
	return half + time.Duration(t.cfg.Rand.Int64N(int64(d-half)+1))
}

func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dialLoop keeps one outbound connection to p until ctx ends.
func (t *Transport) dialLoop(ctx context.Context, p *peer) {
	defer t.wg.Done()
	defer close(p.loopDone)
	backoff := t.cfg.MinBackoff
	for {
		c, err := t.dial(ctx, p)
		if err == nil {
			start := time.Now()
			p.mu.Lock()
			p.conn, p.lastError = c, ""
			p.mu.Unlock()
			t.log.Debug("p2p: connected", "peer", p.id, "remote", c.nc.RemoteAddr().String())
			err = t.serve(c, p)
			p.mu.Lock()
			p.conn = nil
			p.mu.Unlock()
			if ctx.Err() == nil {
				t.failCalls(func(cl *call) bool { return cl.peer == p.id }, ErrConnLost)
			}
			if time.Since(start) >= t.cfg.MaxBackoff {
				backoff = t.cfg.MinBackoff
			}
		}
		if ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		repeated := p.lastError == err.Error()
		p.lastError = err.Error()
		p.mu.Unlock()
		// The same failure on every redial is logged once; Peers shows it.
		switch {
		case repeated:
		case errors.Is(err, ErrPeerCert), errors.Is(err, ErrIdentity):
			t.log.Warn("p2p: refused peer", "peer", p.id, "remote", p.address(), "reason", err.Error())
		default:
			t.log.Debug("p2p: peer unreachable", "peer", p.id, "remote", p.address(), "reason", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
			// The peer dialled us: it is up now, so dial it back at once.
			backoff = t.cfg.MinBackoff
			continue
		case <-time.After(t.jitter(backoff)):
		}
		backoff = min(2*backoff, t.cfg.MaxBackoff)
	}
}

func (p *peer) address() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

func (t *Transport) dial(ctx context.Context, p *peer) (*conn, error) {
	addr := p.address()
	dctx, cancel := context.WithTimeout(ctx, t.cfg.DialTimeout)
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(nc, clientTLS(t.cfg.TLS, p.id, t.cfg.Clock.Now))
	if err := tc.HandshakeContext(dctx); err != nil {
		nc.Close()
		return nil, err
	}
	if err := t.identify(tc, p.id); err != nil {
		nc.Close()
		return nil, err
	}
	return newConn(ctx, nc, tc, p.id, true), nil
}

func newConn(ctx context.Context, nc net.Conn, tc *tls.Conn, remote string, outbound bool) *conn {
	c := &conn{
		nc:       nc,
		tc:       tc,
		remote:   remote,
		outbound: outbound,
		resp:     make(chan frame, maxConcurrentRequests),
		sem:      make(chan struct{}, maxConcurrentRequests),
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	return c
}

func (c *conn) direction() string {
	if c.outbound {
		return "outbound"
	}
	return "inbound"
}

func (t *Transport) acceptLoop(ctx context.Context) {
	defer t.wg.Done()
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			t.log.Warn("p2p: accept failed", "reason", err.Error())
			if !sleep(ctx, t.cfg.MinBackoff) {
				return
			}
			continue
		}
		t.wg.Add(1)
		go t.serveInbound(ctx, nc)
	}
}

func (t *Transport) serveInbound(ctx context.Context, nc net.Conn) {
	defer t.wg.Done()
	remote := nc.RemoteAddr().String()
	tc := tls.Server(nc, t.srv)
	hctx, cancel := context.WithTimeout(ctx, t.cfg.DialTimeout)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		nc.Close()
		if ctx.Err() == nil {
			t.log.Warn("p2p: refused inbound connection", "remote", remote, "reason", err.Error())
		}
		return
	}
	id := tc.ConnectionState().PeerCertificates[0].Subject.CommonName
	if err := t.identify(tc, id); err != nil {
		nc.Close()
		if ctx.Err() == nil {
			t.log.Warn("p2p: refused inbound connection", "peer", id, "remote", remote, "reason", err.Error())
		}
		return
	}
	c := newConn(ctx, nc, tc, id, false)
	t.mu.Lock()
	p, known := t.peers[id]
	old := t.inbound[id]
	t.inbound[id] = c
	t.mu.Unlock()
	if known {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	if old != nil {
		// The node dials one connection to us at a time, so a new one
		// means the old one is dead on its side.
		old.cancel()
	}
	if !known {
		t.log.Debug("p2p: inbound connection from a node not in the peer set; delivering its messages", "peer", id, "remote", remote)
	}
	err = t.serve(c, nil)
	t.mu.Lock()
	if t.inbound[id] == c {
		delete(t.inbound, id)
	}
	t.mu.Unlock()
	if ctx.Err() == nil {
		t.log.Debug("p2p: inbound connection closed", "peer", id, "remote", remote, "reason", err.Error())
	}
}

// serve runs c until it breaks or its context ends: frames from the queue
// of p (nil for an inbound connection) and responses are written, and
// frames read are dispatched. It returns why the connection ended, once
// every goroutine of the connection has exited.
func (t *Transport) serve(c *conn, p *peer) error {
	stop := context.AfterFunc(c.ctx, func() { c.nc.Close() })
	defer stop()
	werr := make(chan error, 1)
	go func() {
		err := t.writeLoop(c, p)
		c.cancel()
		werr <- err
	}()
	err := t.readLoop(c)
	c.cancel()
	c.nc.Close()
	if w := <-werr; w != nil && (err == nil || errors.Is(err, net.ErrClosed)) {
		err = w
	}
	c.handlers.Wait()
	if err == nil {
		err = ErrConnLost
	}
	return err
}

func (t *Transport) writeLoop(c *conn, p *peer) error {
	bw := bufio.NewWriterSize(c.tc, 64<<10)
	var unflushed uint64
	var queue <-chan frame // nil, never ready, on an inbound connection
	if p != nil {
		queue = p.queue
	}
	for {
		var f frame
		select {
		case f = <-queue:
		case f = <-c.resp:
		default:
			if bw.Buffered() > 0 {
				// Counted before the flush, so that a response never
				// arrives before its request counts as sent.
				if p != nil {
					p.sent.Add(unflushed)
				}
				unflushed = 0
				c.nc.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
				if err := bw.Flush(); err != nil {
					return err
				}
			}
			select {
			case f = <-queue:
			case f = <-c.resp:
			case <-c.ctx.Done():
				return nil
			}
		}
		c.nc.SetWriteDeadline(time.Now().Add(t.cfg.WriteTimeout))
		if err := writeFrame(bw, &f); err != nil {
			return err
		}
		if f.kind == kindMessage || f.kind == kindRequest {
			unflushed++
		}
	}
}

func (t *Transport) readLoop(c *conn) error {
	br := bufio.NewReaderSize(c.tc, 64<<10)
	for {
		f, err := readFrame(br, t.cfg.MaxFrame)
		if err != nil {
			if errors.Is(err, ErrBadFrame) || errors.Is(err, ErrFrameTooLarge) {
				t.log.Warn("p2p: closing connection after a bad frame", "peer", c.remote, "remote", c.nc.RemoteAddr().String(), "reason", err.Error())
			}
			return err
		}
		if p := t.peer(c.remote); p != nil {
			p.received.Add(1)
		}
		// Each end writes only its own kinds (see the package comment), so
		// a message handler never runs on a dial loop's goroutine.
		if c.outbound != (f.kind == kindResponse || f.kind == kindError) {
			err := fmt.Errorf("%w: %v on the %s connection", ErrBadFrame, f.kind, c.direction())
			t.log.Warn("p2p: closing connection after a bad frame", "peer", c.remote, "remote", c.nc.RemoteAddr().String(), "reason", err.Error())
			return err
		}
		switch f.kind {
		case kindMessage:
			if h := t.msgHandlers[f.ch].Load(); h != nil {
				(*h)(c.remote, f.ch, f.payload)
			}
		case kindRequest:
			select {
			case c.sem <- struct{}{}:
			case <-c.ctx.Done():
				return c.ctx.Err()
			}
			c.handlers.Add(1)
			go func() {
				defer c.handlers.Done()
				defer func() { <-c.sem }()
				t.answer(c, f)
			}()
		case kindResponse, kindError:
			t.complete(c.remote, f)
		default:
			err := fmt.Errorf("%w: %v after the connection was set up", ErrBadFrame, f.kind)
			t.log.Warn("p2p: closing connection after a bad frame", "peer", c.remote, "remote", c.nc.RemoteAddr().String(), "reason", err.Error())
			return err
		}
	}
}

// answer runs the request handler for f and queues its response on c.
func (t *Transport) answer(c *conn, f frame) {
	resp := frame{kind: kindResponse, ch: f.ch, id: f.id}
	h := t.reqHandlers[f.ch].Load()
	if h == nil {
		resp.kind = kindError
		resp.payload = fmt.Appendf(nil, "no request handler for channel %d on node %s", f.ch, t.cfg.ID)
	} else {
		out, err := (*h)(c.ctx, c.remote, f.ch, f.payload)
		switch {
		case err != nil:
			resp.kind = kindError
			resp.payload = []byte(err.Error())
		case len(out) > t.cfg.MaxFrame:
			resp.kind = kindError
			resp.payload = fmt.Appendf(nil, "response of %d bytes exceeds MaxFrame %d of node %s", len(out), t.cfg.MaxFrame, t.cfg.ID)
		default:
			resp.payload = out
		}
	}
	if len(resp.payload) > t.cfg.MaxFrame {
		resp.payload = resp.payload[:t.cfg.MaxFrame]
	}
	select {
	case c.resp <- resp:
	case <-c.ctx.Done():
	}
}
