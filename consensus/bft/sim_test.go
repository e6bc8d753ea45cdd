package bft

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"hash"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/accord-chain/accord/consensus/bft/pb"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

var (
	flagSeeds = flag.Int("bft.seeds", 0, "seeds for the BFT simulator (0: the default for a normal test run)")
	flagSeed  = flag.Int64("bft.seed", -1, "run the BFT simulator on this one seed only, and print its trace")
)

// fakeKey signs by hashing: deterministic, fast, and verifiable only by
// its own public key ([]byte(id)). It stands in for the chain's scheme.
type fakeKey struct{ id string }

func fakeSig(pub, msg []byte) []byte {
	h := sha256.New()
	h.Write([]byte("fake-sig\x00"))
	h.Write(pub)
	h.Write([]byte{0})
	h.Write(msg)
	return h.Sum(nil)
}

func (k fakeKey) Sign(msg []byte) ([]byte, error) { return fakeSig([]byte(k.id), msg), nil }

type fakeVerifier struct{}

func (fakeVerifier) Verify(pub, msg, sig []byte) bool { return bytes.Equal(fakeSig(pub, msg), sig) }

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("n%d", i+1)
	}
	return out
}

func fakeSet(ids []string) ValidatorSet {
	vs := make(ValidatorSet, len(ids))
	for i, id := range ids {
		vs[i] = Validator{ID: id, PubKey: []byte(id)}
	}
	return vs
}

func genesis() Root {
	b := &pb.Block{Version: WireVersion, Parent: make([]byte, HashSize), Proposer: []byte("genesis")}
	r := sha256.Sum256([]byte("genesis state"))
	return Root{Block: b, Result: r[:]}
}

// execResult is the simulated execution: a block's result is the hash of
// its parent's result and its own hash, so every honest node computes the
// same one and a fork shows in the results.
func execResult(parent, hash []byte) []byte {
	h := sha256.New()
	h.Write(parent)
	h.Write(hash)
	return h.Sum(nil)
}

func short(b []byte) string {
	if len(b) < 3 {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:3])
}

// simOpts shape a simulation run.
type simOpts struct {
	n         int
	ticks     int // of faults; a calm phase of calmTicks follows
	calmTicks int
	minDelay  int
	maxDelay  int
	dropP     float64
	dupP      float64
	crashP    float64 // per Ready
	partP     float64 // per tick: start a partition
	bugs      bugs
	noLive    bool // skip the liveness check (planted bugs may stall)
	roundTick int
	scheme    crypto.Scheme // if set, sign with real keys of this scheme, not the fake
	changeAt  uint64        // if not 0: the block at this height changes the set (the last validator leaves, a new one joins)
	askEnd    bool          // a node that hears a later epoch asks the sender for its epoch's end, as the driver does

	manualPropose bool // the script proposes (datadriven)
	// Twins: a fixed leader schedule and a delivery filter.
	schedule func(round uint64) string
	allowed  func(round uint64, from, to int) bool
}

type simNode struct {
	inst       int
	id         string
	honest     bool
	core       *Core
	prev       *Core  // the last epoch's, serving fetches
	mayPropose uint64 // the round it was asked to propose in (manual proposing)
	asked      bool   // asked for its epoch's end this tick
	up         bool
	downTil    int
	cfg        Config

	// What the driver persisted: it survives a crash.
	state  []byte
	blocks map[string][]byte
	root   Root
	chain  [][]byte // hashes of committed blocks by height-1 (the chain store)
	epoch  uint64
	vs     ValidatorSet

	results map[string][]byte // execution results: lost on a crash
	store   map[string][]byte // committed blocks by hash (the chain store)
}

// Block implements Storage from the node's chain store.
func (sn *simNode) Block(hash []byte) *pb.Block {
	raw, ok := sn.store[string(hash)]
	if !ok {
		return nil
	}
	b, err := DecodeBlock(raw)
	if err != nil {
		panic(err)
	}
	return b
}

type inflight struct {
	at   int
	seq  uint64
	from int
	to   int
	msg  []byte
}

type violation struct{ msg string }

type sim struct {
	t       testing.TB
	opts    simOpts
	rng     *rand.Rand
	nodes   []*simNode
	now     int
	seq     uint64
	queue   []inflight
	trace   hash.Hash
	log     *strings.Builder // verbose trace, when asked for
	allIDs  []string
	setFor  func(ids []string) ValidatorSet
	sent    [][]byte // every message sent, when collect is set
	collect bool

	part    []int // group of each instance; nil: connected
	partEnd int
	faults  bool

	// Checker state.
	committedAt map[uint64]string // height -> hash, by the first honest commit
	roundAt     map[uint64]uint64 // height -> round of that block
	resultOf    map[string][]byte // hash -> result the checker computed
	proposed    map[string]bool
	votesBy     map[string]map[[2]uint64]string // honest id -> (epoch, round) -> vote data
	timeoutBy   map[string]map[[2]uint64]bool
	violations  []violation
	evidence    int
	errs        int
	commits     int
	maxRound    uint64
}

func newSim(t testing.TB, seed uint64, o simOpts, twins []string) *sim {
	s := &sim{
		t: t, opts: o,
		rng:         rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		trace:       sha256.New(),
		committedAt: map[uint64]string{},
		roundAt:     map[uint64]uint64{},
		resultOf:    map[string][]byte{},
		proposed:    map[string]bool{},
		votesBy:     map[string]map[[2]uint64]string{},
		timeoutBy:   map[string]map[[2]uint64]bool{},
	}
	if o.roundTick == 0 {
		s.opts.roundTick = 10
	}
	s.allIDs = ids(o.n)
	keys := map[string]Signer{}
	set := func(ids []string) ValidatorSet {
		if o.scheme == 0 {
			return fakeSet(ids)
		}
		vs := make(ValidatorSet, len(ids))
		for i, id := range ids {
			if keys[id] == nil {
				var seed [32]byte
				copy(seed[:], id)
				k, err := crypto.GenerateKey(o.scheme, rand.NewChaCha8(seed))
				if err != nil {
					t.Fatal(err)
				}
				keys[id] = k
			}
			vs[i] = Validator{ID: id, PubKey: keys[id].(crypto.PrivateKey).Public().Bytes()}
		}
		return vs
	}
	s.setFor = set
	g := genesis()
	s.resultOf[string(c0hash(g.Block))] = g.Result
	mk := func(id string, honest bool) {
		sn := &simNode{inst: len(s.nodes), id: id, honest: honest, blocks: map[string][]byte{}, store: map[string][]byte{}, root: g, vs: set(s.allIDs)}
		var signer Signer = fakeKey{id}
		var verifier Verifier = fakeVerifier{}
		if o.scheme != 0 {
			set([]string{id})
			signer, verifier = keys[id], CryptoVerifier{Scheme: o.scheme}
		}
		sn.cfg = Config{ID: id, ChainID: "sim", Signer: signer, Verifier: verifier,
			Validators: sn.vs, RoundTicks: s.opts.roundTick, bugs: o.bugs,
			LeaderSchedule: o.schedule}
		s.nodes = append(s.nodes, sn)
		s.start(sn)
	}
	for _, id := range s.allIDs {
		twin := slices.Contains(twins, id)
		mk(id, !twin)
		if twin {
			mk(id, false)
		}
	}
	if o.changeAt != 0 {
		mk(fmt.Sprintf("n%d", o.n+1), true) // joins the set later
	}
	return s
}

func c0hash(b *pb.Block) []byte {
	h := sha256.Sum256(EncodeBlock(b))
	return h[:]
}

func (s *sim) logf(format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	s.trace.Write([]byte(line))
	if s.log != nil && s.opts.manualPropose {
		fmt.Fprintf(s.log, "%s\n", line)
	} else if s.log != nil {
		fmt.Fprintf(s.log, "%4d %s\n", s.now, line)
	}
}

func (s *sim) fail(format string, a ...any) {
	msg := fmt.Sprintf("tick %d: ", s.now) + fmt.Sprintf(format, a...)
	s.violations = append(s.violations, violation{msg})
	s.logf("VIOLATION %s", msg)
}

// start builds a node's core from what it persisted.
func (s *sim) start(sn *simNode) {
	var st *pb.SafetyState
	if sn.state != nil {
		var err error
		if st, err = DecodeSafetyState(sn.state); err != nil {
			s.t.Fatalf("%s: persisted state does not decode: %v", sn.id, err)
		}
	}
	var blocks []*pb.Block
	keys := make([]string, 0, len(sn.blocks))
	for k := range sn.blocks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b, err := DecodeBlock(sn.blocks[k])
		if err != nil {
			s.t.Fatalf("%s: persisted block does not decode: %v", sn.id, err)
		}
		blocks = append(blocks, b)
	}
	cfg := sn.cfg
	cfg.Epoch, cfg.Validators, cfg.Storage = sn.epoch, sn.vs, sn
	c, err := New(cfg, sn.root, st, blocks)
	if err != nil {
		s.t.Fatalf("%s: New: %v", sn.id, err)
	}
	sn.core = c
	sn.up = true
	sn.results = map[string][]byte{string(c.root.hash): sn.root.Result}
	s.drain(sn)
}

func (s *sim) crash(sn *simNode, why string) {
	s.logf("crash %d(%s) %s", sn.inst, sn.id, why)
	sn.up = false
	sn.core, sn.prev = nil, nil
	sn.downTil = s.now + 1 + s.rng.IntN(80)
}

// drain handles the node's Ready batches as a driver would.
func (s *sim) drain(sn *simNode) {
	for sn.up && sn.core.HasReady() {
		s.handleReady(sn)
	}
}

func (s *sim) maybeCrash(sn *simNode, where string) bool {
	if s.faults && s.opts.crashP > 0 && s.rng.Float64() < s.opts.crashP/3 {
		s.crash(sn, where)
		return true
	}
	return false
}

func (s *sim) handleReady(sn *simNode) {
	c := sn.core
	rd := c.Ready()
	if s.maybeCrash(sn, "before persisting") {
		return
	}
	// 1. Persist.
	if rd.State != nil {
		sn.state = EncodeSafetyState(rd.State)
	}
	for _, b := range rd.Blocks {
		sn.blocks[string(c.blockHash(b))] = EncodeBlock(b)
	}
	if s.maybeCrash(sn, "after persisting") {
		return
	}
	// 2. Send, checking that what goes out is covered by what was persisted.
	var persisted *pb.SafetyState
	if sn.state != nil {
		persisted, _ = DecodeSafetyState(sn.state)
	}
	for _, e := range rd.Messages {
		s.checkOutgoing(sn, e.Msg, persisted)
		s.sendMsg(sn, e)
	}
	// 3, 4. Commit: the chain store is durable.
	for _, cm := range rd.Committed {
		s.checkCommit(sn, cm)
		sn.chain = append(sn.chain, cm.Hash)
		sn.store[string(cm.Hash)] = EncodeBlock(cm.Block)
		if cm.Result == nil { // only under the one-chain bug, which commits before executing
			cm.Result = execResult(sn.root.Result, cm.Hash)
		}
		sn.root = Root{Block: cm.Block, Result: cm.Result, QC: cm.QC, Reputation: cm.Reputation}
		for k, raw := range sn.blocks {
			b, _ := DecodeBlock(raw)
			if b.Height <= cm.Block.Height {
				delete(sn.blocks, k)
			}
		}
	}
	if rd.EpochEnded {
		// The driver's chain store records the new set with the block
		// that made it: the new epoch's core starts on that block.
		sn.epoch++
		sn.vs = s.setFor(append(slices.Clone(s.allIDs[:s.opts.n-1]), fmt.Sprintf("n%d", s.opts.n+1)))
		clear(sn.blocks)
		s.logf("%d(%s) enters epoch %d", sn.inst, sn.id, sn.epoch)
		c.Advance()
		sn.prev = c
		s.start(sn)
		return
	}
	s.evidence += len(rd.Evidence)
	for _, ev := range rd.Evidence {
		s.logf("evidence %d(%s) against %s round %d", sn.inst, sn.id, ev.Validator, ev.Round)
	}
	if len(rd.Committed) > 0 && s.maybeCrash(sn, "after committing") {
		return
	}
	c.Advance()
	// Execute after Advance, as the contract says.
	for _, b := range rd.Execute {
		h := c.blockHash(b)
		pr, ok := sn.results[string(b.Parent)]
		if !ok && s.opts.bugs.oneChainCommit {
			continue // the bug commits unexecuted blocks; this node is lost anyway
		}
		if !ok {
			s.t.Fatalf("%s: asked to execute %s before its parent", sn.id, short(h))
		}
		r := execResult(pr, h)
		sn.results[string(h)] = r
		ends := s.opts.changeAt != 0 && b.Height == s.opts.changeAt && sn.epoch == 0
		if err := c.Executed(h, r, ends); err != nil {
			s.t.Fatalf("%s: Executed: %v", sn.id, err)
		}
	}
	if rd.ProposeRound != 0 && s.opts.manualPropose {
		sn.mayPropose = rd.ProposeRound
		s.logf("%s may propose r%d", sn.id, rd.ProposeRound)
	} else if rd.ProposeRound != 0 {
		payload := fmt.Sprintf("%s/%d/r%d", sn.id, sn.inst, rd.ProposeRound)
		if err := c.Propose(rd.ProposeRound, []byte(payload)); err != nil {
			s.t.Fatalf("%s: Propose(%d) after being asked: %v", sn.id, rd.ProposeRound, err)
		}
	}
}

func msgRound(m *pb.Message) uint64 {
	switch b := m.Body.(type) {
	case *pb.Message_Proposal:
		return b.Proposal.Block.Round
	case *pb.Message_Vote:
		return b.Vote.Data.Round
	case *pb.Message_Timeout:
		return b.Timeout.Round
	}
	return 0
}

func describe(m *pb.Message) string {
	switch b := m.Body.(type) {
	case *pb.Message_Proposal:
		return fmt.Sprintf("proposal r%d h%d %q", b.Proposal.Block.Round, b.Proposal.Block.Height, b.Proposal.Block.Payload)
	case *pb.Message_Vote:
		return fmt.Sprintf("vote r%d h%d %s", b.Vote.Data.Round, b.Vote.Data.Height, short(b.Vote.Data.Block))
	case *pb.Message_Timeout:
		return fmt.Sprintf("timeout r%d qc=r%d", b.Timeout.Round, b.Timeout.HighQc.Data.Round)
	case *pb.Message_FetchRequest:
		return fmt.Sprintf("fetch %s", short(b.FetchRequest.Hash))
	case *pb.Message_FetchResponse:
		return fmt.Sprintf("blocks x%d", len(b.FetchResponse.Blocks))
	}
	return "?"
}

func (s *sim) sendMsg(sn *simNode, e Envelope) {
	raw := EncodeMessage(e.Msg)
	if s.collect {
		s.sent = append(s.sent, raw)
	}
	round := msgRound(e.Msg)
	if round == 0 {
		round = sn.core.Round()
	}
	for _, to := range s.nodes {
		if to.inst == sn.inst || (e.To != "" && to.id != e.To) {
			continue
		}
		if !s.deliverable(round, sn.inst, to.inst) {
			continue
		}
		copies := 1
		if s.faults && s.opts.dropP > 0 && s.rng.Float64() < s.opts.dropP {
			copies = 0
		} else if s.faults && s.opts.dupP > 0 && s.rng.Float64() < s.opts.dupP {
			copies = 2
		}
		for range copies {
			d := s.opts.minDelay
			if s.opts.maxDelay > s.opts.minDelay {
				d += s.rng.IntN(s.opts.maxDelay - s.opts.minDelay + 1)
			}
			s.seq++
			s.queue = append(s.queue, inflight{at: s.now + d, seq: s.seq, from: sn.inst, to: to.inst, msg: raw})
		}
	}
}

func (s *sim) deliverable(round uint64, from, to int) bool {
	if s.opts.allowed != nil {
		return s.opts.allowed(round, from, to)
	}
	return s.part == nil || s.part[from] == s.part[to]
}

// checkOutgoing checks an honest node's message as it leaves: the state
// it depends on is persisted, and it is no double vote.
func (s *sim) checkOutgoing(sn *simNode, m *pb.Message, st *pb.SafetyState) {
	switch b := m.Body.(type) {
	case *pb.Message_Proposal:
		s.proposed[string(c0hash(b.Proposal.Block))] = true
	case *pb.Message_Vote:
		s.logf("%d(%s) votes %s", sn.inst, sn.id, describe(m))
		d := b.Vote.Data
		if st == nil || st.LastVotedRound < d.Round {
			s.fail("%s sent a vote for round %d before persisting it (persisted %v)", sn.id, d.Round, st.GetLastVotedRound())
		}
		if !sn.honest {
			return
		}
		key := string(types.EncodeCanonical(d))
		er := [2]uint64{m.Epoch, d.Round}
		vb := s.votesBy[sn.id]
		if vb == nil {
			vb = map[[2]uint64]string{}
			s.votesBy[sn.id] = vb
		}
		if prev, ok := vb[er]; ok && prev != key {
			s.fail("honest %s voted twice in round %d", sn.id, d.Round)
		}
		if s.timeoutBy[sn.id][er] {
			s.fail("honest %s voted in round %d after timing it out", sn.id, d.Round)
		}
		vb[er] = key
	case *pb.Message_Timeout:
		s.logf("%d(%s) sends %s", sn.inst, sn.id, describe(m))
		if st == nil || st.HighTimeoutRound < b.Timeout.Round {
			s.fail("%s sent a timeout for round %d before persisting it", sn.id, b.Timeout.Round)
		}
		if sn.honest {
			tb := s.timeoutBy[sn.id]
			if tb == nil {
				tb = map[[2]uint64]bool{}
				s.timeoutBy[sn.id] = tb
			}
			tb[[2]uint64{m.Epoch, b.Timeout.Round}] = true
		}
	}
}

// checkCommit checks agreement, prefix consistency and validity.
func (s *sim) checkCommit(sn *simNode, cm Commit) {
	s.commits++
	b := cm.Block
	s.logf("%d(%s) commits h%d r%d %s %q", sn.inst, sn.id, b.Height, b.Round, short(cm.Hash), b.Payload)
	if want := uint64(len(sn.chain)) + 1; b.Height != want {
		s.fail("%s committed height %d after %d: not a prefix extension", sn.id, b.Height, want-1)
		return
	}
	prev := c0hash(genesis().Block)
	if len(sn.chain) > 0 {
		prev = sn.chain[len(sn.chain)-1]
	}
	if !bytes.Equal(b.Parent, prev) {
		s.fail("%s committed h%d whose parent is not its previous commit", sn.id, b.Height)
	}
	if !s.proposed[string(cm.Hash)] {
		s.fail("%s committed h%d %s that nobody proposed", sn.id, b.Height, short(cm.Hash))
	}
	if pr, ok := s.resultOf[string(b.Parent)]; ok {
		want := execResult(pr, cm.Hash)
		if cm.Result != nil && !bytes.Equal(cm.Result, want) && !s.opts.bugs.oneChainCommit {
			s.fail("%s committed h%d with result %s, execution gives %s", sn.id, b.Height, short(cm.Result), short(want))
		}
		s.resultOf[string(cm.Hash)] = want
	}
	if !sn.honest {
		return
	}
	if got, ok := s.committedAt[b.Height]; ok && got != string(cm.Hash) {
		s.fail("agreement: %s committed %s at height %d, another honest node %s", sn.id, short(cm.Hash), b.Height, short([]byte(got)))
	} else if !ok {
		s.committedAt[b.Height] = string(cm.Hash)
		s.roundAt[b.Height] = b.Round
	}
}

// step runs one tick of virtual time.
func (s *sim) step(faults bool) {
	s.now++
	s.faults = faults
	if faults {
		if s.part != nil && s.now >= s.partEnd {
			s.part = nil
			s.logf("heal")
		}
		if s.part == nil && s.opts.partP > 0 && s.rng.Float64() < s.opts.partP {
			s.part = make([]int, len(s.nodes))
			for i := range s.part {
				s.part[i] = s.rng.IntN(2)
			}
			s.partEnd = s.now + 10 + s.rng.IntN(60)
			s.logf("partition %v until %d", s.part, s.partEnd)
		}
	} else if s.part != nil {
		s.part = nil
		s.logf("heal")
	}
	for _, sn := range s.nodes {
		if !sn.up && (s.now >= sn.downTil || !faults) {
			s.logf("restart %d(%s)", sn.inst, sn.id)
			s.start(sn)
		}
	}
	for _, sn := range s.nodes {
		sn.asked = false
		if !sn.up {
			continue
		}
		if err := sn.core.Tick(); err != nil {
			s.t.Fatalf("%s: Tick: %v", sn.id, err)
		}
		s.drain(sn)
	}
	// Deliver what is due, in (time, sequence) order.
	slices.SortFunc(s.queue, func(a, b inflight) int {
		if a.at != b.at {
			return a.at - b.at
		}
		return int(a.seq) - int(b.seq)
	})
	due := 0
	for due < len(s.queue) && s.queue[due].at <= s.now {
		due++
	}
	batch := slices.Clone(s.queue[:due])
	s.queue = s.queue[due:]
	for _, f := range batch {
		to := s.nodes[f.to]
		if !to.up {
			continue
		}
		m, err := DecodeMessage(f.msg)
		if err != nil {
			s.t.Fatalf("an honest node's message does not decode: %v", err)
		}
		if to.prev != nil && m.Epoch+1 == to.epoch {
			_ = to.prev.Step(s.nodes[f.from].id, m)
			rd := to.prev.Ready()
			for _, e := range rd.Messages {
				s.sendMsg(to, e)
			}
			to.prev.Advance()
			continue
		}
		if s.opts.askEnd && m.Epoch > to.epoch && !to.asked {
			to.asked = true
			s.logf("%d(%s) asks %d for the end of epoch %d", to.inst, to.id, f.from, to.epoch)
			s.sendMsg(to, Envelope{To: s.nodes[f.from].id, Msg: &pb.Message{Version: WireVersion, Epoch: to.epoch,
				Body: &pb.Message_FetchRequest{FetchRequest: &pb.FetchRequest{EpochEnd: true, Count: 32}}}})
		}
		if k := msgType(m); k == "fetch" || k == "blocks" {
			s.logf("%d(%s) gets %s from %d", to.inst, to.id, describe(m), f.from)
		}
		if err := to.core.Step(s.nodes[f.from].id, m); err != nil {
			s.errs++
			s.logf("%d(%s) refuses %s from %d: %v", to.inst, to.id, describe(m), f.from, err)
		}
		s.drain(to)
	}
	for _, sn := range s.nodes {
		if sn.up {
			s.maxRound = max(s.maxRound, sn.core.Round())
		}
	}
}

func (s *sim) heights() []int {
	out := make([]int, len(s.nodes))
	for i, sn := range s.nodes {
		out[i] = len(sn.chain)
	}
	return out
}

// run runs the fault phase and the calm phase, then checks liveness: in
// the calm phase every node commits.
func (s *sim) run() {
	for s.now < s.opts.ticks {
		s.step(true)
	}
	before := s.heights()
	for s.now < s.opts.ticks+s.opts.calmTicks {
		s.step(false)
	}
	if s.opts.noLive {
		return
	}
	after := s.heights()
	for i := range after {
		if after[i] < before[i]+3 {
			s.fail("liveness: node %d committed %d blocks in %d calm ticks (from height %d)", i, after[i]-before[i], s.opts.calmTicks, before[i])
		}
	}
}

func (s *sim) digest() string { return hex.EncodeToString(s.trace.Sum(nil)) }

func defaultSimOpts(seed uint64) simOpts {
	n := 4
	if seed%4 == 3 {
		n = 7
	}
	return simOpts{
		n: n, ticks: 400, calmTicks: 200, minDelay: 1, maxDelay: 4,
		dropP: 0.05, dupP: 0.05, crashP: 0.01, partP: 0.01,
	}
}

func seedsToRun(def int) []uint64 {
	if *flagSeed >= 0 {
		return []uint64{uint64(*flagSeed)}
	}
	n := def
	if *flagSeeds > 0 {
		n = *flagSeeds
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i)
	}
	return out
}

// runSeed runs one seeded simulation and reports its violations.
func runSeed(t *testing.T, seed uint64, o simOpts) *sim {
	s := newSim(t, seed, o, nil)
	if *flagSeed >= 0 {
		s.log = &strings.Builder{}
		defer func() { t.Log("\n" + s.log.String()) }()
	}
	s.run()
	return s
}

func TestSimulator(t *testing.T) {
	var commits, evidence, errs int
	for _, seed := range seedsToRun(300) {
		s := runSeed(t, seed, defaultSimOpts(seed))
		if len(s.violations) > 0 {
			t.Fatalf("seed %d (rerun with -bft.seed=%d): %s", seed, seed, s.violations[0].msg)
		}
		commits += s.commits
		evidence += s.evidence
		errs += s.errs
	}
	t.Logf("commits %d, evidence %d, refused messages %d", commits, evidence, errs)
	if evidence != 0 {
		t.Errorf("honest nodes produced %d pieces of equivocation evidence", evidence)
	}
}

// TestSimulatorSameTrace checks that a seed replays exactly.
func TestSimulatorSameTrace(t *testing.T) {
	for _, seed := range []uint64{1, 3, 42} {
		a := runSeed(t, seed, defaultSimOpts(seed))
		b := runSeed(t, seed, defaultSimOpts(seed))
		if a.digest() != b.digest() {
			t.Fatalf("seed %d gave two different traces", seed)
		}
		c := runSeed(t, seed+1000, defaultSimOpts(seed))
		if a.digest() == c.digest() {
			t.Fatalf("seeds %d and %d gave the same trace: the seed drives nothing", seed, seed+1000)
		}
	}
}

// TestSimulatorEpochChange changes the validator set at height 5: n4
// leaves and n5 (running from the start as an observer) joins. The new
// set must carry the chain on, the leaving node must follow it, and the
// blocks after the changing one in the old epoch must commit nothing.
func TestSimulatorEpochChange(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		o := defaultSimOpts(seed)
		o.n, o.changeAt = 4, 5
		o.dropP, o.crashP, o.partP = 0, 0, 0 // a node left behind in an old epoch needs block sync (the driver's)
		if *flagSeed >= 0 && uint64(*flagSeed) != seed {
			continue
		}
		s := newSim(t, seed, o, nil)
		if *flagSeed >= 0 {
			s.log = &strings.Builder{}
		}
		s.run()
		if s.log != nil {
			t.Log("\n" + s.log.String())
		}
		if len(s.violations) > 0 {
			t.Fatalf("seed %d: %s", seed, s.violations[0].msg)
		}
		votedIn := func(id string, epoch uint64) bool {
			for k := range s.votesBy[id] {
				if k[0] == epoch {
					return true
				}
			}
			return false
		}
		if votedIn("n5", 0) || !votedIn("n5", 1) || !votedIn("n4", 0) || votedIn("n4", 1) {
			t.Fatalf("seed %d: n4 voted in epochs 0/1: %v/%v, n5: %v/%v; want only n4 in 0 and only n5 in 1",
				seed, votedIn("n4", 0), votedIn("n4", 1), votedIn("n5", 0), votedIn("n5", 1))
		}
		for _, sn := range s.nodes {
			if sn.epoch != 1 {
				t.Fatalf("seed %d: %s is in epoch %d", seed, sn.id, sn.epoch)
			}
		}
		h := s.committedAt[6]
		if h == "" {
			t.Fatalf("seed %d: nothing committed above the change", seed)
		}
	}
}

// TestSimulatorEpochChangeUnderFaults changes the set as above on a
// network that drops, duplicates and partitions: a node cut off while the
// others switch is left in the old epoch, hears the new one, asks for the
// old epoch's end (served by the others' ended cores) and follows. Every
// honest node switches at the same block, nothing forks across the
// switch (the checker's agreement and prefix rules span both epochs), and
// no node votes in an epoch it is not a validator of.
func TestSimulatorEpochChangeUnderFaults(t *testing.T) {
	for _, seed := range seedsToRun(30) {
		o := defaultSimOpts(seed)
		o.n, o.changeAt, o.askEnd = 4, 5+seed%7, true
		o.crashP = 0 // a restarted node loses the ended core that serves the old epoch's end
		o.partP = 0.03
		s := newSim(t, seed, o, nil)
		if *flagSeed >= 0 {
			s.log = &strings.Builder{}
		}
		s.run()
		if s.log != nil {
			t.Log("\n" + s.log.String())
		}
		if len(s.violations) > 0 {
			t.Fatalf("seed %d: %s", seed, s.violations[0].msg)
		}
		for _, sn := range s.nodes {
			if sn.epoch != 1 {
				t.Fatalf("seed %d: %s is in epoch %d", seed, sn.id, sn.epoch)
			}
			if len(sn.chain) < int(o.changeAt) || string(sn.chain[o.changeAt-1]) != s.committedAt[o.changeAt] {
				t.Fatalf("seed %d: %s did not switch at the changing block", seed, sn.id)
			}
		}
		for k := range s.votesBy["n5"] {
			if k[0] == 0 {
				t.Fatalf("seed %d: n5 voted in epoch 0", seed)
			}
		}
		for k := range s.votesBy["n4"] {
			if k[0] == 1 {
				t.Fatalf("seed %d: n4 voted in epoch 1", seed)
			}
		}
	}
}

// TestSimulatorRealKeys runs the simulator with real signatures of each
// of the chain's schemes through package crypto, as a driver would
// configure the core.
func TestSimulatorRealKeys(t *testing.T) {
	for seed := uint64(0); seed < 3; seed++ {
		o := defaultSimOpts(seed)
		o.n, o.scheme = 4, []crypto.Scheme{crypto.Ed25519, crypto.SM2, crypto.P256}[seed]
		o.ticks, o.calmTicks = 200, 100
		s := newSim(t, seed, o, nil)
		s.run()
		if len(s.violations) > 0 {
			t.Fatalf("seed %d: %s", seed, s.violations[0].msg)
		}
		if s.commits == 0 {
			t.Fatalf("seed %d: nothing committed", seed)
		}
		t.Logf("%s: %d commits", o.scheme, s.commits)
	}
}

// TestReputationSkipsFailedLeader keeps n4 cut off for the whole run.
// Round-robin alone gives it every fourth round, and each of those ends in
// a timeout; with reputation the others skip it once it has failed, and
// take it back only after RepWindow rounds.
func TestReputationSkipsFailedLeader(t *testing.T) {
	failed := func(rr bool) (fails, rounds int) {
		o := simOpts{n: 4, calmTicks: 1500, minDelay: 1, maxDelay: 2, noLive: true}
		o.allowed = func(_ uint64, from, to int) bool { return from != 3 && to != 3 }
		if rr {
			o.schedule = func(r uint64) string { return fmt.Sprintf("n%d", r%4+1) }
		}
		s := newSim(t, 3, o, nil)
		s.run()
		if len(s.violations) > 0 {
			t.Fatal(s.violations[0].msg)
		}
		last := s.nodes[0].core.root.b.Round
		committed := map[uint64]bool{}
		for _, r := range s.roundAt {
			committed[r] = true
		}
		for r := uint64(1); r <= last; r++ {
			if !committed[r] {
				fails++
			}
		}
		return fails, int(last)
	}
	rrFails, rrRounds := failed(true)
	repFails, repRounds := failed(false)
	t.Logf("round-robin: %d of %d rounds failed; with reputation: %d of %d", rrFails, rrRounds, repFails, repRounds)
	if rrFails*5 < rrRounds {
		t.Fatalf("round-robin lost only %d of %d rounds to the dead leader: the test shows nothing", rrFails, rrRounds)
	}
	if repFails*10 > repRounds {
		t.Fatalf("with reputation %d of %d rounds still failed", repFails, repRounds)
	}
}
