package node

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/net/http2"

	"github.com/accord-chain/accord/api/memberproof"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
)

// tlsNode is a running node serving its API over TLS on a free port.
type tlsNode struct {
	t       *testing.T
	addr    string
	caPEM   []byte
	chainID string
	ks      *keystore.Store
}

// initTLSNode makes a one-node network with a network CA and the node's
// network certificate, as init --nodes N would.
func initTLSNode(t *testing.T, o InitOptions) (*InitResult, string) {
	t.Helper()
	o.Home, o.Now = t.TempDir(), time.Now()
	res := initHome(t, o)
	if err := NetworkTLS(o.Home, res.ChainID, res.Nodes[0].Home, "node0", o.Now); err != nil {
		t.Fatal(err)
	}
	return res, o.Home
}

func openTLSNode(t *testing.T, home, clientAuth string) *Node {
	t.Helper()
	n, err := OpenWith(home, quiet, func(c *config.Node) {
		c.API = "127.0.0.1:0"
		c.APITLS = &config.APITLS{ClientAuth: clientAuth}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func startTLSNode(t *testing.T, o InitOptions, clientAuth string) *tlsNode {
	t.Helper()
	res, home := initTLSNode(t, o)
	n := openTLSNode(t, res.Nodes[0].Home, clientAuth)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, func(a string) { addr <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node run: %v", err)
		}
	})
	nd := &tlsNode{t: t, chainID: res.ChainID}
	select {
	case nd.addr = <-addr:
	case err := <-done:
		t.Fatalf("node stopped before serving: %v", err)
	}
	var err error
	if nd.caPEM, err = os.ReadFile(NetworkCACert(home)); err != nil {
		t.Fatal(err)
	}
	if nd.ks, err = keystore.Open(res.KeysDir); err != nil {
		t.Fatal(err)
	}
	return nd
}

func (nd *tlsNode) url() string { return "https://" + nd.addr }

// member returns a client proving itself as key name of the network's
// key folder, with the certificate beside it.
func (nd *tlsNode) member(name string) *sdk.Client {
	nd.t.Helper()
	k, der := nd.key(name)
	return sdk.New(nd.url(), sdk.WithTLS(nd.caPEM), sdk.WithMember(k.Private, der))
}

func (nd *tlsNode) key(name string) (*keystore.Key, []byte) {
	nd.t.Helper()
	k, err := nd.ks.Get(name)
	if err != nil {
		nd.t.Fatal(err)
	}
	der, err := nd.ks.Cert(name)
	if err != nil || der == nil {
		nd.t.Fatalf("certificate of %s: %v", name, err)
	}
	return k, der
}

// conn opens one raw HTTP/2 connection to the node.
func (nd *tlsNode) conn() (*tls.Conn, *http2.ClientConn) {
	nd.t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(nd.caPEM)
	tc, err := tls.Dial("tcp", nd.addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS13})
	if err != nil {
		nd.t.Fatal(err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		nd.t.Fatalf("node negotiated ALPN %q, want h2", p)
	}
	cc, err := (&http2.Transport{}).NewClientConn(tc)
	if err != nil {
		nd.t.Fatal(err)
	}
	nd.t.Cleanup(func() { cc.Close() })
	return tc, cc
}

// get sends GET path on cc with a member proof header (none if empty) and
// returns the status and body.
func (nd *tlsNode) get(cc *http2.ClientConn, path, proof string) (int, string) {
	nd.t.Helper()
	req, err := http.NewRequest(http.MethodGet, nd.url()+path, nil)
	if err != nil {
		nd.t.Fatal(err)
	}
	if proof != "" {
		req.Header.Set(memberproof.Header, proof)
	}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		nd.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// proof makes name's member proof for the TLS connection tc.
func (nd *tlsNode) proof(tc *tls.Conn, name string) string {
	nd.t.Helper()
	k, der := nd.key(name)
	cs := tc.ConnectionState()
	h, err := memberproof.Make(k.Private, der, nd.chainID, &cs)
	if err != nil {
		nd.t.Fatal(err)
	}
	return h
}

func wantUnauthenticated(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: %v; want unauthenticated mentioning %q", what, err, msg)
	}
}

const statusPath = "/accord.api.v1.NodeService/Status?encoding=json&message=%7B%7D"

// TestAPIMembersSM2: a node with client_auth member serves SM2 members
// who prove their certificate on the TLS connection, and refuses
// everyone else: no proof, a proof made for another connection, a
// certificate of an unknown organisation, a revoked certificate.
func TestAPIMembersSM2(t *testing.T) {
	nd := startTLSNode(t, InitOptions{Crypto: crypto.SM2, Orgs: 2}, config.ClientAuthMember)
	ctx := context.Background()

	client := nd.member("org1-client")
	st, err := client.Status(ctx)
	if err != nil {
		t.Fatalf("status as org1-client with a proof: %v", err)
	}
	if st.ChainId != nd.chainID {
		t.Fatalf("status names chain %q, want %q", st.ChainId, nd.chainID)
	}
	// Requests multiplexed on the client's connection all carry its proof.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := client.Status(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent status as org1-client: %v", err)
	}

	_, err = sdk.New(nd.url(), sdk.WithTLS(nd.caPEM)).Status(ctx)
	wantUnauthenticated(t, "status without a proof", err, memberproof.Header)

	// /healthz stays open and names the chain; /metrics needs a proof.
	tcA, ccA := nd.conn()
	code, body := nd.get(ccA, "/healthz", "")
	var h struct {
		ChainID string `json:"chain_id"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &h) != nil || h.ChainID != nd.chainID {
		t.Fatalf("/healthz without a proof: %d %s; want 200 naming chain %s", code, body, nd.chainID)
	}
	if code, body := nd.get(ccA, "/metrics", ""); code != http.StatusUnauthorized || !strings.Contains(body, "unauthenticated") {
		t.Fatalf("/metrics without a proof: %d %s; want 401 unauthenticated", code, body)
	}

	// A proof is good on its own connection only.
	proofA := nd.proof(tcA, "org2-client")
	for i := range 2 { // the second time from the connection's cache
		if code, body := nd.get(ccA, statusPath, proofA); code != http.StatusOK {
			t.Fatalf("status %d with the connection's own proof: %d %s", i, code, body)
		}
	}
	if code, body := nd.get(ccA, "/metrics", proofA); code != http.StatusOK {
		t.Fatalf("/metrics with a proof: %d %.200s", code, body)
	}
	_, ccB := nd.conn()
	if code, body := nd.get(ccB, statusPath, proofA); code != http.StatusUnauthorized || !strings.Contains(body, "good for the connection it was made on") {
		t.Fatalf("status with a proof replayed from another connection: %d %s; want 401", code, body)
	}
	if code, body := nd.get(ccB, statusPath, "AAAA"); code != http.StatusUnauthorized || !strings.Contains(body, "malformed") {
		t.Fatalf("status with a malformed proof: %d %s; want 401", code, body)
	}

	// A certificate from a CA the chain does not know.
	ca9, err := identity.NewCA("org9", crypto.SM2, time.Now().Add(-time.Hour), CAValidity, nil)
	if err != nil {
		t.Fatal(err)
	}
	k9, err := crypto.GenerateKey(crypto.SM2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der9, err := ca9.Issue("shop", identity.Client, k9.Public(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), big.NewInt(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdk.New(nd.url(), sdk.WithTLS(nd.caPEM), sdk.WithMember(k9, der9)).Status(ctx)
	wantUnauthenticated(t, "status as a member of an unknown organisation", err, "unknown organisation")

	// org1's admin revokes org1-client: its open connection and any new
	// one are refused from the next request on.
	admin := nd.member("org1-admin")
	adminKey, adminCert := nd.key("org1-admin")
	serial := certSerial(t, nd.ks, "org1-client")
	tx, err := admin.Sign(ctx, adminKey.Private, sdk.Call{Contract: governance.Name, Method: governance.MethodRevoke,
		Args: govcall.Args(govcall.RevokeArgs{Org: "org1", Serial: serial}), Cert: adminCert})
	if err != nil {
		t.Fatal(err)
	}
	id, err := admin.Submit(ctx, tx)
	if err != nil {
		t.Fatalf("revocation over the member API: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := admin.Wait(wctx, id)
	if err != nil || r.Receipt.Status != ok {
		t.Fatalf("revocation: %v %v", r, err)
	}
	_, err = client.Status(ctx)
	wantUnauthenticated(t, "status as revoked org1-client on its open connection", err, "revoked")
	_, err = nd.member("org1-client").Status(ctx)
	wantUnauthenticated(t, "status as revoked org1-client on a new connection", err, "revoked")
	if _, err := admin.Status(ctx); err != nil {
		t.Fatalf("org1-admin after revoking its client: %v", err)
	}
}

// TestAPIMembersP256: members of a P-256 organisation prove themselves
// the same way.
func TestAPIMembersP256(t *testing.T) {
	nd := startTLSNode(t, InitOptions{Crypto: crypto.P256, Orgs: 1}, config.ClientAuthMember)
	ctx := context.Background()
	if _, err := nd.member("org1-client").Status(ctx); err != nil {
		t.Fatalf("status as a P-256 member: %v", err)
	}
	_, err := sdk.New(nd.url(), sdk.WithTLS(nd.caPEM)).Status(ctx)
	wantUnauthenticated(t, "status without a proof", err, memberproof.Header)
}

// TestAPITLSWithoutClientAuth: with client_auth none the API is TLS only,
// on an open chain too; member auth on an open chain is refused at start.
func TestAPITLSWithoutClientAuth(t *testing.T) {
	nd := startTLSNode(t, InitOptions{}, config.ClientAuthNone)
	ctx := context.Background()
	if _, err := sdk.New(nd.url(), sdk.WithTLS(nd.caPEM)).Status(ctx); err != nil {
		t.Fatalf("status over TLS without a proof: %v", err)
	}
	if _, err := sdk.New(nd.url()).Status(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("status trusting only the system's CAs: %v; want a certificate error", err)
	}
	if _, err := sdk.New("http://"+nd.addr, sdk.WithTLS(nd.caPEM)).Status(ctx); err == nil || !strings.Contains(err.Error(), "https://") {
		t.Fatalf("WithTLS on an http:// URL: %v; want an error asking for https://", err)
	}

	res, _ := initTLSNode(t, InitOptions{})
	n := openTLSNode(t, res.Nodes[0].Home, config.ClientAuthMember)
	if err := n.Run(ctx, nil); err == nil || !strings.Contains(err.Error(), "permissioned") {
		t.Fatalf("client_auth member on an open chain: %v; want a refusal at start", err)
	}
}
