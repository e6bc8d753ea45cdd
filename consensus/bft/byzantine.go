//go:build byzantine

package bft

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
)

// Byzantine behaviour for tests of real processes: a binary built with
// -tags byzantine can run a validator that misbehaves in one of these
// ways. Nothing here is compiled into a normal build.

// ByzantineModes are the modes ByzantineTransport accepts.
var ByzantineModes = []string{"equivocate", "silent", "bad-votes", "wrong-hash", "stale"}

// staleLag is how many messages back a stale validator replays from.
const staleLag = 16

// ByzantineTransport wraps tr so that this validator misbehaves:
//
//   - equivocate: after each proposal or vote, a second one for the same
//     round (another block), signed with the same key;
//   - silent: it receives but never sends;
//   - bad-votes: its proposals, votes and timeouts carry broken signatures;
//   - wrong-hash: its votes carry another execution result;
//   - stale: with each message it also replays one sent long before.
//
// cfg is the core's config (for the chain id, epoch and key).
func ByzantineTransport(mode string, tr Transport, cfg Config) (Transport, error) {
	if !slices.Contains(ByzantineModes, mode) {
		return nil, fmt.Errorf("%w: byzantine mode %q: want one of %v", ErrConfig, mode, ByzantineModes)
	}
	return &byzTransport{mode: mode, tr: tr, signer: cfg.Signer, core: &Core{cfg: cfg}}, nil
}

type byzTransport struct {
	mode   string
	tr     Transport
	signer Signer
	core   *Core // for the bytes a signature covers

	mu   sync.Mutex
	sent [][]byte
}

func (b *byzTransport) Send(to string, msg []byte) {
	switch b.mode {
	case "silent":
	case "equivocate":
		b.tr.Send(to, msg)
		if m := b.conflict(msg); m != nil {
			b.tr.Send(to, m)
		}
	case "bad-votes":
		b.tr.Send(to, b.badSig(msg))
	case "wrong-hash":
		b.tr.Send(to, b.wrongHash(msg))
	case "stale":
		b.tr.Send(to, msg)
		b.mu.Lock()
		b.sent = append(b.sent, msg)
		var old []byte
		if n := len(b.sent); n > staleLag {
			old = b.sent[n-1-staleLag]
		}
		if len(b.sent) > 4*staleLag {
			b.sent = slices.Clone(b.sent[len(b.sent)-2*staleLag:])
		}
		b.mu.Unlock()
		if old != nil {
			b.tr.Send(to, old)
		}
	}
}

func (b *byzTransport) sign(msg []byte) []byte {
	sig, err := b.signer.Sign(msg)
	if err != nil {
		return nil
	}
	return sig
}

// conflict is a second, different proposal or vote for the same round.
func (b *byzTransport) conflict(msg []byte) []byte {
	m, err := DecodeMessage(msg)
	if err != nil {
		return nil
	}
	switch {
	case m.GetVote() != nil:
		v := m.GetVote()
		v.Data.Block = bytes.Repeat([]byte{0xee}, HashSize)
		v.Sig = b.sign(b.core.voteSignBytes(v.Data))
	case m.GetProposal() != nil:
		p := m.GetProposal()
		p.Block.Payload = append(slices.Clone(p.Block.Payload), 0xee) // another block
		p.Sig = b.sign(b.core.proposalSignBytes(b.core.blockHash(p.Block)))
	default:
		return nil
	}
	return EncodeMessage(m)
}

func (b *byzTransport) badSig(msg []byte) []byte {
	m, err := DecodeMessage(msg)
	if err != nil {
		return msg
	}
	var sig []byte
	switch {
	case m.GetVote() != nil:
		sig = m.GetVote().Sig
	case m.GetProposal() != nil:
		sig = m.GetProposal().Sig
	case m.GetTimeout() != nil:
		sig = m.GetTimeout().Sig
	}
	if len(sig) == 0 {
		return msg
	}
	sig[0] ^= 0xff
	return EncodeMessage(m)
}

func (b *byzTransport) wrongHash(msg []byte) []byte {
	m, err := DecodeMessage(msg)
	if err != nil || m.GetVote() == nil {
		return msg
	}
	v := m.GetVote()
	v.Data.ParentResult = bytes.Repeat([]byte{0xbd}, HashSize)
	v.Sig = b.sign(b.core.voteSignBytes(v.Data))
	return EncodeMessage(m)
}
