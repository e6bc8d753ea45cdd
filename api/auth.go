package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"connectrpc.com/connect"

	"github.com/accord-chain/accord/api/memberproof"
	"github.com/accord-chain/accord/identity"
)

// ErrUnauthenticated means a request carried no valid member proof where
// the node requires one.
var ErrUnauthenticated = errors.New("member proof required")

// Members admits only requests whose TLS connection is proven by a member
// of the consortium (see package memberproof). The signature is checked
// once per connection; the certificate is checked on every request (a
// cached verification, then validity and revocation), so a revocation
// committed while a client is connected takes effect on its next request.
// /healthz stays open.
type Members struct {
	chainID string
	check   func(certDER []byte) (identity.Member, error)
	errw    *connect.ErrorWriter
}

// NewMembers returns the gate of chain chainID. check judges a client's
// certificate against the chain's committed configuration now; it must be
// safe for concurrent use.
func NewMembers(chainID string, check func(certDER []byte) (identity.Member, error)) *Members {
	return &Members{chainID: chainID, check: check, errw: connect.NewErrorWriter()}
}

// connProof is what one TLS connection has proven: the header whose
// signature verified on it. Requests of an HTTP/2 connection run
// concurrently, hence the lock.
type connProof struct {
	mu     sync.Mutex
	header string
}

type connProofKey struct{}

// ConnContext gives each connection its proof slot; set it as the
// http.Server's ConnContext. Without it every request's signature is
// verified.
func (m *Members) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connProofKey{}, &connProof{})
}

// Handler wraps h.
func (m *Members) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			h.ServeHTTP(w, r)
			return
		}
		if err := m.verify(r); err != nil {
			_ = m.errw.Write(w, r, connect.NewError(connect.CodeUnauthenticated, err))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// verify judges r's proof.
func (m *Members) verify(r *http.Request) error {
	hdr := r.Header.Get(memberproof.Header)
	if hdr == "" {
		return fmt.Errorf("%w: this node serves members only; send header %s with your member certificate and a signature bound to this TLS connection (accord --as KEY, sdk.WithMember)", ErrUnauthenticated, memberproof.Header)
	}
	cert, sig, err := memberproof.Decode(hdr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	member, err := m.check(cert)
	if err != nil {
		return fmt.Errorf("%w: certificate refused: %v", ErrUnauthenticated, err)
	}
	cp, _ := r.Context().Value(connProofKey{}).(*connProof)
	if cp != nil {
		cp.mu.Lock()
		defer cp.mu.Unlock()
		if cp.header == hdr {
			return nil
		}
	}
	binding, err := memberproof.Binding(r.TLS)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if err := member.Verify(memberproof.Message(m.chainID, binding), sig); err != nil {
		return fmt.Errorf("%w: the proof of %s does not verify for this TLS connection of chain %s (a proof is good for the connection it was made on only): %v", ErrUnauthenticated, member.String(), m.chainID, err)
	}
	if cp != nil {
		cp.header = hdr
	}
	return nil
}
