package bft

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/types"
)

// Epochs in the driver: how a validator set change takes effect.
//
// The rule. A block ends its epoch when its payload carries membership
// changes (payload version 2; endsEpoch). Every node decides it from the
// block's bytes alone, so it is known when the driver reports the block's
// result to the core, before the block commits. The core commits the
// ending block last in its epoch (later blocks of the epoch carry no
// payload and never commit). The driver then waits until the chain has
// applied the ending block, asks NextEpoch for the next set, which the
// node reads from the chain's committed state and the block's changes
// (changes that do not verify leave the set as it was: the next epoch then
// has the same set), writes the epoch record, and starts the next epoch's
// core on the ending block with Epoch+1. The new set so validates from
// the height after the ending block, on every node alike.
//
// A node that lags a whole epoch hears only messages of a later epoch.
// It then asks their sender for the end of its own epoch (a FetchRequest
// with epoch_end): the driver keeps the cores of the last ended epochs to
// answer with the certified block that proved the epoch's last block
// committed, and the block's ancestors, so the laggard commits up to the
// end through its core's usual fetching and changes epoch itself.

const (
	epochFile    = "epoch"
	epochVersion = 1
	// maxChanges and maxChangeBytes bound a payload's membership changes.
	maxChanges     = 16
	maxChangeBytes = 4096
	// keepEnded is how many ended epochs' cores answer fetches.
	keepEnded      = 2
	maxEarly       = 1024 // next-epoch messages kept for the switch
	maxPubKeyLen   = 1024
	maxMembersSize = 1 << 20
)

// ErrRemoved is returned by Run when an epoch starts whose validator set
// does not include this node: the network removed it.
var ErrRemoved = errors.New("bft: the network removed this node from the validator set")

// EpochInfo is one epoch's validator set as the driver records it.
type EpochInfo struct {
	Epoch uint64
	// Height is the height of the block the epoch builds on (the last
	// block of the previous epoch; 0 for the genesis epoch): its set
	// validates the blocks above it.
	Height     uint64
	Validators ValidatorSet
	// Members is the node's own record of the members (addresses and
	// the like), kept with the set; opaque to the driver.
	Members []byte
}

// EpochChange is what NextEpoch decides the next set from.
type EpochChange struct {
	Prev    EpochInfo // the epoch that ended
	Height  uint64    // of its last block, which the chain has applied
	Time    uint64    // that block's proposed time (unix ms), the same on every node
	Changes [][]byte  // the membership changes the block carries, as proposed
}

// epochState is the driver's epoch bookkeeping.
type epochState struct {
	info    EpochInfo
	ended   []*Core          // the last ended epochs' cores, oldest first
	asked   bool             // an epoch-end request went out since the last tick
	early   []inbound        // messages of the next epoch, stepped into its core at the switch
	resume  *Root            // a root that ends its epoch, switched from at Run
	applied chan struct{}    // signalled after each block the chain applies
	pending []*pendingChange // guarded by Driver.mu
}

type pendingChange struct {
	data []byte
	done chan EpochInfo
}

// endsEpoch reports whether b ends its epoch: its payload carries
// membership changes. A payload that does not decode ends nothing (it
// commits empty). When blocks are executed before they commit, the
// execution's own answer can replace this rule.
func endsEpoch(b *pb.Block) bool {
	if len(b.Payload) == 0 || b.Payload[0] != payloadV2 {
		return false
	}
	p, err := decodePayload(b.Payload)
	return err == nil && len(p.Changes) > 0
}

// LoadEpoch reads the epoch record in dir (DriverConfig.Dir); ok is false
// when none was written (the genesis epoch).
func LoadEpoch(dir string) (EpochInfo, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, epochFile))
	if errors.Is(err, os.ErrNotExist) {
		return EpochInfo{}, false, nil
	}
	if err != nil {
		return EpochInfo{}, false, fmt.Errorf("%w: %w", ErrStorage, err)
	}
	e, err := decodeEpoch(b)
	if err != nil {
		return EpochInfo{}, false, fmt.Errorf("%w: %s: %w", ErrStorage, epochFile, err)
	}
	return e, true, nil
}

// An epoch record is:
//
//	version     1 byte (1)
//	epoch       uvarint
//	height      uvarint
//	validators  uvarint count, each uvarint-length id and public key
//	members     uvarint length, bytes
func encodeEpoch(e EpochInfo) []byte {
	b := []byte{epochVersion}
	b = binary.AppendUvarint(b, e.Epoch)
	b = binary.AppendUvarint(b, e.Height)
	b = binary.AppendUvarint(b, uint64(len(e.Validators)))
	for _, v := range e.Validators {
		b = binary.AppendUvarint(b, uint64(len(v.ID)))
		b = append(b, v.ID...)
		b = binary.AppendUvarint(b, uint64(len(v.PubKey)))
		b = append(b, v.PubKey...)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Members)))
	return append(b, e.Members...)
}

func decodeEpoch(data []byte) (EpochInfo, error) {
	var e EpochInfo
	if len(data) == 0 || data[0] != epochVersion {
		return e, fmt.Errorf("%w: epoch record: unknown version", ErrBadPayload)
	}
	in := rd{b: data[1:]}
	e.Epoch = in.uvarint()
	e.Height = in.uvarint()
	n := in.uvarint()
	if in.err == nil && (n == 0 || n > maxValidators) {
		in.fail("%d validators (1 to %d)", n, maxValidators)
	}
	for i := uint64(0); i < n && in.err == nil; i++ {
		id := string(in.bytes(maxIDLen))
		pub := slices.Clone(in.bytes(maxPubKeyLen))
		e.Validators = append(e.Validators, Validator{ID: id, PubKey: pub})
	}
	e.Members = slices.Clone(in.bytes(maxMembersSize))
	if in.err != nil {
		return EpochInfo{}, in.err
	}
	if len(in.b) != 0 {
		return EpochInfo{}, fmt.Errorf("%w: epoch record: %d trailing bytes", ErrBadPayload, len(in.b))
	}
	if err := e.Validators.validate(); err != nil {
		return EpochInfo{}, fmt.Errorf("%w: epoch record: %w", ErrBadPayload, err)
	}
	return e, nil
}

// openEpoch takes up the epoch record at open: the core starts in the
// recorded epoch. A root that ends its epoch with no record of the switch
// (the node stopped in between) is switched from first thing in Run.
func (d *Driver) openEpoch(root Root) error {
	d.ep.info = EpochInfo{Validators: slices.Clone(d.cfg.Core.Validators)}
	d.ep.applied = make(chan struct{}, 1)
	e, ok, err := LoadEpoch(d.cfg.Dir)
	if err != nil {
		return err
	}
	if ok {
		if e.Height > root.Block.Height {
			return fmt.Errorf("%w: the epoch record starts at height %d, above the committed %d", ErrStorage, e.Height, root.Block.Height)
		}
		d.ep.info = e
		d.cfg.Core.Epoch, d.cfg.Core.Validators = e.Epoch, slices.Clone(e.Validators)
	}
	if root.Block.Height > d.ep.info.Height && endsEpoch(root.Block) {
		r := root
		d.ep.resume = &r
	}
	return nil
}

// resumeEpoch finishes a switch a stop cut short; the chain has applied
// the root by now (Run replays first).
func (d *Driver) resumeEpoch(ctx context.Context) error {
	if d.ep.resume == nil {
		return nil
	}
	r := *d.ep.resume
	d.ep.resume = nil
	return d.switchEpoch(ctx, r)
}

// endEpoch starts the next epoch after the core committed last, the block
// that ended its epoch.
func (d *Driver) endEpoch(ctx context.Context, last Commit) error {
	old := d.core
	if err := d.switchEpoch(ctx, Root{Block: last.Block, QC: last.QC, Result: last.Result, Reputation: last.Reputation}); err != nil {
		return err
	}
	d.ep.ended = append(d.ep.ended, old)
	if len(d.ep.ended) > keepEnded {
		d.ep.ended = slices.Clone(d.ep.ended[len(d.ep.ended)-keepEnded:])
	}
	return nil
}

func (d *Driver) switchEpoch(ctx context.Context, root Root) error {
	h := root.Block.Height
	if err := d.waitApplied(ctx, h); err != nil {
		return err
	}
	p, _ := decodePayload(root.Block.Payload) // it ends the epoch: it decodes
	next := EpochInfo{Validators: d.ep.info.Validators, Members: d.ep.info.Members}
	if d.cfg.NextEpoch != nil {
		var err error
		next, err = d.cfg.NextEpoch(EpochChange{Prev: d.ep.info, Height: h, Time: p.Time, Changes: p.Changes})
		if err != nil {
			return fmt.Errorf("bft: the validator set after block %d: %w", h, err)
		}
	}
	next.Epoch, next.Height = d.ep.info.Epoch+1, h
	next.Validators = slices.Clone(next.Validators)
	if err := next.Validators.validate(); err != nil {
		return fmt.Errorf("bft: the validator set after block %d: %w", h, err)
	}
	// The old epoch's blocks above the root never commit; stored, they
	// would join the new epoch's tree at a restart. They go before the
	// record that says the new epoch began.
	if err := d.store.dropAbove(d.stored, h); err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	if err := writeFile(d.cfg.Dir, epochFile, encodeEpoch(next), true); err != nil {
		return fmt.Errorf("%w: epoch record: %w", ErrStorage, err)
	}
	cfg := d.cfg.Core
	cfg.Epoch, cfg.Validators = next.Epoch, next.Validators
	c, err := New(cfg, root, nil, nil)
	if err != nil {
		return err
	}
	hash := blockHashOf(d.cfg.Core.Hash, root.Block)
	// Speculations of the old epoch's blocks above the root are dead; the
	// root is what the new epoch's blocks execute on.
	for k := range d.execs {
		if k != string(hash) {
			delete(d.execs, k)
		}
	}
	for k := range d.results {
		if k != string(hash) {
			delete(d.results, k)
		}
	}
	d.results[string(hash)] = root.Result
	if d.execs[string(hash)] == nil {
		_, t := d.app.Last() // the chain applied the root: its time is the chain's last
		d.execs[string(hash)] = &execInfo{height: h, time: t}
	}
	// What this node reaped for the old epoch's dead blocks is proposable
	// again: the chain has applied everything that committed.
	clear(d.heights)
	d.resetClaims()
	d.propose = 0
	d.core = c
	d.ep.info = next
	d.mu.Lock()
	d.cfg.Core = cfg
	var left []*pendingChange
	for _, pc := range d.ep.pending {
		if slices.ContainsFunc(p.Changes, func(b []byte) bool { return bytes.Equal(b, pc.data) }) {
			pc.done <- next
		} else {
			left = append(left, pc)
		}
	}
	d.ep.pending = left
	d.mu.Unlock()
	d.log.Info("validator set changed", "epoch", next.Epoch, "after_height", h, "validators", len(next.Validators))
	d.publishStatus()
	if next.Validators.Index(cfg.ID) < 0 {
		return fmt.Errorf("%w after block %d (epoch %d): it no longer votes or proposes", ErrRemoved, h, next.Epoch)
	}
	// Nodes switch a moment apart: what the first ones sent in the new
	// epoch before this node switched (a proposal, votes) counts now,
	// instead of costing a round timeout.
	early := d.ep.early
	d.ep.early = nil
	for _, in := range early {
		if in.msg.Epoch != next.Epoch {
			continue
		}
		if err := d.core.Step(in.from, in.msg); err != nil && !errors.Is(err, ErrBadMessage) {
			return err
		}
	}
	return nil
}

// waitApplied waits until the chain has applied height h and, for a
// chain that writes executed blocks behind execution (Flush), written it:
// the next set is read from the committed state, which must be the state
// up to h and no other on every node.
func (d *Driver) waitApplied(ctx context.Context, h uint64) error {
	for {
		if last, _ := d.app.Last(); last >= h {
			break
		}
		select {
		case <-d.ep.applied:
		case err := <-d.applyErr:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f, ok := d.app.(interface{ Flush() error })
	if !ok {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- f.Flush() }() // returns once the chain's writer is idle or has failed
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// noteApplied wakes waitApplied; called after each applied block.
func (d *Driver) noteApplied() {
	select {
	case d.ep.applied <- struct{}{}:
	default:
	}
}

// otherEpoch handles a message of another epoch than the core's and
// reports whether it is done with it. A fetch of an ended epoch goes to
// that epoch's core; a message of a later epoch says this node lags: it
// asks the sender for the end of its epoch (and the core records the
// later epoch).
func (d *Driver) otherEpoch(in inbound) (bool, error) {
	e := in.msg.Epoch
	switch {
	case e == d.cfg.Core.Epoch:
		return false, nil
	case e > d.cfg.Core.Epoch:
		if e == d.cfg.Core.Epoch+1 && len(d.ep.early) < maxEarly {
			d.ep.early = append(d.ep.early, in)
		}
		if !d.ep.asked {
			d.ep.asked = true
			m := &pb.Message{Version: WireVersion, Epoch: d.cfg.Core.Epoch, Body: &pb.Message_FetchRequest{
				FetchRequest: &pb.FetchRequest{EpochEnd: true, Count: uint32(d.core.cfg.FetchCount)}}}
			d.tr.Send(in.from, EncodeMessage(m))
		}
		return false, nil
	}
	if in.msg.GetFetchRequest() == nil {
		return true, nil
	}
	for _, c := range d.ep.ended {
		if c.cfg.Epoch != e {
			continue
		}
		if err := c.Step(in.from, in.msg); err != nil && !errors.Is(err, ErrBadMessage) {
			return true, err
		}
		if c.HasReady() {
			rd := c.Ready()
			for _, env := range rd.Messages {
				if env.To != "" {
					d.tr.Send(env.To, EncodeMessage(env.Msg))
				}
			}
			c.Advance()
		}
	}
	return true, nil
}

// proposalPayload is a proposal's payload: the transactions and the
// membership changes this node was asked to carry.
func (d *Driver) proposalPayload(t uint64, txs []*types.Tx) []byte {
	d.mu.Lock()
	var changes [][]byte
	for _, pc := range d.ep.pending {
		if len(changes) < maxChanges {
			changes = append(changes, pc.data)
		}
	}
	d.mu.Unlock()
	return encodePayloadChanges(t, txs, changes)
}

// ProposeChange has this validator carry a membership change in its
// proposals until a block with it commits; it returns the epoch that
// block started. The change is opaque here: DriverConfig.NextEpoch
// decides what it does. Safe for concurrent use.
func (d *Driver) ProposeChange(ctx context.Context, change []byte) (EpochInfo, error) {
	if len(change) == 0 || len(change) > maxChangeBytes {
		return EpochInfo{}, fmt.Errorf("%w: a membership change of %d bytes (1 to %d)", ErrBadPayload, len(change), maxChangeBytes)
	}
	pc := &pendingChange{data: slices.Clone(change), done: make(chan EpochInfo, 1)}
	d.mu.Lock()
	d.ep.pending = append(d.ep.pending, pc)
	d.mu.Unlock()
	select {
	case e := <-pc.done:
		return e, nil
	case <-ctx.Done():
		d.mu.Lock()
		d.ep.pending = slices.DeleteFunc(d.ep.pending, func(x *pendingChange) bool { return x == pc })
		d.mu.Unlock()
		return EpochInfo{}, fmt.Errorf("bft: the membership change did not commit in time (this node carries it only in the rounds it leads); check the members, then retry: %w", ctx.Err())
	}
}

// Epoch returns the current epoch's number. Safe for concurrent use.
func (d *Driver) Epoch() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.Core.Epoch
}

// dropAbove deletes stored blocks above height.
func (s *fileStore) dropAbove(blocks map[string]uint64, height uint64) error {
	bdir := filepath.Join(s.dir, blocksDir)
	var keys []string
	for k, h := range blocks {
		if h > height {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := os.Remove(filepath.Join(bdir, k)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		delete(blocks, k)
	}
	if len(keys) > 0 {
		return fsyncDir(bdir)
	}
	return nil
}
