// Package bft owns the I/O-free core of Accord's byzantine-fault-tolerant
// consensus: a pipelined two-chain HotStuff of the Jolteon / DiemBFT v4
// family (docs/consensus.md). The core is a deterministic state machine
// driven by Step, Tick, Propose and Executed; it hands its output out in
// Ready batches (messages, blocks to execute and commit, state to persist),
// and the caller acknowledges each batch with Advance. It starts no
// goroutines and reads no clock, randomness, disk or network: the driver
// owns those, as with etcd raft. A Core is not safe for concurrent use.
package bft

import (
	"errors"
	"fmt"
	"slices"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/crypto"
)

// WireVersion is the version of every top-level message in package pb
// this core writes and accepts.
const WireVersion = 1

// HashSize is the size of block hashes and execution results.
const HashSize = 32

var (
	// ErrBadMessage wraps every refusal of a message or persisted record:
	// bad encoding, unknown version or fields, a bad signature or
	// certificate, a wrong proposer.
	ErrBadMessage = errors.New("bft: bad message")
	// ErrConfig is returned by New for an unusable configuration.
	ErrConfig = errors.New("bft: bad configuration")
	// ErrNotReady is returned by Propose for a round this node does not
	// lead now, or whose parent is not executed yet: wait for the next
	// Ready with ProposeRound set.
	ErrNotReady = errors.New("bft: cannot propose now")
	// ErrSign wraps a failure of the driver's Signer.
	ErrSign = errors.New("bft: signing failed")
	// ErrAdvance is returned by Step, Tick, Propose and Executed between
	// Ready and Advance: handle the Ready and call Advance first.
	ErrAdvance = errors.New("bft: the last Ready was not advanced")
	// ErrUnknownBlock is returned by Executed for a block the core does
	// not hold (pruned or never seen); the driver may ignore it.
	ErrUnknownBlock = errors.New("bft: unknown block")
)

// Signer signs with this node's consensus key in the chain's scheme.
type Signer interface {
	Sign(msg []byte) ([]byte, error)
}

// Verifier checks a signature by a validator's public key. It must be a
// pure function of its arguments.
type Verifier interface {
	Verify(pub, msg, sig []byte) bool
}

// CryptoVerifier verifies with the chain's signature scheme from package
// crypto.
type CryptoVerifier struct{ Scheme crypto.Scheme }

// Verify implements Verifier.
func (v CryptoVerifier) Verify(pub, msg, sig []byte) bool {
	return crypto.Verify(v.Scheme, pub, msg, sig) == nil
}

// Storage reads committed blocks by hash, synchronously, as etcd raft
// reads its Storage. Block returns nil for a block it does not hold; it
// must not call back into the core.
type Storage interface {
	Block(hash []byte) *pb.Block
}

// Validator is one member of a validator set. Every validator has one vote.
type Validator struct {
	ID     string // node id, as the transport names the node
	PubKey []byte // consensus public key in the chain's scheme
}

// ValidatorSet is the ordered list of validators for a range of heights.
// The order fixes the bitmap positions in certificates and the leader
// rotation, so every node must use the same order.
type ValidatorSet []Validator

// F is the number of faulty validators the set tolerates: n = 3f+1 (or
// more).
func (vs ValidatorSet) F() int { return (len(vs) - 1) / 3 }

// Quorum is 2f+1 for n = 3f+1; in general the smallest count of which any
// two overlap in at least f+1 validators.
func (vs ValidatorSet) Quorum() int { return len(vs) - vs.F() }

// Index returns id's position in the set, or -1.
func (vs ValidatorSet) Index(id string) int {
	for i, v := range vs {
		if v.ID == id {
			return i
		}
	}
	return -1
}

func (vs ValidatorSet) validate() error {
	if len(vs) == 0 {
		return fmt.Errorf("%w: empty validator set", ErrConfig)
	}
	seen := map[string]bool{}
	for _, v := range vs {
		if v.ID == "" || len(v.PubKey) == 0 {
			return fmt.Errorf("%w: a validator has no id or public key", ErrConfig)
		}
		if seen[v.ID] {
			return fmt.Errorf("%w: validator %q listed twice", ErrConfig, v.ID)
		}
		seen[v.ID] = true
	}
	return nil
}

// Root is the block the core builds on at start: the genesis block or the
// last block the node committed. Its result must be its execution result.
type Root struct {
	Block  *pb.Block
	Result []byte
	QC     *pb.QC // certifies Block (Commit.QC); nil for genesis
	// Reputation is Commit.Reputation of Block (none for genesis).
	Reputation Reputation
}

// Reputation is the leader-reputation window as of a committed block:
// who failed to lead which recent rounds on the chain up to it. The driver
// keeps the last commit's and gives it back in Root, so that a restarted
// node picks the same leaders as the others.
type Reputation struct {
	Failed []Failure
	Anchor []string // the validators skipped by a proposal extending the block
}

// Failure is a round whose leader produced no block on the chain.
type Failure struct {
	Round uint64
	ID    string
}

// Config configures a Core. Every node of a chain must use the same
// values for everything but ID and Signer.
type Config struct {
	ID       string // this node's validator id
	ChainID  string // signed into every vote, so votes cannot be replayed on another chain
	Hash     crypto.Hash
	Signer   Signer
	Verifier Verifier
	// Epoch numbers the validator set: it starts at 0 at genesis and goes
	// up by one with each change. Every signature covers it.
	Epoch uint64
	// Validators is the set of this epoch. A core runs one epoch: when a
	// block that changes the set commits (Executed said so), the epoch
	// ends (Ready.EpochEnded) and the driver starts a new core on that
	// block with Epoch+1 and the new set. The new set so takes effect at
	// the height after that block, the same on every node.
	Validators ValidatorSet
	// RoundTicks is how many Ticks a round lasts before this node times
	// out (default 10); it doubles with each round since the last QC, up
	// to 8 times.
	RoundTicks int
	// RepWindow is how many rounds a leader that failed to propose stays
	// skipped (default 20).
	RepWindow uint64
	// FetchCount is how many blocks one fetch asks for (default 32).
	FetchCount int
	// Storage, if set, is the driver's store of committed blocks: the
	// core serves fetches of blocks it has pruned (or never held since a
	// restart) from it, so that a validator that lags far behind can catch
	// up from any peer.
	Storage Storage
	// LeaderSchedule, if set, fixes the leader of each round and turns
	// reputation off. Only tests (Twins) use it.
	LeaderSchedule func(round uint64) string

	bugs bugs // planted unsafe rules, set only by this package's tests
}

// bugs are rule changes known to be unsafe. The simulator must catch each.
type bugs struct {
	noRoundRule    bool // vote without the round rule (last voted, timeout round)
	oneChainCommit bool // commit a block as soon as it is certified
	weakQuorum     bool // accept and form QCs of f+1 votes
}

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	if cfg.RoundTicks == 0 {
		cfg.RoundTicks = 10
	}
	if cfg.RepWindow == 0 {
		cfg.RepWindow = 20
	}
	if cfg.FetchCount == 0 {
		cfg.FetchCount = 32
	}
	if cfg.Hash == 0 {
		cfg.Hash = crypto.SHA256
	}
	switch {
	case cfg.ID == "":
		return cfg, fmt.Errorf("%w: no node id", ErrConfig)
	case cfg.Signer == nil || cfg.Verifier == nil:
		return cfg, fmt.Errorf("%w: a signer and a verifier are needed", ErrConfig)
	case !cfg.Hash.Valid():
		return cfg, fmt.Errorf("%w: unknown hash %d", ErrConfig, cfg.Hash)
	case cfg.RoundTicks < 1 || cfg.FetchCount < 1:
		return cfg, fmt.Errorf("%w: RoundTicks and FetchCount must be positive", ErrConfig)
	}
	if err := cfg.Validators.validate(); err != nil {
		return cfg, err
	}
	cfg.Validators = slices.Clone(cfg.Validators)
	return cfg, nil
}

// Envelope is a message to send. An empty To means every validator of the
// current set but this node.
type Envelope struct {
	To  string
	Msg *pb.Message
}

// Commit is a block that is final. Result is its execution result as the
// quorum certified it (in Proof's votes); the driver must find its own
// result equal, or its state has diverged from the quorum's.
type Commit struct {
	Block  *pb.Block
	Hash   []byte
	Result []byte
	QC     *pb.QC // certifies the block: keep it to restart from this block (Root.QC)
	Proof  *pb.QC // certifies the block's child, whose votes carry Result
	// Reputation is kept with the last committed block (Root.Reputation).
	Reputation Reputation
}

// Evidence is two conflicting messages signed by one validator: two
// proposals or two votes for one round. Each is the encoded pb.Message.
type Evidence struct {
	Validator string
	Round     uint64
	A, B      []byte
}

// Ready is a batch of the core's output. The driver handles it in this
// order, then calls Advance:
//
//  1. write State (if not nil) and Blocks durably: every vote, timeout
//     and proposal in Messages depends on them, so none may leave the
//     node before they are on disk (a validator that forgot its last
//     voted round could vote twice);
//  2. send Messages;
//  3. execute the blocks in Execute (each after its parent; the parent of
//     the first is the root or was executed before) and report each
//     result with Executed after Advance, at once or later (the core holds
//     back the votes and commits that need it);
//  4. apply the blocks in Committed in order and drop stored blocks up
//     to the last of them;
//  5. keep Evidence.
//
// If EpochEnded is set, the last block in Committed changed the validator
// set: this core is done, and the driver starts the next epoch's core on
// that block.
//
// If ProposeRound is not zero, this node leads that round: call Propose
// with the payload for it after Advance.
//
// A Ready shares its messages and blocks with the core: read them, do not
// modify them.
type Ready struct {
	State        *pb.SafetyState
	Blocks       []*pb.Block
	Messages     []Envelope
	Execute      []*pb.Block
	Committed    []Commit
	Evidence     []Evidence
	ProposeRound uint64
	EpochEnded   bool
}

// Status is a summary of the core's position, for status pages and tests.
type Status struct {
	Round           uint64
	Leader          string // of Round, by this node's highest QC
	HighQCRound     uint64
	LastVotedRound  uint64
	CommittedHeight uint64
	CommittedRound  uint64
	// LaterEpoch is the highest epoch of a message this node ignored for
	// being ahead of its own: it lags and should sync committed blocks.
	LaterEpoch uint64
}
