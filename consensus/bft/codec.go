package bft

import (
	"encoding/binary"
	"fmt"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// Limits on decoded messages, well above what an honest node sends.
const (
	maxFetch      = 256      // blocks in one fetch response
	maxValidators = 1024     // signers in one certificate
	maxIDLen      = 256      // bytes of a validator id
	maxSigLen     = 256      // bytes of one signature
	maxPayload    = 64 << 20 // bytes of one block's payload
)

// EncodeMessage returns m's canonical encoding.
func EncodeMessage(m *pb.Message) []byte { return types.EncodeCanonical(m) }

// EncodeBlock returns b's canonical encoding, which its hash covers.
func EncodeBlock(b *pb.Block) []byte { return types.EncodeCanonical(b) }

// EncodeSafetyState returns s's canonical encoding.
func EncodeSafetyState(s *pb.SafetyState) []byte { return types.EncodeCanonical(s) }

// DecodeMessage decodes a message from another validator. It refuses an
// unknown version, unknown fields, a non-canonical encoding and a message
// whose shape is wrong (no body, a hash of the wrong size, too many
// entries); signatures are checked later, by the core. Errors wrap
// ErrBadMessage.
func DecodeMessage(b []byte) (*pb.Message, error) {
	m := &pb.Message{}
	if err := types.DecodeVersioned(b, m, WireVersion); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if err := checkMessage(m); err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeBlock decodes a block the driver persisted (or any block bytes).
func DecodeBlock(b []byte) (*pb.Block, error) {
	m := &pb.Block{}
	if err := types.DecodeVersioned(b, m, WireVersion); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if err := checkBlock(m); err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeSafetyState decodes the safety state the driver persisted.
func DecodeSafetyState(b []byte) (*pb.SafetyState, error) {
	m := &pb.SafetyState{}
	if err := types.DecodeVersioned(b, m, WireVersion); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if err := checkQC(m.HighQc, true); err != nil {
		return nil, err
	}
	if err := checkTC(m.HighTc); err != nil {
		return nil, err
	}
	return m, nil
}

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadMessage}, a...)...)
}

func checkMessage(m *pb.Message) error {
	switch body := m.Body.(type) {
	case *pb.Message_Proposal:
		p := body.Proposal
		if p.Block == nil {
			return bad("proposal without a block")
		}
		if p.Block.Version != WireVersion {
			return bad("block version %d, this node knows %d", p.Block.Version, WireVersion)
		}
		if len(p.Sig) == 0 || len(p.Sig) > maxSigLen {
			return bad("proposal signature of %d bytes", len(p.Sig))
		}
		return checkBlock(p.Block)
	case *pb.Message_Vote:
		v := body.Vote
		if err := checkVoteData(v.Data); err != nil {
			return err
		}
		return checkSigner(v.Voter, v.Sig)
	case *pb.Message_Timeout:
		t := body.Timeout
		if err := checkQC(t.HighQc, true); err != nil {
			return err
		}
		if err := checkTC(t.HighTc); err != nil {
			return err
		}
		return checkSigner(t.Voter, t.Sig)
	case *pb.Message_FetchRequest:
		r := body.FetchRequest
		if r.EpochEnd && len(r.Hash) != 0 {
			return bad("fetch of an epoch's end with a hash")
		}
		if !r.EpochEnd && len(r.Hash) != HashSize {
			return bad("fetch of a %d-byte hash", len(r.Hash))
		}
		if r.Count == 0 || r.Count > maxFetch {
			return bad("fetch of %d blocks (1 to %d)", r.Count, maxFetch)
		}
		return nil
	case *pb.Message_FetchResponse:
		r := body.FetchResponse
		if len(r.Blocks) == 0 || len(r.Blocks) > maxFetch {
			return bad("fetch response of %d blocks (1 to %d)", len(r.Blocks), maxFetch)
		}
		if r.Qc != nil {
			if err := checkQC(r.Qc, false); err != nil {
				return err
			}
		}
		for _, b := range r.Blocks {
			if b.Version != WireVersion {
				return bad("block version %d, this node knows %d", b.Version, WireVersion)
			}
			if err := checkBlock(b); err != nil {
				return err
			}
		}
		return nil
	case *pb.Message_SyncRequest:
		return nil
	case *pb.Message_SyncResponse:
		return checkCheckpoints(body.SyncResponse.Checkpoints)
	default:
		return bad("message without a body")
	}
}

func checkSigner(id, sig []byte) error {
	if len(id) == 0 || len(id) > maxIDLen {
		return bad("signer id of %d bytes", len(id))
	}
	if len(sig) == 0 || len(sig) > maxSigLen {
		return bad("signature of %d bytes", len(sig))
	}
	return nil
}

func checkVoteData(d *pb.VoteData) error {
	if d == nil {
		return bad("vote without data")
	}
	if len(d.Block) != HashSize || len(d.ParentResult) != HashSize {
		return bad("vote for a %d-byte block hash with a %d-byte result", len(d.Block), len(d.ParentResult))
	}
	return nil
}

// checkQC checks a QC's shape; a missing QC is fine where optional.
func checkQC(q *pb.QC, optional bool) error {
	if q == nil {
		if optional {
			return nil
		}
		return bad("missing quorum certificate")
	}
	if err := checkVoteData(q.Data); err != nil {
		return err
	}
	if q.Data.Round == 0 {
		// The genesis QC certifies the root block at round 0 and has no
		// signatures: nobody votes for genesis.
		if len(q.Signers) != 0 || len(q.Sigs) != 0 {
			return bad("a round-0 certificate with signatures")
		}
		return nil
	}
	return checkBitmap(q.Signers, len(q.Sigs), q.Sigs)
}

func checkTC(t *pb.TC) error {
	if t == nil {
		return nil
	}
	if len(t.HqcRounds) != len(t.Sigs) {
		return bad("timeout certificate with %d rounds for %d signatures", len(t.HqcRounds), len(t.Sigs))
	}
	if err := checkBitmap(t.Signers, len(t.Sigs), t.Sigs); err != nil {
		return err
	}
	return checkQC(t.HighQc, false)
}

func checkBitmap(bitmap []byte, n int, sigs [][]byte) error {
	if len(bitmap) > maxValidators/8 {
		return bad("signer bitmap of %d bytes", len(bitmap))
	}
	if c := popcount(bitmap); c != n || n == 0 {
		return bad("certificate with %d signers and %d signatures", c, n)
	}
	for _, s := range sigs {
		if len(s) == 0 || len(s) > maxSigLen {
			return bad("certificate signature of %d bytes", len(s))
		}
	}
	return nil
}

func checkBlock(b *pb.Block) error {
	if len(b.Parent) != HashSize {
		return bad("block with a %d-byte parent hash", len(b.Parent))
	}
	if len(b.Proposer) == 0 || len(b.Proposer) > maxIDLen {
		return bad("block proposer id of %d bytes", len(b.Proposer))
	}
	if len(b.Payload) > maxPayload {
		return bad("block payload of %d bytes", len(b.Payload))
	}
	if b.Round == 0 || b.Height == 0 {
		return bad("block at round %d, height %d: only genesis has round or height 0", b.Round, b.Height)
	}
	if err := checkQC(b.Justify, false); err != nil {
		return err
	}
	return checkTC(b.Tc)
}

func popcount(b []byte) int {
	n := 0
	for _, x := range b {
		for ; x != 0; x &= x - 1 {
			n++
		}
	}
	return n
}

// signBytes is what a signature covers: a domain, the chain id and the
// kind of message, so that no signature is valid as another kind of
// message or on another chain.
func (c *Core) signBytes(kind byte, parts ...[]byte) []byte {
	b := make([]byte, 0, 64)
	b = append(b, "accord-bft-v1\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.cfg.ChainID)))
	b = append(b, c.cfg.ChainID...)
	b = binary.BigEndian.AppendUint64(b, c.cfg.Epoch)
	b = append(b, kind)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func (c *Core) proposalSignBytes(blockHash []byte) []byte { return c.signBytes('P', blockHash) }

func (c *Core) voteSignBytes(d *pb.VoteData) []byte {
	return c.signBytes('V', types.EncodeCanonical(d))
}

func (c *Core) timeoutSignBytes(round, hqcRound uint64) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], round)
	binary.BigEndian.PutUint64(b[8:], hqcRound)
	return c.signBytes('T', b[:])
}

// BlockHash returns the hash of b's canonical encoding under h.
func (c *Core) blockHash(b *pb.Block) []byte {
	s := c.cfg.Hash.Sum(EncodeBlock(b))
	return s[:]
}
