package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/pb"
)

// MaxBatchBytes is the most bytes of encoded transactions one SubmitTxs
// call may carry, beside the MaxBatch count.
const MaxBatchBytes = 16 << 20

// MaxBodyBytes is the largest request body the API reads: a full SubmitTxs
// batch in its largest encoding, JSON, where the batch's MaxBatchBytes are
// base64 (4 bytes for 3) and each of its MaxBatch transactions adds at most
// 16 bytes (base64 padding, quotes, a comma, indentation). It is also the
// most a compressed request may decompress to. Nothing legitimate is larger:
// a single transaction is at most types.MaxSize.
const MaxBodyBytes = (MaxBatchBytes+2)/3*4 + MaxBatch*16 + 64<<10

// maxStreamRequest is the largest request that opens a server stream
// (Subscribe): a handful of fields.
const maxStreamRequest = 64 << 10

// Limits bound what clients can make the API server hold: bytes of request
// bodies, connections, and the time a connection or a stream may stall.
// Zero fields take the defaults of DefaultLimits.
type Limits struct {
	// MaxBodyBytes is the largest request body, in bytes. Default
	// MaxBodyBytes.
	MaxBodyBytes int64
	// MaxInflightBytes bounds the bytes of request bodies read and not yet
	// answered, over all requests: a request that would go past it is
	// refused with resource_exhausted, to be retried. Default four times
	// MaxBodyBytes.
	MaxInflightBytes int64
	// MaxConns is the most connections served at once. At the cap a new
	// connection takes the place of the one idle the longest (a keep-alive
	// connection between requests), which is closed; with none idle, new
	// connections wait to be accepted until one closes. Default 1024, and
	// at most half the process's open-file limit, which the node also needs
	// for its database and peers.
	MaxConns int
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. Default
	// 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from its headers to the end of its
	// answer; a stream is exempt and bounded by StreamWriteTimeout instead.
	// Default 60s.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request. Default
	// 120s.
	IdleTimeout time.Duration
	// StreamWriteTimeout is the longest one write to a stream (a
	// subscription) may block on a client that does not read: such a
	// subscriber is dropped. A stream that is merely quiet, waiting for
	// blocks, is never timed out. Default 30s.
	StreamWriteTimeout time.Duration
}

// DefaultLimits returns the defaults documented on Limits.
func DefaultLimits() Limits {
	conns := 1024
	if n, ok := openFileLimit(); ok && n/2 < uint64(conns) {
		conns = max(int(n/2), 16)
	}
	return Limits{
		MaxBodyBytes:       MaxBodyBytes,
		MaxInflightBytes:   4 * MaxBodyBytes,
		MaxConns:           conns,
		ReadHeaderTimeout:  10 * time.Second,
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       60 * time.Second,
		IdleTimeout:        120 * time.Second,
		StreamWriteTimeout: 30 * time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxInflightBytes == 0 {
		l.MaxInflightBytes = max(d.MaxInflightBytes, l.MaxBodyBytes)
	}
	if l.MaxConns == 0 {
		l.MaxConns = d.MaxConns
	}
	if l.ReadHeaderTimeout == 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout == 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.StreamWriteTimeout == 0 {
		l.StreamWriteTimeout = d.StreamWriteTimeout
	}
	return l
}

// Server returns an HTTP server of h with l's timeouts, and h wrapped so
// that request bodies and streams keep to l. Serve it on Listener(ln, srv).
func (l Limits) Server(h http.Handler) *http.Server {
	l = l.withDefaults()
	return &http.Server{
		Handler:           l.Handler(h),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
	}
}

// Listener caps the connections accepted from ln at MaxConns. It follows
// srv's connections through srv.ConnState (kept, and called first), to
// know which are idle and may be closed to make room for a new one: idle
// keep-alive connections must not shut new clients out.
func (l Limits) Listener(ln net.Listener, srv *http.Server) net.Listener {
	c := newConnCap(ln, l.withDefaults().MaxConns)
	prev := srv.ConnState
	srv.ConnState = func(nc net.Conn, s http.ConnState) {
		if prev != nil {
			prev(nc, s)
		}
		c.connState(nc, s)
	}
	return c
}

// Handler wraps h: a request body over MaxBodyBytes, or one that would take
// the bytes in flight past MaxInflightBytes, is refused with
// resource_exhausted; a server stream is freed of the server's read and
// write timeouts once its request is read, and each of its writes gets
// StreamWriteTimeout instead.
func (l Limits) Handler(h http.Handler) http.Handler {
	l = l.withDefaults()
	return &guard{l: l, h: h, budget: budget{max: l.MaxInflightBytes}, streams: serverStreams(), errs: connect.NewErrorWriter(jsonCodecs()...)}
}

// Sentinel errors of the request limits; the API answers them with
// resource_exhausted.
var (
	// ErrBodyTooLarge means a request body is larger than any legitimate
	// request: send fewer transactions per call.
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrBusy means the node is reading as many request bytes as it
	// allows at once: retry shortly.
	ErrBusy = errors.New("node busy reading other requests")
)

type guard struct {
	l       Limits
	h       http.Handler
	budget  budget
	streams map[string]bool
	errs    *connect.ErrorWriter
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.streams[r.URL.Path] {
		g.serveStream(w, r)
		return
	}
	if r.Body == nil || r.Body == http.NoBody {
		g.h.ServeHTTP(w, r)
		return
	}
	if r.ContentLength > g.l.MaxBodyBytes {
		g.refuse(w, r, fmt.Errorf("%w: %d bytes, this node reads at most %d (a full SubmitTxs batch); send fewer transactions per call", ErrBodyTooLarge, r.ContentLength, g.l.MaxBodyBytes))
		return
	}
	body := &meteredBody{
		r:          http.MaxBytesReader(w, r.Body, g.l.MaxBodyBytes),
		g:          g,
		compressed: compressed(r),
	}
	if r.ProtoMajor == 1 {
		body.w = w
	}
	r.Body = body
	defer body.release()
	g.h.ServeHTTP(w, r)
}

// serveStream reads a server stream's request under the server's read
// timeout, then lifts the server's timeouts, which would otherwise end a
// long-lived subscription, and bounds each write instead.
func (g *guard) serveStream(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStreamRequest))
		if err != nil {
			if r.ProtoMajor == 1 {
				dropConn(w)
			}
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				err = fmt.Errorf("%w: a stream's request is at most %d bytes", ErrBodyTooLarge, maxStreamRequest)
			}
			g.refuse(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // not supported by every writer; then there is none to lift
	_ = rc.SetWriteDeadline(time.Time{})
	g.h.ServeHTTP(&streamWriter{ResponseWriter: w, rc: rc, timeout: g.l.StreamWriteTimeout}, r)
}

func (g *guard) refuse(w http.ResponseWriter, r *http.Request, err error) {
	ce := connect.NewError(connect.CodeResourceExhausted, err)
	if g.errs.IsSupported(r) {
		_ = g.errs.Write(w, r, ce)
		return
	}
	status := http.StatusServiceUnavailable
	if errors.Is(err, ErrBodyTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	http.Error(w, err.Error(), status)
}

// compressed reports whether a request's body is compressed, in any of the
// protocols the API speaks.
func compressed(r *http.Request) bool {
	for _, h := range []string{"Content-Encoding", "Connect-Content-Encoding", "Grpc-Encoding"} {
		if v := r.Header.Get(h); v != "" && v != "identity" {
			return true
		}
	}
	return false
}

// meteredBody takes from the in-flight budget each byte it reads, and gives
// them back when the request is answered. A compressed body takes the most
// it may decompress to once it is read, before it is decompressed.
type meteredBody struct {
	r          io.ReadCloser
	w          http.ResponseWriter // HTTP/1 only: to close a connection left mid-body
	g          *guard
	compressed bool
	held       int64
	done       bool
}

func (b *meteredBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		dropConn(b.w)
	}
	if n > 0 {
		if err := b.take(int64(n)); err != nil {
			return 0, err
		}
	}
	if errors.Is(err, io.EOF) && b.compressed && !b.done {
		b.done = true
		if rest := b.g.l.MaxBodyBytes - b.held; rest > 0 {
			if err := b.take(rest); err != nil {
				return n, err
			}
		}
	}
	return n, err
}

func (b *meteredBody) take(n int64) error {
	if !b.g.budget.take(n) {
		dropConn(b.w)
		return connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("%w: it holds its limit of %d bytes of request bodies; retry shortly", ErrBusy, b.g.budget.max))
	}
	b.held += n
	return nil
}

func (b *meteredBody) Close() error { return b.r.Close() }

func (b *meteredBody) release() {
	b.g.budget.give(b.held)
	b.held = 0
}

// budget is a count of bytes that never goes past max; taking more fails
// at once rather than waiting, so that no request queues behind others.
type budget struct {
	mu   sync.Mutex
	used int64
	max  int64
}

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// streamWriter gives each write of a stream its own deadline and lifts it
// after: a subscriber that stops reading is dropped once a write has
// blocked for timeout, and one that is only waiting for blocks is kept.
type streamWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (s *streamWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	n, err := s.ResponseWriter.Write(p)
	_ = s.rc.SetWriteDeadline(time.Time{})
	return n, err
}

// FlushError is what http.ResponseController calls to flush.
func (s *streamWriter) FlushError() error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	err := s.rc.Flush()
	_ = s.rc.SetWriteDeadline(time.Time{})
	return err
}

// Flush implements http.Flusher, which connect uses.
func (s *streamWriter) Flush() { _ = s.FlushError() }

// Unwrap lets http.ResponseController reach the server's writer.
func (s *streamWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// serverStreams lists the paths of the service's server-streaming methods,
// from the schema, so that a method added later is covered too.
func serverStreams() map[string]bool {
	out := map[string]bool{}
	svcs := pb.File_accord_api_v1_api_proto.Services()
	for i := range svcs.Len() {
		svc := svcs.Get(i)
		ms := svc.Methods()
		for j := range ms.Len() {
			if m := ms.Get(j); m.IsStreamingServer() && !m.IsStreamingClient() {
				out["/"+string(svc.FullName())+"/"+string(m.Name())] = true
			}
		}
	}
	return out
}

// batchSize refuses a SubmitTxs batch of more than MaxBatchBytes.
func batchSize(txs [][]byte) error {
	total := 0
	for _, tx := range txs {
		total += len(tx)
	}
	if total > MaxBatchBytes {
		return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("batch of %d bytes of transactions exceeds %d; split it", total, MaxBatchBytes))
	}
	return nil
}

// dropConn has an HTTP/1 connection closed after the answer when its
// request body could not be read to the end: a client that stalls mid-body
// (the read timeout) must not keep the connection as an idle keep-alive,
// and the rest of the body would be read as the next request. w is nil for
// HTTP/2, whose streams end on their own.
func dropConn(w http.ResponseWriter) {
	if w != nil {
		w.Header().Set("Connection", "close")
	}
}
