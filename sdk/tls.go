package sdk

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/accord-chain/accord/api/memberproof"
	"github.com/accord-chain/accord/crypto"
)

// WithTLS makes the client trust the node certificates that the PEM
// certificates in caPEM sign: for a node of an Accord network, the network
// CA (network/ca.pem). Without it an https:// node must present a
// certificate the system trusts. TLS needs an https:// URL.
func WithTLS(caPEM []byte) Option {
	return func(o *options) {
		o.roots = x509.NewCertPool()
		if !o.roots.AppendCertsFromPEM(caPEM) {
			o.err = errors.Join(o.err, errors.New("sdk: WithTLS: no PEM certificate in the CA certificates given: pass the network CA's certificate (network/ca.pem)"))
		}
	}
}

// WithMember proves to a node that serves members only (api_tls
// client_auth member) that the client is the consortium member certDER
// (DER) certifies, holding key: each TLS connection carries, on every
// request, header Accord-Member-Proof with the certificate and key's
// signature of the connection's exported keying material, so the proof is
// good for that connection only. It needs an https:// URL.
func WithMember(key crypto.PrivateKey, certDER []byte) Option {
	return func(o *options) { o.key, o.cert = key, certDER }
}

// transport picks the client's HTTP transport for url: the plain one of
// http:// nodes (HTTP/1.1, pooled), or tlsTransport for https://.
func transport(rawURL string, o *options) http.RoundTripper {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return failing{fmt.Errorf("sdk: node URL %q: %w", rawURL, err)}
	case o.err != nil:
		return failing{o.err}
	case u.Scheme == "https":
		return newTLSTransport(u, o)
	case o.roots != nil || o.key != nil:
		return failing{fmt.Errorf("sdk: node URL %s: TLS and member proofs need an https:// URL", rawURL)}
	}
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		// Unary Connect calls negotiate compression with the standard
		// Accept-Encoding header, which the transport would otherwise add.
		DisableCompression: o.noCompression,
	}
}

// failing answers every request with the error that made the client
// unusable, so that New need not return one.
type failing struct{ err error }

func (f failing) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, f.err
}

// tlsTransport speaks HTTP/2 over TLS 1.3 on connections it dials itself,
// so that it knows which connection each request goes out on: a member
// proof is bound to one connection, and HTTP/2 multiplexes requests on
// it. Each connection is proven once, when dialled, and its proof is sent
// with every request on it. A request takes the first connection with a
// free stream; when none has one, the transport dials another.
type tlsTransport struct {
	base   string // scheme://host of the node
	addr   string // host:port
	dialer *tls.Dialer
	t2     *http2.Transport
	key    crypto.PrivateKey // nil: no member proofs
	cert   []byte

	mu      sync.Mutex // held while dialling: one new connection at a time
	chainID string     // learnt from /healthz on the first connection
	conns   []*provenConn
}

type provenConn struct {
	cc     *http2.ClientConn
	header string // the member proof of cc, "" without one
}

func newTLSTransport(u *url.URL, o *options) *tlsTransport {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return &tlsTransport{
		base: "https://" + u.Host,
		addr: net.JoinHostPort(u.Hostname(), port),
		dialer: &tls.Dialer{
			NetDialer: &net.Dialer{Timeout: 5 * time.Second},
			Config: &tls.Config{
				RootCAs:    o.roots,
				ServerName: u.Hostname(),
				MinVersion: tls.VersionTLS13,
				NextProtos: []string{http2.NextProtoTLS},
			},
		},
		t2:   &http2.Transport{DisableCompression: o.noCompression},
		key:  o.key,
		cert: o.cert,
	}
}

func (t *tlsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pc, err := t.conn(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if pc.header != "" {
		req = req.Clone(req.Context())
		req.Header.Set(memberproof.Header, pc.header)
	}
	return pc.cc.RoundTrip(req)
}

// conn returns a connection with a stream reserved for one request,
// dialling one when none has room.
func (t *tlsTransport) conn(ctx context.Context) (*provenConn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	live := t.conns[:0]
	var pick *provenConn
	for _, pc := range t.conns {
		if st := pc.cc.State(); st.Closed || st.Closing {
			continue
		}
		live = append(live, pc)
		if pick == nil && pc.cc.ReserveNewRequest() {
			pick = pc
		}
	}
	clear(t.conns[len(live):])
	t.conns = live
	if pick != nil {
		return pick, nil
	}
	pc, err := t.dial(ctx)
	if err != nil {
		return nil, err
	}
	t.conns = append(t.conns, pc)
	return pc, nil
}

// dial opens and, with a member key, proves a new connection.
func (t *tlsTransport) dial(ctx context.Context) (*provenConn, error) {
	c, err := t.dialer.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, fmt.Errorf("sdk: TLS connection to %s: %w", t.base, err)
	}
	tc := c.(*tls.Conn)
	cs := tc.ConnectionState()
	if cs.NegotiatedProtocol != http2.NextProtoTLS {
		tc.Close()
		return nil, fmt.Errorf("sdk: %s does not offer HTTP/2 over TLS (ALPN h2); is it an Accord node with api_tls?", t.base)
	}
	cc, err := t.t2.NewClientConn(tc)
	if err != nil {
		tc.Close()
		return nil, fmt.Errorf("sdk: HTTP/2 connection to %s: %w", t.base, err)
	}
	pc := &provenConn{cc: cc}
	if t.key == nil {
		return pc, nil
	}
	if t.chainID == "" {
		if t.chainID, err = t.fetchChainID(ctx, cc); err != nil {
			cc.Close()
			return nil, err
		}
	}
	if pc.header, err = memberproof.Make(t.key, t.cert, t.chainID, &cs); err != nil {
		cc.Close()
		return nil, err
	}
	return pc, nil
}

// fetchChainID reads the chain id from the node's /healthz, which is open
// to anyone: the proof covers it.
func (t *tlsTransport) fetchChainID(ctx context.Context, cc *http2.ClientConn) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/healthz", nil)
	if err != nil {
		return "", err
	}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		return "", fmt.Errorf("sdk: reading the chain id from %s/healthz: %w", t.base, err)
	}
	defer resp.Body.Close()
	var h struct {
		ChainID string `json:"chain_id"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&h); err != nil || h.ChainID == "" {
		return "", fmt.Errorf("sdk: %s/healthz (HTTP %d) names no chain_id, which a member proof needs: is the node older than this SDK?", t.base, resp.StatusCode)
	}
	return h.ChainID, nil
}
