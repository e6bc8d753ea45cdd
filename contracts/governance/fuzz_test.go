package governance

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	govpb "github.com/accord-chain/accord/contracts/governance/pb"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
)

// FuzzDecodeChange: the change decoder never panics, errors wrap
// ErrBadChange, and what it accepts encodes back to the same bytes (one
// encoding, one digest to endorse).
func FuzzDecodeChange(f *testing.F) {
	for _, c := range []Change{
		{Kind: KindRemoveOrg, Org: "org2"},
		{Kind: KindRevoke, Org: "org1", Serial: "1f"},
		{Kind: KindFreeze, Address: "00112233445566778899aabbccddeeff00112233"},
		{Kind: KindSetPolicy, Method: "token.mint", Policy: "SET(1 of org1; admin)"},
		{Kind: KindSetParams, Params: &Params{MaxBlockTxs: 5000}},
		{Kind: KindAddNode, Node: &Node{ID: "node4", Org: "org5", Addr: "127.0.0.1:7110"}},
	} {
		f.Add(c.Encode())
	}
	f.Add([]byte(`{"kind":"add_org","org":"x"}`))
	f.Add(types.EncodeCanonical(&govpb.Change{Version: govcall.Version, Kind: KindSetParams, Params: &govpb.Params{MaxBlockTxs: 1}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := govcall.DecodeChange(b)
		if err != nil {
			if !errors.Is(err, ErrBadChange) {
				t.Fatalf("error wraps no ErrBadChange: %v", err)
			}
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatalf("accepted %x, which encodes as %x", b, c.Encode())
		}
		var s State
		_ = s.Apply(c) // must not panic on an empty state
	})
}

// FuzzDecodeArgs: argument decoding never panics, errors wrap ErrBadArgs,
// and accepted arguments encode back to the same bytes.
func FuzzDecodeArgs(f *testing.F) {
	f.Add(govcall.Args(govcall.VoteArgs{ID: 1, Endorsements: []byte{1, 0}}))
	f.Add(govcall.Args(govcall.SubmitArgs{Change: (&Change{Kind: KindRemoveOrg, Org: "a"}).Encode(), ID: OfflineIDBase}))
	f.Add(govcall.Args(govcall.KeyArgs{Org: "o", Role: "client", Name: "n", Scheme: "ed25519", PublicKey: "00"}))
	f.Add(govcall.Args(govcall.RevokeArgs{Org: "o", Serial: "1f"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var (
			s govcall.SubmitArgs
			p govcall.ProposeArgs
			v govcall.VoteArgs
			r govcall.RevokeArgs
			c govcall.RegisterCertArgs
			k govcall.KeyArgs
		)
		for _, a := range []struct {
			into any
			enc  func() govcall.Arguments
		}{
			{&s, func() govcall.Arguments { return s }},
			{&p, func() govcall.Arguments { return p }},
			{&v, func() govcall.Arguments { return v }},
			{&r, func() govcall.Arguments { return r }},
			{&c, func() govcall.Arguments { return c }},
			{&k, func() govcall.Arguments { return k }},
		} {
			err := govcall.DecodeArgs(b, a.into)
			if err != nil {
				if !errors.Is(err, ErrBadArgs) {
					t.Fatalf("error wraps no ErrBadArgs: %v", err)
				}
				continue
			}
			if again := govcall.Args(a.enc()); !bytes.Equal(again, b) {
				t.Fatalf("accepted %x as %T, which encodes as %x", b, a.into, again)
			}
		}
	})
}

// FuzzDecodeProposal: the stored-proposal decoder never panics, errors
// wrap ErrCorrupt, and what it accepts encodes back to the same bytes.
func FuzzDecodeProposal(f *testing.F) {
	f.Add((&Proposal{ID: 1, Change: (&Change{Kind: KindRemoveOrg, Org: "a"}).Encode(), Deadline: 9, Proposer: "ab", Created: 3}).encode())
	f.Add((&Proposal{ID: 2, Votes: []byte{1}, Executed: 7}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := getProposal(bytesGetter(b), 1)
		if err != nil {
			if !errors.Is(err, execution.ErrCorrupt) {
				t.Fatalf("error wraps no ErrCorrupt: %v", err)
			}
			return
		}
		if p != nil && !bytes.Equal(p.encode(), b) {
			t.Fatalf("accepted %x, which encodes as %x", b, p.encode())
		}
	})
}

// FuzzDecodeState: reading the stored parameters and validators never
// panics, errors wrap ErrCorrupt, and what is accepted encodes back to the
// same bytes.
func FuzzDecodeState(f *testing.F) {
	f.Add(types.EncodeCanonical(Params{MaxBlockTxs: 5, BlockIntervalMs: 200}.Message()))
	f.Add(govcall.EncodeNodes([]Node{{ID: "node1", Org: "org1", Addr: "h:1", Key: "00", CertPEM: "x"}, {ID: "node2"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := decodeParams(b); err != nil {
			if !errors.Is(err, execution.ErrCorrupt) {
				t.Fatalf("params error wraps no ErrCorrupt: %v", err)
			}
		} else if again := types.EncodeCanonical(p.Message()); !bytes.Equal(again, b) {
			t.Fatalf("accepted params %x, which encode as %x", b, again)
		}
		if ns, err := govcall.DecodeNodes(b); err == nil {
			if again := govcall.EncodeNodes(ns); !bytes.Equal(again, b) {
				t.Fatalf("accepted nodes %x, which encode as %x", b, again)
			}
		} else if !errors.Is(err, types.ErrNotCanonical) {
			t.Fatalf("nodes error wraps no ErrNotCanonical: %v", err)
		}
	})
}

// bytesGetter answers every key with the same bytes.
type bytesGetter []byte

func (g bytesGetter) Get([]byte) ([]byte, error) { return slices.Clone(g), nil }
