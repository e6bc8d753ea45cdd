package node

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/accord-chain/accord/api"
)

// APITLSConfig is the api_tls section of config.json.
type APITLSConfig struct {
	// Cert and Key are PEM files, relative to the node home: the API's
	// certificate (optionally followed by its chain) and key. Default the
	// node's network certificate, tls/node.pem and tls/node.key, which
	// clients trust with the network CA's certificate.
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
	// ClientAuth is "none" (the default: TLS only, anyone who reaches the
	// port may call) or "member": every request but /healthz must carry a
	// member proof (header Accord-Member-Proof) of a certificate the chain's
	// committed configuration accepts now, in any role. "member" needs a
	// permissioned chain.
	ClientAuth string `json:"client_auth,omitempty"`
}

// Values of APITLSConfig.ClientAuth.
const (
	ClientAuthNone   = "none"
	ClientAuthMember = "member"
)

func (c *APITLSConfig) validate() error {
	if c == nil {
		return nil
	}
	switch c.ClientAuth {
	case "", ClientAuthNone, ClientAuthMember:
	default:
		return fmt.Errorf("config: api_tls.client_auth %q: want %q or %q", c.ClientAuth, ClientAuthNone, ClientAuthMember)
	}
	if (c.Cert == "") != (c.Key == "") {
		return errors.New("config: api_tls: give both cert and key, or neither for tls/node.pem and tls/node.key")
	}
	return nil
}

// apiTLS loads the API's TLS material: nil without an api_tls section;
// members is nil unless client_auth is member.
func (n *Node) apiTLS() (cfg *tls.Config, members *api.Members, err error) {
	c := n.cfg.APITLS
	if c == nil {
		return nil, nil, nil
	}
	if c.ClientAuth == ClientAuthMember && n.signers == nil {
		return nil, nil, errors.New("config: api_tls.client_auth member needs a permissioned chain (genesis identity section); this chain is open: use client_auth none")
	}
	certFile, keyFile := c.Cert, c.Key
	if certFile == "" {
		certFile, keyFile = CertFile, KeyFile
	}
	certPath, keyPath := filepath.Join(n.home, certFile), filepath.Join(n.home, keyFile)
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if errors.Is(err, fs.ErrNotExist) && c.Cert == "" {
		return nil, nil, fmt.Errorf("api_tls: no certificate: set api_tls.cert and api_tls.key, or give the node a network certificate at %s (accord init --nodes N makes one): %w", certPath, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("api_tls: certificate %s and key %s: %w", certPath, keyPath, err)
	}
	cfg = &tls.Config{
		Certificates: []tls.Certificate{pair},
		// TLS 1.3 always has the exporter that member proofs bind to.
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{http2.NextProtoTLS, "http/1.1"},
	}
	if c.ClientAuth == ClientAuthMember {
		members = api.NewMembers(n.genesis.ChainID, n.chain.CheckMember)
	}
	return cfg, members, nil
}

// apiServer returns the API's HTTP server: HTTP/2 over TLS when tlsCfg is
// set (HTTP/1.1 too), plain h2c otherwise, with the API's limits on
// request bodies, timeouts and streams (api.DefaultLimits).
func apiServer(h http.Handler, tlsCfg *tls.Config, members *api.Members) *http.Server {
	srv := api.DefaultLimits().Server(h)
	if tlsCfg == nil {
		srv.Handler = h2c.NewHandler(srv.Handler, &http2.Server{})
		// h2c serves HTTP/2 here. Left nil, Serve would set up HTTP/2 over
		// TLS too and set srv.TLSConfig, which apiURL reads to tell the
		// two kinds of server apart: it logged https for a plain node.
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		return srv
	}
	srv.TLSConfig = tlsCfg
	if members != nil {
		srv.Handler, srv.ConnContext = members.Handler(srv.Handler), members.ConnContext
	}
	return srv
}

// serveAPI serves srv on ln until it is shut down, at most
// api.DefaultLimits().MaxConns connections at once.
func serveAPI(srv *http.Server, ln net.Listener) error {
	// Go raises the soft limit at start already on most systems; this makes
	// sure, before the connection cap is derived from it. Without it the
	// cap follows the lower limit.
	_, _ = api.RaiseFileLimit()
	ln = api.DefaultLimits().Listener(ln, srv)
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// apiURL is the API's URL for logs.
func apiURL(srv *http.Server, addr string) string {
	if srv.TLSConfig != nil {
		return "https://" + addr
	}
	return "http://" + addr
}
