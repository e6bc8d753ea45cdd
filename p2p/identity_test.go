package p2p

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// testIdentity proves "member:<id>" over the binding; it accepts peers whose
// proof names them, carries the same binding, and are not in refused.
func testIdentity(id string, refused ...string) *Identity {
	return &Identity{
		Proof: func(binding []byte) ([]byte, error) {
			return append([]byte("member:"+id+":"), binding...), nil
		},
		Check: func(peer string, proof, binding []byte) error {
			for _, r := range refused {
				if r == peer {
					return errors.New("certificate revoked")
				}
			}
			want := append([]byte("member:"+peer+":"), binding...)
			if !bytes.Equal(proof, want) {
				return errors.New("proof does not match this session")
			}
			return nil
		},
	}
}

// TestIdentityProofs: with Identity set, nodes exchange proofs bound to the
// TLS session before any message; a peer whose proof is refused is not
// connected, in either direction, and the refusal is logged.
func TestIdentityProofs(t *testing.T) {
	checkLeaks(t)
	a := startNode(t, "net", "a", func(c *Config) { c.Identity = testIdentity("a", "c") })
	b := startNode(t, "net", "b", func(c *Config) { c.Identity = testIdentity("b") })
	mesh(t, a, b)
	a.Send("b", chMsg, []byte("hello"))
	if m := b.recv(t); m.payload != "hello" || m.from != "a" {
		t.Fatalf("b received %+v", m)
	}

	// c has a valid TLS certificate, but a refuses its identity.
	c := startNode(t, "net", "c", func(cfg *Config) { cfg.Identity = testIdentity("c") })
	if err := c.AddPeer("a", a.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPeer("c", c.Addr().String()); err != nil {
		t.Fatal(err)
	}
	c.Send("a", chMsg, []byte("let me in"))
	waitFor(t, "a refuses c's identity both ways and logs why", func() bool {
		st, _ := a.status("c")
		return !st.Connected && strings.Contains(st.LastError, "certificate revoked") &&
			a.log.has("refused inbound connection", "peer=c", "certificate revoked")
	})
	select {
	case m := <-a.msgs:
		t.Fatalf("a delivered %+v from a refused identity", m)
	default:
	}

	// A node without an identity proof is refused by one that wants it.
	d := startNode(t, "net", "d", nil)
	if err := d.AddPeer("a", a.Addr().String()); err != nil {
		t.Fatal(err)
	}
	d.Send("a", chMsg, []byte("no proof"))
	waitFor(t, "a refuses a node that sends no proof", func() bool {
		return a.log.has("refused inbound connection", "peer=d", "identity")
	})
}
