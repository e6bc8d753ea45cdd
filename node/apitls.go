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
	"github.com/accord-chain/accord/config"
)

// apiTLS loads the API's TLS material: nil without an api_tls section;
// members is nil unless client_auth is member.
func (n *Node) apiTLS() (cfg *tls.Config, members *api.Members, err error) {
	c := n.cfg.APITLS
	if c == nil {
		return nil, nil, nil
	}
	if c.ClientAuth == config.ClientAuthMember && n.signers == nil {
		return nil, nil, errors.New("config: api_tls.client_auth member needs a permissioned chain (genesis identity section); this chain is open: use client_auth none")
	}
	certFile, keyFile := c.Cert, c.Key
	if certFile == "" {
		certFile, keyFile = config.CertFile, config.KeyFile
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
	if c.ClientAuth == config.ClientAuthMember {
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
