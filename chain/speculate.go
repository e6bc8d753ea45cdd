package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
)

// Speculative execution, for an engine whose votes carry execution
// results (BFT). Such an engine must know a block's result before the
// block is decided, so it executes blocks that may still lose: Speculate
// runs a block on top of a given parent (the last applied block, or a
// block speculated before), keyed by the engine's id for it, and keeps the
// result without committing. When the engine applies a decided block with
// ApplyBlock, its speculation is committed as is if it was made on the
// same parent with the same inputs, else the block executes again.
// Applying a block drops the speculations that can no longer commit: at or
// below its height (its siblings among them), and every descendant of
// those. A speculation reads committed state, then the blocks still
// pending for the disk, then its speculative ancestors, newest first.
//
// The result is the block hash: it covers the header, so the write-set
// hash, the state hash, the receipts and the previous block's hash.
// Executing a block gives the same result speculatively as when decided:
// the inputs (height, time, proposer, transactions, parent) are the same,
// and the executor keeps no state between blocks.

// maxSpeculative bounds the speculative blocks kept: an engine has one
// certified block per round at most, and commits every few rounds.
const maxSpeculative = 128

var (
	// ErrSpecParent refuses a speculation whose parent is neither the
	// last applied block nor a speculative block this chain holds: it was
	// dropped, or lost to a block that committed. Its child cannot commit.
	ErrSpecParent = errors.New("chain: the block's parent is not the last applied block nor a speculative block on a live branch")
	// ErrSpecFull refuses a speculation while maxSpeculative blocks wait
	// for a decision: the engine is far ahead of its commits.
	ErrSpecFull = errors.New("chain: too many blocks executed but not decided; wait for commits")
)

// speculation holds the speculative blocks. Its mutex is taken before the
// chain's.
type speculation struct {
	mu     sync.Mutex
	blocks map[string]*specBlock // by engine id
	tip    string                // engine id of the last applied block; "" when unknown
	height uint64                // of the last applied block
	reused uint64                // decided blocks committed from their speculation
}

type specBlock struct {
	parent string
	in     *consensus.Proposal // as Speculate got it
	b      *pendingBlock       // executed; b.p may have lost its transactions (lenient)
}

// Anchor names the engine's id of the last applied block, which the next
// speculations build on: an engine calls it when it starts, and after
// blocks reached the chain some other way than ApplyBlock.
func (c *Chain) Anchor(id []byte) {
	c.spec.mu.Lock()
	defer c.spec.mu.Unlock()
	c.mu.RLock()
	h := c.exec.Height
	c.mu.RUnlock()
	c.spec.blocks = nil
	c.spec.tip, c.spec.height = string(id), h
}

// applied records that the block id (nil: a block without an id, from
// Apply or block sync) is now the last executed one, at height, and drops
// the speculations that can no longer commit. Called with mu held.
func (s *speculation) applied(id []byte, height uint64) {
	s.tip, s.height = string(id), height
	if id == nil {
		s.blocks = nil // nothing is known to extend a block without an id
		return
	}
	delete(s.blocks, s.tip)
	live := map[string]bool{s.tip: true}
	var walk func(id string) bool
	walk = func(id string) bool {
		if v, ok := live[id]; ok {
			return v
		}
		sb := s.blocks[id]
		v := sb != nil && sb.b.p.Height > height && walk(sb.parent)
		live[id] = v
		return v
	}
	for id := range s.blocks {
		if !walk(id) {
			delete(s.blocks, id)
		}
	}
}

// branch returns the speculative blocks from parent down to the last
// applied block, newest first, or ErrSpecParent. Called with mu held.
func (s *speculation) branch(parent string) ([]*specBlock, error) {
	var br []*specBlock
	x := parent
	for {
		sb := s.blocks[x]
		if sb == nil {
			break
		}
		br = append(br, sb)
		x = sb.parent
	}
	if s.tip == "" || x != s.tip {
		return nil, ErrSpecParent
	}
	return br, nil
}

// Speculate executes p, the engine's block id, on top of the block parent
// (the last applied block, or a block speculated before), without
// committing it, and returns its result: the block hash. Speculating a
// block again returns the first result. A bad signature makes the block
// execute empty, as ApplyBlock does, so that a certified block from a
// byzantine leader has the same result on every honest node.
func (c *Chain) Speculate(id, parent []byte, p *consensus.Proposal) (types.Hash, error) {
	s := &c.spec
	s.mu.Lock()
	if sb := s.blocks[string(id)]; sb != nil {
		s.mu.Unlock()
		return sb.b.res.Hash, nil
	}
	if len(s.blocks) >= maxSpeculative {
		s.mu.Unlock()
		return types.Hash{}, ErrSpecFull
	}
	br, err := s.branch(string(parent))
	c.mu.RLock()
	base, ferr := c.exec, c.err
	c.mu.RUnlock()
	s.mu.Unlock()
	switch {
	case err != nil:
		return types.Hash{}, err
	case ferr != nil:
		return types.Hash{}, ferr
	}
	if len(br) > 0 {
		base = tipAfter(br[0].b)
	}
	if p.Height != base.Height+1 {
		return types.Hash{}, fmt.Errorf("chain: speculating block %d on a parent at height %d", p.Height, base.Height)
	}
	res, txs, err := c.execute(specReader{c, br}, base, p, applyOpts{lenient: true})
	if err != nil {
		return types.Hash{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sb := s.blocks[string(id)]; sb != nil {
		return sb.b.res.Hash, nil
	}
	// A block that committed meanwhile may have taken the branch's place.
	if _, err := s.branch(string(parent)); err != nil {
		return types.Hash{}, err
	}
	if s.blocks == nil {
		s.blocks = map[string]*specBlock{}
	}
	s.blocks[string(id)] = &specBlock{parent: string(parent), in: p,
		b: &pendingBlock{p: withTxs(p, txs), res: res, prevTime: base.Time}}
	return res.Hash, nil
}

// ApplyBlock is Apply for the engine's decided block id: it commits the
// block's speculation if one was made on the last applied block with the
// same inputs, and executes it otherwise (as Speculate does: a bad
// signature empties it). It returns the block hash.
func (c *Chain) ApplyBlock(ctx context.Context, id []byte, p *consensus.Proposal) (types.Hash, error) {
	s := &c.spec
	s.mu.Lock()
	var reuse *pendingBlock
	if sb := s.blocks[string(id)]; sb != nil && sb.parent == s.tip && s.tip != "" && sameInputs(sb.in, p) {
		b := *sb.b
		reuse = &b
		s.reused++
	}
	s.mu.Unlock()
	if err := c.apply(ctx, p, applyOpts{id: slices.Clone(id), reuse: reuse, lenient: true}); err != nil {
		return types.Hash{}, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return types.Hash(c.exec.BlockHash), nil
}

// sameInputs reports whether two proposals execute alike.
func sameInputs(a, b *consensus.Proposal) bool {
	if a == b {
		return true // the engine decided the very proposal it speculated
	}
	if a.Height != b.Height || a.Time != b.Time || !bytes.Equal(a.Proposer, b.Proposer) || len(a.Txs) != len(b.Txs) {
		return false
	}
	for i := range a.Txs {
		if !bytes.Equal(a.Txs[i].Raw, b.Txs[i].Raw) {
			return false
		}
	}
	return true
}

// Speculated reports how many speculative blocks are held and how many
// decided blocks committed their speculation, for tests and metrics.
func (c *Chain) Speculated() (held int, reused uint64) {
	c.spec.mu.Lock()
	defer c.spec.mu.Unlock()
	return len(c.spec.blocks), c.spec.reused
}

// specReader reads state as of the newest block of a speculative branch:
// its blocks newest first, then what pendingReader reads. A branch block
// that the engine applies meanwhile moves to the pending blocks with the
// same writes, so reads stay the same.
type specReader struct {
	c  *Chain
	br []*specBlock
}

func (r specReader) Get(key []byte) ([]byte, error) {
	for _, sb := range r.br {
		if w, ok := findWrite(sb.b.res.Writes, key); ok {
			if w.Delete {
				return nil, nil
			}
			return w.Value, nil
		}
	}
	return pendingReader{r.c}.Get(key)
}

// findWrite finds key's write in ws, sorted by key.
func findWrite(ws []execution.Write, key []byte) (execution.Write, bool) {
	j := sort.Search(len(ws), func(j int) bool { return bytes.Compare(ws[j].Key, key) >= 0 })
	if j < len(ws) && bytes.Equal(ws[j].Key, key) {
		return ws[j], true
	}
	return execution.Write{}, false
}
