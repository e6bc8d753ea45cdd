package api

import (
	"container/list"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// connCap serves at most cap(slots) connections at once. A keep-alive
// connection waiting for its next request holds a slot too, and clients
// that open connections and leave them idle (every short-lived HTTP client
// does) would fill the cap with connections nobody uses, shutting everyone
// else out until the idle timeout. So at the cap a new connection takes the
// slot of the connection idle the longest, which is closed; only when every
// connection is busy reading or answering a request, each bounded by the
// server's timeouts, does a new one wait to be accepted.
type connCap struct {
	net.Listener
	slots     chan struct{} // a token per connection held
	wake      chan struct{} // a slot freed or a connection went idle
	done      chan struct{} // closed with the listener
	closeOnce sync.Once

	mu   sync.Mutex
	idle list.List // *cappedConn, idle the longest first
}

func newConnCap(ln net.Listener, max int) *connCap {
	return &connCap{
		Listener: ln,
		slots:    make(chan struct{}, max),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
}

// Accept accepts a connection, then finds it a slot: a free one, the one
// of the longest idle connection, or the first that frees.
func (l *connCap) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return &cappedConn{Conn: c, l: l}, nil
		default:
		}
		if old := l.oldestIdle(); old != nil {
			_ = old.Close() // gives back its slot
			continue
		}
		select {
		case l.slots <- struct{}{}:
			return &cappedConn{Conn: c, l: l}, nil
		case <-l.wake:
		case <-l.done:
			_ = c.Close()
			return nil, net.ErrClosed
		}
	}
}

func (l *connCap) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *connCap) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// oldestIdle takes the connection idle the longest off the idle list.
func (l *connCap) oldestIdle() *cappedConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	front := l.idle.Front()
	if front == nil {
		return nil
	}
	c := l.idle.Remove(front).(*cappedConn)
	c.elem = nil
	c.idle.Store(false)
	return c
}

func (l *connCap) setIdle(c *cappedConn, idle bool) {
	l.mu.Lock()
	switch {
	case idle && c.elem == nil && !c.closed:
		c.elem = l.idle.PushBack(c)
		c.idle.Store(true)
	case !idle && c.elem != nil:
		l.idle.Remove(c.elem)
		c.elem = nil
		c.idle.Store(false)
	}
	l.mu.Unlock()
	if idle {
		l.signal()
	}
}

// connState follows the server's connections: HTTP/1 between requests, and
// HTTP/2 over TLS with no stream open, are idle. A hijacked connection (h2c)
// is never taken as idle; it keeps its slot until it closes.
func (l *connCap) connState(nc net.Conn, s http.ConnState) {
	h2 := false
	for {
		if c, ok := nc.(*cappedConn); ok {
			if c.l == l {
				if h2 {
					c.h2.Store(true)
				}
				l.setIdle(c, s == http.StateIdle)
			}
			return
		}
		tc, ok := nc.(*tls.Conn)
		if !ok {
			return
		}
		h2 = h2 || tc.ConnectionState().NegotiatedProtocol == http2NextProto
		nc = tc.NetConn()
	}
}

// http2NextProto is HTTP/2's ALPN name.
const http2NextProto = "h2"

// cappedConn holds a slot of its connCap until it is closed.
type cappedConn struct {
	net.Conn
	l    *connCap
	idle atomic.Bool   // on l.idle: a fast check for Read
	h2   atomic.Bool   // HTTP/2 over TLS
	elem *list.Element // on l.idle; l.mu held
	// closed keeps a closed connection off the idle list; l.mu held.
	closed bool
	once   sync.Once
}

// Read takes an HTTP/1 connection off the idle list as soon as the next
// request starts to arrive, before the server has its headers and says it
// is active, so that a request under way is not cut to make room. An
// HTTP/2 client sends frames on an idle connection too (settings, window
// updates, pings); the server says when a stream opens.
func (c *cappedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.idle.Load() && !c.h2.Load() {
		c.l.setIdle(c, false)
	}
	return n, err
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		c.closed = true
		if c.elem != nil {
			c.l.idle.Remove(c.elem)
			c.elem = nil
			c.idle.Store(false)
		}
		c.l.mu.Unlock()
		<-c.l.slots
		c.l.signal()
	})
	return err
}
