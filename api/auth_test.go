package api

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"golang.org/x/net/http2"

	"github.com/accord-chain/accord/api/memberproof"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
)

// TestMembersProvesEachConnectionOnce: over HTTP/2, the requests of one
// TLS connection share one proof slot (so the signature is verified once
// per connection) and another connection gets its own.
func TestMembersProvesEachConnectionOnce(t *testing.T) {
	key, err := crypto.GenerateKey(crypto.SM2, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert := []byte("a certificate the check accepts")
	m := NewMembers("chain", func([]byte) (identity.Member, error) {
		return identity.Member{Name: "shop", Scheme: key.Scheme(), PublicKey: key.Public().Bytes()}, nil
	})
	var mu sync.Mutex
	var slots []*connProof
	srv := httptest.NewUnstartedServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cp, _ := r.Context().Value(connProofKey{}).(*connProof)
		mu.Lock()
		slots = append(slots, cp)
		mu.Unlock()
	})))
	srv.EnableHTTP2 = true
	srv.Config.ConnContext = m.ConnContext
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	get := func(cc *http2.ClientConn, proof string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
		req.Header.Set(memberproof.Header, proof)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 2 {
		tc, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "example.com", NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		cc, err := (&http2.Transport{}).NewClientConn(tc)
		if err != nil {
			t.Fatal(err)
		}
		cs := tc.ConnectionState()
		proof, err := memberproof.Make(key, cert, "chain", &cs)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if code := get(cc, proof); code != http.StatusOK {
				t.Fatalf("request with the connection's proof: HTTP %d", code)
			}
		}
		cc.Close()
	}
	if len(slots) != 6 || slots[0] == nil || slots[0] != slots[2] || slots[3] != slots[5] || slots[0] == slots[3] {
		t.Fatalf("proof slots %v: want one per connection, shared by its requests", slots)
	}
	if slots[0].header == "" {
		t.Fatal("the connection's verified proof was not remembered")
	}
}
