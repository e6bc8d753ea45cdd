// Package txpool is the transaction pool: it admits signed transactions,
// verifies their signatures on all cores, orders each sender's transactions
// by nonce and hands ready ones to consensus (Pool implements
// consensus.Mempool).
//
// It owns admission (size, shape, chain id, expiry, signature, duplicates,
// nonce window, capacity) and nothing after it: it must not execute
// transactions, write state or block a caller. A full pool rejects with
// ErrPoolFull so that back-pressure reaches the client. Time and committed
// nonces come from the caller (the clock and State passed to New).
// Transactions that expire while pooled are dropped at the next Submit,
// Reap or Update, so that none reaches a block only to fail there.
package txpool

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// Admission errors. Submit's errors wrap one of these or a sentinel error of
// package types (ErrTooLarge, ErrMalformed, ErrVersion, ErrNoSigner,
// ErrWrongChain, ErrExpired, ErrUnknownScheme, ErrBadSignature); an error
// reading State is wrapped as it is.
var (
	// ErrPoolFull means the pool holds MaxTxs transactions or MaxBytes
	// bytes: the client should retry later.
	ErrPoolFull = errors.New("pool full")
	// ErrDuplicate means the transaction is already in the pool, in a block
	// being committed, or being admitted by another call.
	ErrDuplicate = errors.New("transaction already known")
	// ErrStaleNonce means the sender has committed this nonce already, or
	// the pool holds another transaction with the same sender and nonce
	// (the pool does not replace transactions).
	ErrStaleNonce = errors.New("nonce already used")
	// ErrNonceGap means the nonce is more than NonceWindow past the
	// sender's committed nonce.
	ErrNonceGap = errors.New("nonce too far ahead")
	// ErrClosed is returned for submissions after Close.
	ErrClosed = errors.New("pool closed")
)

// State gives committed nonces. It must be safe for concurrent use; the
// pool calls it outside its lock where it can.
type State interface {
	// Nonce is the next nonce the sender must use: 0 for a new sender.
	Nonce(types.Address) (uint64, error)
}

// Result is the outcome of admitting one transaction.
type Result struct {
	ID  types.Hash // zero when the transaction could not be decoded
	Err error      // nil when admitted
}

// entry is one pooled transaction.
type entry struct {
	tx      *types.Tx
	nonce   uint64
	seq     uint64 // ready-queue ticket while ready; see readyQueue
	heapIdx int    // position in Pool.expiry; -1 when not in it
	state   entryState
}

type entryState uint8

const (
	waiting   entryState = iota // a nonce before it is missing
	ready                       // in the ready queue
	reaped                      // handed to consensus, not yet committed
	dropped                     // gone from the pool; awaiting removal from its account
	admitting                   // claimed in Pool.known by a Submit verifying it
)

// account is one sender's pooled transactions.
type account struct {
	committed uint64   // from State: the next nonce the chain accepts
	next      uint64   // the nonce that would extend the ready chain
	txs       []*entry // sorted by nonce; no dropped entry outside Update
}

// search returns the index at which nonce is or would be in a.txs.
func (a *account) search(nonce uint64) (int, bool) {
	lo, hi := 0, len(a.txs)
	// Transactions usually arrive in nonce order: check the end first.
	if hi > 0 && a.txs[hi-1].nonce < nonce {
		return hi, false
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a.txs[m].nonce < nonce {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(a.txs) && a.txs[lo].nonce == nonce
}

// Pool is the transaction pool. It is safe for concurrent use; it
// implements consensus.Mempool.
//
// Invariants, for each account, with txs sorted by nonce: the entries from
// committed up to next are reaped ones followed by ready ones, with no
// nonce missing; the entries from next on are waiting, or reaped into a
// block that will fail them (they follow a missing nonce); in the ready
// queue an account's ready entries appear in nonce order. The tests check
// all of this after every step (checkInvariants).
type Pool struct {
	cfg      Config
	chainID  string
	hash     crypto.Hash
	state    State
	now      func() time.Time
	check    Check
	gas      GasBudget
	verifier *Verifier
	ready    chan struct{}

	mu         sync.Mutex
	closed     bool
	epoch      uint64 // bumped by Update; tells Submit its State reads may be old
	known      map[types.Hash]*entry
	claimed    map[types.Hash]struct{} // claimed ids the pool does not hold; see Claim
	accounts   map[types.Address]*account
	queue      readyQueue
	expiry     expiryHeap
	count      int   // transactions held
	bytes      int64 // their encoded size
	readyCount int
	readyBytes int

	admitted atomic.Uint64
	rejected [NumReasons]atomic.Uint64
	stateErr atomic.Uint64
	expired  atomic.Uint64
}

// New returns a pool for the chain chainID, whose transaction ids are made
// with h. state gives committed nonces; now is the clock for expiry
// (time.Now when nil). cfg's zero fields take their defaults.
func New(cfg Config, chainID string, h crypto.Hash, state State, now func() time.Time) (*Pool, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if chainID == "" {
		return nil, errors.New("txpool: empty chain id")
	}
	if !h.Valid() {
		return nil, fmt.Errorf("txpool: unknown hash function %s", h)
	}
	if state == nil {
		return nil, errors.New("txpool: nil State")
	}
	if now == nil {
		now = time.Now
	}
	return &Pool{
		cfg:      cfg,
		chainID:  chainID,
		hash:     h,
		state:    state,
		now:      now,
		verifier: NewVerifier(cfg.Workers, cfg.BatchSize, cfg.CacheSize),
		ready:    make(chan struct{}, 1),
		known:    make(map[types.Hash]*entry),
		claimed:  make(map[types.Hash]struct{}),
		accounts: make(map[types.Address]*account),
	}, nil
}

// Check is an admission rule of the chain beyond the pool's own, for
// example "only the issuer mints" or "the sender can afford the transfer"
// against committed state. It runs on each decoded transaction before its
// signature is verified, outside the pool's lock, and must be safe for
// concurrent use. Its error is returned to the client as it is.
type Check func(tx *types.Tx) error

// SetCheck installs c. Call it before the first Submit.
func (p *Pool) SetCheck(c Check) { p.check = c }

// GasBudget gives Reap a block's gas limit (0: none) and the gas of it a
// transaction may use (its declared limit, or nothing for a call that
// uses no gas). Reap calls it once, outside the pool's lock.
type GasBudget func() (limit uint64, txGas func(*types.Tx) uint64)

// SetGasBudget installs g. Call it before the first Reap.
func (p *Pool) SetGasBudget(g GasBudget) { p.gas = g }

// NextNonce is the nonce a new transaction from a should use: the committed
// nonce plus the sender's transactions that the pool holds in an unbroken
// run. ok is false when the pool holds nothing of a; the caller then asks
// the state.
func (p *Pool) NextNonce(a types.Address) (nonce uint64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	acct := p.accounts[a]
	if acct == nil {
		return 0, false
	}
	return acct.next, true
}

// Verifier returns the pool's verification stage, for checking the
// transactions of blocks built elsewhere without verifying twice.
func (p *Pool) Verifier() *Verifier { return p.verifier }

// Close rejects further submissions with ErrClosed and stops the
// verification workers. Reap, Update and the queries keep working.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.verifier.Close()
}

// Submit admits encoded transactions, in order, and returns one Result for
// each, in the same order. The pool keeps the slices it admits (without
// copying them): callers must not modify them afterwards.
//
// The checks run in this order: size limit, decoding, chain id and expiry,
// duplicates, signature, nonce rules, capacity. Signatures are verified in
// parallel batches; everything else needs two short holds of the pool's
// lock per call. Submit never blocks on a full pool.
func (p *Pool) Submit(raws [][]byte) []Result {
	res := make([]Result, len(raws))
	txs := make([]*types.Tx, len(raws))
	var rej rejections
	now := p.nowMillis()
	for i, raw := range raws {
		if len(raw) > p.cfg.MaxTxBytes {
			res[i].Err = fmt.Errorf("%w: %d bytes, this pool admits at most %d", types.ErrTooLarge, len(raw), p.cfg.MaxTxBytes)
			rej[ReasonTooLarge]++
			continue
		}
		tx, err := types.DecodeTx(raw, p.hash)
		if err != nil {
			res[i].Err = err
			rej[decodeReason(err)]++
			continue
		}
		res[i].ID = tx.ID
		if r, err := p.stateless(tx, now); err != nil {
			res[i].Err = err
			rej[r]++
			continue
		}
		txs[i] = tx
	}
	p.admit(txs, res, &rej)
	return res
}

// SubmitDecoded is Submit for transactions already decoded with
// types.DecodeTx and this chain's hash, for example forwarded by a peer.
// It applies the same checks, except decoding. The verification cache
// trusts tx.ID, so a transaction must never be built any other way.
func (p *Pool) SubmitDecoded(txs []*types.Tx) []Result {
	res := make([]Result, len(txs))
	todo := make([]*types.Tx, len(txs))
	var rej rejections
	now := p.nowMillis()
	for i, tx := range txs {
		if tx == nil || tx.Body == nil {
			res[i].Err = fmt.Errorf("%w: nil transaction", types.ErrMalformed)
			rej[ReasonMalformed]++
			continue
		}
		res[i].ID = tx.ID
		if len(tx.Raw) > p.cfg.MaxTxBytes {
			res[i].Err = fmt.Errorf("%w: %d bytes, this pool admits at most %d", types.ErrTooLarge, len(tx.Raw), p.cfg.MaxTxBytes)
			rej[ReasonTooLarge]++
			continue
		}
		if r, err := p.stateless(tx, now); err != nil {
			res[i].Err = err
			rej[r]++
			continue
		}
		todo[i] = tx
	}
	p.admit(todo, res, &rej)
	return res
}

// stateless runs the checks that need no pool state: chain id, expiry
// (against now, unix ms) and the chain's Check, which binds a signer named
// by certificate (types.Tx.Bind); a transaction still unbound after it is
// refused.
func (p *Pool) stateless(tx *types.Tx, now uint64) (Reason, error) {
	if err := tx.Check(p.chainID, now); err != nil {
		return checkReason(err), err
	}
	if p.check != nil {
		if err := p.check(tx); err != nil {
			return ReasonPolicy, err
		}
	}
	if !tx.Bound() {
		return ReasonMalformed, fmt.Errorf("%w: this chain has no identity configuration, so its signers are named by public key, not certificate", types.ErrUnbound)
	}
	return 0, nil
}

func (p *Pool) nowMillis() uint64 {
	if ms := p.now().UnixMilli(); ms > 0 {
		return uint64(ms)
	}
	return 0
}

// nonceRead is a State read made outside the lock, valid while the pool's
// epoch is unchanged.
type nonceRead struct {
	nonce uint64
	err   error
	epoch uint64
}

// admit runs the stages after the stateless checks on the non-nil txs,
// writing each outcome into res.
//
// Stage 1 claims each id in p.known with an admitting entry, so that a copy
// arriving while the first is verified is a duplicate. A copy with another
// signature is not: it is verified too, so that a forged copy submitted
// first cannot shut out the genuine one. At stage 2 a verified copy takes
// over an unverified claim, and the first verified copy is pooled.
func (p *Pool) admit(txs []*types.Tx, res []Result, rej *rejections) {
	defer p.tally(rej)

	// Stage 1, under the lock: reject duplicates and, cheaply, everything
	// when the pool is full; claim the remaining ids; note new senders.
	cand := make([]*entry, 0, len(txs))
	pos := make([]int, 0, len(txs))
	var fresh []types.Address
	p.mu.Lock()
	// Expired transactions give back their room before this call needs it.
	p.expire(p.nowMillis())
	for i, tx := range txs {
		if tx == nil {
			continue
		}
		if p.closed {
			res[i].Err = ErrClosed
			rej[ReasonClosed]++
			continue
		}
		old := p.known[tx.ID]
		if old != nil && (old.state != admitting || bytes.Equal(old.tx.Signature, tx.Signature)) {
			res[i].Err = duplicate(old)
			rej[ReasonDuplicate]++
			continue
		}
		if err := p.full(len(tx.Raw)); err != nil {
			res[i].Err = err
			rej[ReasonPoolFull]++
			continue
		}
		e := &entry{tx: tx, nonce: tx.Nonce(), state: admitting, heapIdx: -1}
		if old == nil {
			p.known[tx.ID] = e
		}
		if p.accounts[tx.Sender] == nil {
			fresh = append(fresh, tx.Sender)
		}
		cand = append(cand, e)
		pos = append(pos, i)
	}
	epoch := p.epoch
	p.mu.Unlock()
	if len(cand) == 0 {
		return
	}

	// Committed nonces of senders the pool does not know, read without the
	// lock: State may go to disk.
	var reads map[types.Address]nonceRead
	if len(fresh) > 0 {
		reads = make(map[types.Address]nonceRead, len(fresh))
		for _, a := range fresh {
			if _, ok := reads[a]; !ok {
				n, err := p.state.Nonce(a)
				reads[a] = nonceRead{nonce: n, err: err, epoch: epoch}
			}
		}
	}

	vtxs := make([]*types.Tx, len(cand))
	for k, e := range cand {
		vtxs[k] = e.tx
	}
	errs := p.verifier.Verify(vtxs)

	// Stage 2, under the lock: nonce rules and capacity. Admitted
	// transactions are stamped with the time, for the commit latency metric.
	received := p.now().UnixNano()
	promoted := false
	admitted := 0
	p.mu.Lock()
	for k, e := range cand {
		i := pos[k]
		owner := p.known[e.tx.ID]
		err := errs[k]
		switch {
		case errors.Is(err, types.ErrUnknownScheme):
			rej[ReasonUnknownScheme]++
		case err != nil:
			rej[ReasonBadSignature]++
		case p.closed:
			err = ErrClosed
			rej[ReasonClosed]++
		case owner != nil && owner != e && owner.state != admitting:
			err = duplicate(owner)
			rej[ReasonDuplicate]++
		default:
			var r Reason
			var up bool
			up, r, err = p.insert(e, reads, received)
			promoted = promoted || up
			if err != nil {
				rej[r]++
			} else {
				admitted++
			}
		}
		if err != nil {
			if p.known[e.tx.ID] == e {
				delete(p.known, e.tx.ID)
			}
			res[i].Err = err
		}
	}
	p.mu.Unlock()
	p.admitted.Add(uint64(admitted))
	if promoted {
		p.signal()
	}
}

func duplicate(e *entry) error {
	switch e.state {
	case admitting:
		return fmt.Errorf("%w: another submission of it is being admitted", ErrDuplicate)
	case reaped:
		return fmt.Errorf("%w: it is in a block being committed", ErrDuplicate)
	}
	return fmt.Errorf("%w: it is waiting in the pool", ErrDuplicate)
}

// full reports whether a transaction of size bytes does not fit. p.mu held.
func (p *Pool) full(size int) error {
	if p.count >= p.cfg.MaxTxs {
		return fmt.Errorf("%w: it holds its limit of %d transactions; retry later", ErrPoolFull, p.count)
	}
	if p.bytes+int64(size) > p.cfg.MaxBytes {
		return fmt.Errorf("%w: %d bytes more would exceed its limit of %d bytes; retry later", ErrPoolFull, size, p.cfg.MaxBytes)
	}
	return nil
}

// insert applies the nonce rules and capacity to the entry of a verified
// transaction whose id no other verified entry holds, and pools it. It
// reports whether the ready queue grew. p.mu held.
func (p *Pool) insert(e *entry, reads map[types.Address]nonceRead, received int64) (bool, Reason, error) {
	tx := e.tx
	acct := p.accounts[tx.Sender]
	isNew := acct == nil
	if isNew {
		r, ok := reads[tx.Sender]
		if !ok || r.epoch != p.epoch {
			// The sender was known at stage 1, or an Update ran since the
			// read: read again, now that no Update can interleave.
			r.nonce, r.err = p.state.Nonce(tx.Sender)
			r.epoch = p.epoch
			if reads != nil {
				reads[tx.Sender] = r
			}
		}
		if r.err != nil {
			p.stateErr.Add(1)
			return false, ReasonState, fmt.Errorf("txpool: reading the committed nonce of sender %s: %w", tx.Sender, r.err)
		}
		acct = &account{committed: r.nonce, next: r.nonce}
	}
	n := e.nonce
	if n < acct.committed {
		return false, ReasonStaleNonce, fmt.Errorf("%w: nonce %d, the sender's next nonce is %d", ErrStaleNonce, n, acct.committed)
	}
	if n-acct.committed > p.cfg.NonceWindow {
		return false, ReasonNonceGap, fmt.Errorf("%w: nonce %d, the sender's next nonce is %d and the pool holds at most %d beyond it; submit the missing nonces first",
			ErrNonceGap, n, acct.committed, p.cfg.NonceWindow)
	}
	i, found := acct.search(n)
	if found {
		// Another transaction: a pooled copy of this one is a duplicate,
		// caught before insert.
		return false, ReasonStaleNonce, fmt.Errorf("%w: nonce %d is taken by another transaction of this sender in the pool (no replacement)", ErrStaleNonce, n)
	}
	if err := p.full(len(tx.Raw)); err != nil {
		return false, ReasonPoolFull, err
	}
	if n != acct.next && p.count >= p.cfg.MaxTxs-p.cfg.MaxTxs/4 {
		// Transactions that wait for a missing nonce may fill at most three
		// quarters of the pool, so the ones that fill gaps, and everyone
		// else's ready ones, always find room.
		return false, ReasonPoolFull, fmt.Errorf("%w: transactions waiting for a missing nonce already fill three quarters of it; submit nonce %d of this sender first",
			ErrPoolFull, acct.next)
	}

	e.state = waiting
	tx.Received = received
	heap.Push(&p.expiry, e)
	acct.txs = append(acct.txs, nil)
	copy(acct.txs[i+1:], acct.txs[i:])
	acct.txs[i] = e
	if isNew {
		p.accounts[tx.Sender] = acct
	}
	p.known[tx.ID] = e
	p.count++
	p.bytes += int64(len(tx.Raw))

	if p.takeClaim(tx.ID) {
		// A block on its way carries it already (see Claim).
		p.claimEntry(e)
		return p.resync(acct), 0, nil
	}
	if n != acct.next {
		return false, 0, nil
	}
	// The gap before the waiting successors, if any, is filled.
	for j := i; j < len(acct.txs) && acct.txs[j].nonce == acct.next && acct.txs[j].state == waiting; j++ {
		p.makeReady(acct.txs[j])
		acct.next++
	}
	return true, 0, nil
}

// makeReady puts a waiting entry at the back of the ready queue. p.mu held.
func (p *Pool) makeReady(e *entry) {
	e.state = ready
	p.queue.push(e)
	p.readyCount++
	p.readyBytes += len(e.tx.Raw)
}

// unready takes a ready entry out of the ready queue (lazily). p.mu held.
func (p *Pool) unready(e *entry, to entryState) {
	e.state = to
	p.queue.forget()
	p.readyCount--
	p.readyBytes -= len(e.tx.Raw)
}

// drop removes an entry from the pool; its account slot is reclaimed by
// the next resync. p.mu held.
func (p *Pool) drop(e *entry) {
	if e.state == ready {
		p.unready(e, dropped)
	}
	e.state = dropped
	if e.heapIdx >= 0 {
		heap.Remove(&p.expiry, e.heapIdx)
	}
	delete(p.known, e.tx.ID)
	p.count--
	p.bytes -= int64(len(e.tx.Raw))
}

func (p *Pool) signal() {
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

// Reap removes and returns up to maxTxs ready transactions totalling at
// most maxBytes, in arrival order; each sender's come in consecutive nonce
// order continuing from its committed nonce or from its last reaped one.
// Reaped transactions stay known (a copy submitted again is a duplicate)
// until Update. Reap stops at the first transaction that does not fit in
// the remaining bytes, or in the remaining gas of the GasBudget, so that no
// sender's nonces are skipped: a contract call that does not fit waits for
// the next block instead of becoming INVALID in this one. A transaction
// that alone exceeds the block's gas limit (admission refuses them, but
// governance may lower the limit after) is reaped alone as the block's
// first, so that it fails in its block instead of holding up the pool.
func (p *Pool) Reap(maxTxs, maxBytes int) []*types.Tx {
	if maxTxs <= 0 || maxBytes <= 0 {
		return nil
	}
	var gasLimit, gas uint64
	var txGas func(*types.Tx) uint64
	if p.gas != nil {
		gasLimit, txGas = p.gas()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// An expired transaction would only fail in the block.
	p.expire(p.nowMillis())
	out := make([]*types.Tx, 0, min(maxTxs, p.readyCount))
	bytes := 0
	for len(out) < maxTxs {
		e, ok := p.queue.peek()
		if !ok {
			break
		}
		size := len(e.tx.Raw)
		if bytes+size > maxBytes {
			break
		}
		if txGas != nil {
			g := txGas(e.tx)
			if g > gasLimit-gas && len(out) > 0 {
				break
			}
			gas += min(g, gasLimit-gas)
		}
		p.queue.pop()
		e.state = reaped
		p.readyCount--
		p.readyBytes -= size
		bytes += size
		out = append(out, e.tx)
	}
	return out
}

// ReadyLen returns the number of transactions Reap could return now and
// their total size in bytes.
func (p *Pool) ReadyLen() (txs, bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.readyCount, p.readyBytes
}

// Ready returns a channel that receives (without blocking the pool) after
// transactions become ready. One signal may stand for many transactions.
func (p *Pool) Ready() <-chan struct{} { return p.ready }

// Len returns the number of transactions held: ready, waiting, and reaped
// but not yet committed.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// Update tells the pool that a block with the transactions committed (valid
// or not) has been committed. It forgets them, re-reads from State the
// committed nonce of every sender in the block, drops the sender's pooled
// transactions whose nonce is now used, and re-derives the sender's ready
// chain: where a reaped transaction failed in the block, its nonce is
// missing again and its successors go back to waiting. Update must be
// called for blocks in commit order, after State reflects the block.
func (p *Pool) Update(committed []*types.Tx) {
	if len(committed) == 0 {
		return
	}
	reads := make(map[types.Address]nonceRead)
	order := make([]types.Address, 0)
	for _, tx := range committed {
		if _, ok := reads[tx.Sender]; ok {
			continue
		}
		n, err := p.state.Nonce(tx.Sender)
		reads[tx.Sender] = nonceRead{nonce: n, err: err}
		order = append(order, tx.Sender)
	}

	promoted := false
	p.mu.Lock()
	p.epoch++
	for _, tx := range committed {
		delete(p.claimed, tx.ID)
		if e := p.known[tx.ID]; e != nil && e.state != admitting {
			p.drop(e)
		}
	}
	for _, a := range order {
		acct := p.accounts[a]
		if acct == nil {
			continue
		}
		if r := reads[a]; r.err == nil {
			acct.committed = r.nonce
		} else {
			// Keep the old nonce: the entries stay, and a later Update or
			// the block's failure sorts out any that went stale.
			p.stateErr.Add(1)
		}
		promoted = p.resyncAccount(a, acct) || promoted
	}
	p.expire(p.nowMillis())
	p.unlockChanged(promoted)
}

// Remove takes the given transactions out of the pool unless they are
// reaped (in a block on its way) or still being admitted; their senders'
// later transactions go back to waiting for the gap. A node that forwarded
// transactions to a leader which refused them calls it, so that they do
// not sit in its pool for ever.
func (p *Pool) Remove(ids []types.Hash) {
	p.mu.Lock()
	touched := map[types.Address]*account{}
	for _, id := range ids {
		e := p.known[id]
		if e == nil || e.state == reaped || e.state == admitting {
			continue
		}
		if acct := p.accounts[e.tx.Sender]; acct != nil {
			touched[e.tx.Sender] = acct
		}
		p.drop(e)
	}
	promoted := false
	for a, acct := range touched {
		promoted = p.resyncAccount(a, acct) || promoted
	}
	p.unlockChanged(promoted)
}

// ResetReaped makes every reaped transaction that has not been committed
// reapable again, in nonce order per sender. A consensus engine calls it
// when the blocks it proposed may never commit: a Raft leader that loses
// its leadership. Transactions that do commit later are dropped by Update
// as usual, so calling it too often costs only re-proposals. Claimed
// transactions (Claim) come back too, and remembered claims are forgotten.
func (p *Pool) ResetReaped() {
	p.mu.Lock()
	clear(p.claimed)
	promoted := false
	for _, acct := range p.accounts {
		has := false
		for _, e := range acct.txs {
			if e.state == reaped {
				has = true
				break
			}
		}
		if !has {
			continue
		}
		// Every entry goes back to waiting first, so that resync pushes
		// the whole chain onto the ready queue in nonce order.
		for _, e := range acct.txs {
			switch e.state {
			case ready:
				p.unready(e, waiting)
			case reaped:
				e.state = waiting
			}
		}
		promoted = p.resync(acct) || promoted
	}
	p.unlockChanged(promoted)
}

// resyncAccount resyncs acct and forgets it once it holds nothing; it
// reports whether anything became ready. p.mu is held.
func (p *Pool) resyncAccount(a types.Address, acct *account) bool {
	promoted := p.resync(acct)
	if len(acct.txs) == 0 {
		delete(p.accounts, a)
	}
	return promoted
}

// unlockChanged ends a change to the pool: it compacts the ready queue,
// releases p.mu, and wakes the engine if anything became ready.
func (p *Pool) unlockChanged(promoted bool) {
	p.queue.maybeCompact()
	p.mu.Unlock()
	if promoted {
		p.signal()
	}
}

// resync drops an account's entries below its committed nonce and those
// dropped already, then re-derives its ready chain from the committed
// nonce: first the reaped transactions in flight, then ready and waiting
// ones, which all become ready, up to the first missing nonce or a reaped
// transaction that follows unreaped ones (doomed: it is in a block before
// its predecessor). Ready entries after that point go back to waiting.
// It reports whether the ready queue grew. p.mu held.
func (p *Pool) resync(acct *account) bool {
	kept := acct.txs[:0]
	for _, e := range acct.txs {
		if e.state != dropped && e.nonce < acct.committed {
			p.drop(e)
		}
		if e.state != dropped {
			kept = append(kept, e)
		}
	}
	clear(acct.txs[len(kept):])
	acct.txs = kept

	expect := acct.committed
	j := 0
	for j < len(kept) && kept[j].nonce == expect && kept[j].state == reaped {
		j++
		expect++
	}
	promoted := false
	for j < len(kept) && kept[j].nonce == expect && kept[j].state != reaped {
		if kept[j].state == waiting {
			p.makeReady(kept[j])
			promoted = true
		}
		j++
		expect++
	}
	acct.next = expect
	for ; j < len(kept); j++ {
		if kept[j].state == ready {
			p.unready(kept[j], waiting)
		}
	}
	return promoted
}
