package raft

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/crypto"
)

// Errors returned by the engine. Callers test for them with errors.Is.
var (
	// ErrNotLeader: only the leader accepts membership changes; ask
	// Status().Leader and retry there.
	ErrNotLeader = errors.New("raft: this node is not the leader")
	// ErrBusy: the leader was still catching up on its predecessor's
	// entries, or another membership change was in flight, until the
	// caller's context ended (AddNode and RemoveNode wait for them).
	ErrBusy = errors.New("raft: leader busy with a previous membership change or catching up")
	// ErrLeaderChanged: leadership moved while a membership change was in
	// flight; it may or may not be applied, so check Status().Voters.
	ErrLeaderChanged = errors.New("raft: leadership changed before the membership change applied")
	// ErrRemoved: this node was removed from the cluster; Run returns it.
	ErrRemoved = errors.New("raft: this node was removed from the cluster")
	// ErrIDUsed: AddNode was given a Raft id the cluster used before. A
	// removed node's id never comes back (its old log and vote could break
	// an election); give the new node an id above Status().MaxID.
	ErrIDUsed = errors.New("raft: this Raft id was used before and is never reused")
	// ErrStopped: the engine is not running (Run returned or never started).
	ErrStopped = errors.New("raft: engine stopped")
	// ErrBadMessage: bytes given to Receive are not a Raft message a peer may send.
	ErrBadMessage = errors.New("raft: bad message")
	// ErrBadEntry: a committed log entry does not decode. Every node fails the
	// same way, so this is a bug or a corrupted log, never a network fault.
	ErrBadEntry = errors.New("raft: bad log entry")
	// ErrHeightGap: a committed block skips a height; a bug, never ignored.
	ErrHeightGap = errors.New("raft: committed block skips a height")
	// ErrStateLost: New found the Raft log empty, or older than the chain
	// the node applied from it: the node's term and vote are gone or stale,
	// and running on could make it vote twice in one term. The node must
	// rejoin under a new id (docs/operations.md, "Backup and restore").
	ErrStateLost = errors.New("raft: the Raft state is missing or older than the chain")
)

// Transport carries encoded Raft messages between nodes. Send must not block
// (queue or drop): Raft retransmits what is lost. msg is owned by the
// transport after the call. The receiving side hands the bytes to
// Engine.Receive.
type Transport interface {
	Send(to uint64, msg []byte)
}

// Mempool is what the engine needs from the transaction pool.
type Mempool interface {
	consensus.Mempool
	// ResetReaped makes every reaped but not yet committed transaction
	// reapable again. Called when this node stops being leader, since the
	// blocks it proposed may never commit.
	ResetReaped()
}

// Applier executes and stores the committed blocks.
type Applier interface {
	consensus.Applier
	// Durable reports the height and block hash of the newest block that is
	// on disk; it may lag Last. The log is compacted only up to blocks that
	// are durable, so a crash never loses a block the store had not written.
	Durable() (height uint64, blockHash [32]byte)
	// SyncTo brings the chain to at least height (whose block hash is given)
	// by fetching blocks from peers. from is the leader's id, or 0 when no
	// leader is known yet (any peer will do). It blocks until done or ctx ends.
	SyncTo(ctx context.Context, height uint64, blockHash [32]byte, from uint64) error
}

// ConfChangeType says what a membership change does.
type ConfChangeType int

const (
	ConfAddNode ConfChangeType = iota + 1
	ConfRemoveNode
)

func (t ConfChangeType) String() string {
	switch t {
	case ConfAddNode:
		return "add"
	case ConfRemoveNode:
		return "remove"
	}
	return fmt.Sprintf("ConfChangeType(%d)", int(t))
}

// ConfChange is an applied membership change, as reported to
// Config.OnConfChange. Context is what AddNode was given (for example the
// new node's address); the engine does not interpret it.
type ConfChange struct {
	Type    ConfChangeType
	ID      uint64
	Context []byte
}

// Config configures an Engine. Zero fields take the defaults given on each
// field (EnsureDefaults); New validates.
type Config struct {
	// ID is this node's Raft id. Required, non-zero, unique in the cluster.
	ID uint64
	// Peers are the initial voters (this node included). Used only to
	// bootstrap an empty log; every node of a new network gets the same
	// list. Ignored once the log has entries.
	Peers []uint64
	// IDFile, if set, is a file outside Dir in which the engine records
	// the Raft id that owns this node's chain. A joining node whose log is
	// empty but whose chain was applied under this same id lost its Raft
	// state (Dir), and is refused as a founding node is; a node restored
	// under a new id, as docs/operations.md describes, is not.
	IDFile string
	// Join starts a node with an empty log and no Peers: it waits for the
	// leader, after AddNode, to send it the log.
	Join bool
	// Dir holds the Raft log (HardState, entries, snapshot, ConfState) in a
	// pebble database written with synced batches. Required.
	Dir string
	// Hash is the chain's hash function, used to decode transactions.
	// Required.
	Hash crypto.Hash
	// TickInterval is the Raft clock's tick. Default 100ms.
	TickInterval time.Duration
	// ElectionTicks is the election timeout in ticks. Default 10.
	ElectionTicks int
	// HeartbeatTicks is the leader's heartbeat interval in ticks; less than
	// ElectionTicks. Default 1.
	HeartbeatTicks int
	// BlockInterval is the longest a ready transaction waits for a block.
	// Default 100ms; at most 10s.
	BlockInterval time.Duration
	// MaxBlockTxs caps the transactions in one block. Default 10,000.
	MaxBlockTxs int
	// MaxBlockBytes caps the encoded transactions in one block. Default
	// 16 MiB; at least 1 KiB.
	MaxBlockBytes int
	// Limits, if set, is asked for the block limits each time the leader
	// considers proposing a block: a value it returns within the range
	// Validate allows replaces MaxBlockTxs, MaxBlockBytes or BlockInterval;
	// zero or out of range keeps the configured one. It is called from the
	// engine's loop, so it must be cheap and must not block. Nil: the
	// configured limits, always.
	Limits func() (maxTxs, maxBytes int, interval time.Duration)
	// MaxInflightBlocks caps the blocks this leader has proposed that are not
	// yet applied here. Default 4.
	MaxInflightBlocks int
	// SnapshotEntries: the log is compacted (up to the newest durable block)
	// every this many applied entries. The entries since the last compaction
	// are also held in memory, so this bounds memory too. Default 1,000.
	SnapshotEntries uint64
	// OnConfChange, if set, is called for every applied membership change, in
	// log order, from the apply goroutine. After a restart the changes since
	// the last snapshot are reported again, so it must be idempotent.
	OnConfChange func(ConfChange)
	// Logger receives the engine's and Raft's log. Default slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	if c.TickInterval == 0 {
		c.TickInterval = 100 * time.Millisecond
	}
	if c.ElectionTicks == 0 {
		c.ElectionTicks = 10
	}
	if c.HeartbeatTicks == 0 {
		c.HeartbeatTicks = 1
	}
	if c.BlockInterval == 0 {
		c.BlockInterval = 100 * time.Millisecond
	}
	if c.MaxBlockTxs == 0 {
		c.MaxBlockTxs = 10_000
	}
	if c.MaxBlockBytes == 0 {
		c.MaxBlockBytes = 16 << 20
	}
	if c.MaxInflightBlocks == 0 {
		c.MaxInflightBlocks = 4
	}
	if c.SnapshotEntries == 0 {
		c.SnapshotEntries = 1_000
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration the engine cannot run with.
func (c Config) Validate() error {
	switch {
	case c.ID == 0:
		return errors.New("raft: node id must be non-zero")
	case c.Dir == "":
		return errors.New("raft: a log directory is required")
	case !c.Hash.Valid():
		return fmt.Errorf("raft: unknown chain hash %s", c.Hash)
	case c.Join && len(c.Peers) > 0:
		return errors.New("raft: a joining node takes no peers: the leader sends it the membership")
	case c.TickInterval < time.Millisecond:
		return fmt.Errorf("raft: tick interval %s below 1ms", c.TickInterval)
	case c.HeartbeatTicks < 1 || c.ElectionTicks <= c.HeartbeatTicks:
		return fmt.Errorf("raft: need 1 <= heartbeat ticks (%d) < election ticks (%d)", c.HeartbeatTicks, c.ElectionTicks)
	case c.BlockInterval < time.Millisecond || c.BlockInterval > 10*time.Second:
		return fmt.Errorf("raft: block interval %s out of range [1ms, 10s]", c.BlockInterval)
	case c.MaxBlockTxs < 1:
		return errors.New("raft: max block transactions must be at least 1")
	case c.MaxBlockBytes < 1024 || c.MaxBlockBytes > maxBlockBytes:
		return fmt.Errorf("raft: max block bytes must be in [1024, %d]", maxBlockBytes)
	case c.MaxInflightBlocks < 1:
		return errors.New("raft: max inflight blocks must be at least 1")
	}
	for _, p := range c.Peers {
		if p == 0 {
			return errors.New("raft: peer ids must be non-zero")
		}
	}
	return nil
}
