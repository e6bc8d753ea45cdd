package p2p

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Identity proves and checks a node identity beyond the TLS certificates,
// bound to one TLS session: each end signs the session's exported keying
// material (RFC 8446 section 7.5, label IdentityLabel), so a proof cannot
// be replayed on another connection. The two functions must be safe for
// concurrent use.
type Identity struct {
	// Proof returns this node's proof over binding (for example its
	// certificate and a signature of binding with the certificate's key).
	Proof func(binding []byte) ([]byte, error)
	// Check judges the proof of the node that presented the TLS identity
	// peer, over the same binding: nil accepts it.
	Check func(peer string, proof, binding []byte) error
}

// IdentityLabel is the TLS exporter label of the identity binding.
const IdentityLabel = "EXPORTER-accord-p2p-identity"

// ErrIdentity means a peer's identity proof was missing or refused.
var ErrIdentity = errors.New("p2p: peer identity refused")

// maxProof bounds an identity proof: a certificate and a signature.
const maxProof = 64 << 10

// identify runs the identity exchange on a fresh TLS connection, when the
// transport has an Identity: each end writes its proof, then reads and
// checks the other's, within DialTimeout.
func (t *Transport) identify(tc *tls.Conn, peer string) error {
	id := t.cfg.Identity
	if id == nil {
		return nil
	}
	if err := tc.SetDeadline(time.Now().Add(t.cfg.DialTimeout)); err != nil {
		return err
	}
	defer tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	binding, err := st.ExportKeyingMaterial(IdentityLabel, nil, 32)
	if err != nil {
		return fmt.Errorf("%w: no session binding: %v", ErrIdentity, err)
	}
	proof, err := id.Proof(binding)
	if err != nil {
		return fmt.Errorf("p2p: making this node's identity proof: %w", err)
	}
	w := bufio.NewWriter(tc)
	if err := writeFrame(w, &frame{kind: kindIdentity, payload: proof}); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	f, err := readFrame(tc, maxProof)
	if err != nil {
		return fmt.Errorf("%w: reading node %s's proof: %v", ErrIdentity, peer, err)
	}
	if f.kind != kindIdentity {
		return fmt.Errorf("%w: node %s sent a %v before proving its identity", ErrIdentity, peer, f.kind)
	}
	if err := id.Check(peer, f.payload, binding); err != nil {
		return fmt.Errorf("%w: node %s: %v", ErrIdentity, peer, err)
	}
	return nil
}
