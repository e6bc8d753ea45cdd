package execution

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// schedule is how one block runs in parallel. It depends only on the block.
//
// Transactions that access a key exclusively are in one group, which owns
// the key; groups share no exclusive key. A group is cut into segments
// before each transaction that must see credits other groups made to its
// keys since its last access; the segment waits for the segments that made
// them, and for the group's segment before it. Every wait is for a segment
// that starts earlier in the block, so the waits never form a cycle, and
// segments numbered by their first transaction are in an order that runs.
type schedule struct {
	txs  []txPlan
	keys []keyPlan // by key number

	groups, largest int
	// segs holds the transactions of segment g, in block order, at
	// segs[sstart[g]:sstart[g+1]].
	segs, sstart []int32
	// succ holds at succ[succStart[g]:succStart[g+1]] the segments that
	// wait for segment g (with repeats); npred[g] counts the entries that
	// name g.
	succ, succStart, npred []int32
	// slotTx is the transaction that makes the credit of each slot.
	slotTx []int32
	// credited says, by key number, whether a transaction credits the key:
	// the merge must then follow its value.
	credited []bool
	// naccess and ncredits count the block's declared accesses and credits.
	naccess, ncredits int
}

type txPlan struct {
	acc   []access // nil for a transaction invalid whatever the state
	group int32
	seg   int32
	// off and coff count the accesses and the credits the transactions
	// before this one declare: where its results go in arrays that hold
	// room for each.
	off, coff int32
	kept      any // AccessList.Keep
}

// keyPlan is what the block does with one state key.
type keyPlan struct {
	key []byte
	// firstExcl and lastExcl are the first and last transactions that
	// access the key exclusively, or -1.
	firstExcl, lastExcl int32
	// owner is the group of those transactions, or -1.
	owner int32
	// slot0 and slotEnd bound the key's credit slots, which hold, in block
	// order, the credits made before lastExcl: the owner adds them in
	// before it accesses the key. fill counts slots handed out.
	slot0, slotEnd, fill int32
}

// maxPredictChunks bounds the chunks of a block predicted in parallel.
const maxPredictChunks = 8

// predictChunk predicts a run of a block's transactions.
type predictChunk struct {
	lo, hi int
	acc    AccessList
	arena  arena
	why    string
}

// plan predicts every transaction's accesses and builds the schedule. It
// fills the receipts of transactions that are invalid whatever the state
// (wrong chain id, expired), with their encodings and Merkle leaves. A
// non-empty why says why the block cannot run in parallel.
func (e *Executor) plan(in *BlockInput, gv verdicts, workers int, receipts []pb.Receipt, encoded [][]byte, leaves []types.Hash) (s *schedule, why string) {
	n := len(in.Txs)
	s = &schedule{txs: make([]txPlan, n)}
	chunks := make([]predictChunk, min(workers, maxPredictChunks))
	var wg sync.WaitGroup
	for c := range chunks {
		ch := &chunks[c]
		ch.lo, ch.hi = c*n/len(chunks), (c+1)*n/len(chunks)
		wg.Go(func() { e.predict(in, gv, s, ch, receipts, encoded, leaves) })
	}
	wg.Wait()
	naccess := 0
	for c := range chunks {
		if chunks[c].why != "" {
			return nil, chunks[c].why
		}
		naccess += len(chunks[c].acc.entries)
	}
	s.naccess = naccess
	s.group(s.joinExclusive(naccess))
	s.slot()
	s.segment()
	return s, ""
}

// predict fills the access lists of one chunk of transactions.
func (e *Executor) predict(in *BlockInput, gv verdicts, s *schedule, ch *predictChunk, receipts []pb.Receipt, encoded [][]byte, leaves []types.Hash) {
	ch.acc.arena = &ch.arena
	ch.acc.entries = make([]access, 0, 4*(ch.hi-ch.lo))
	for i := ch.lo; i < ch.hi; i++ {
		tx := in.Txs[i]
		if tx == nil || tx.Body == nil {
			ch.why = notDecoded(in.Height, i).Error()
			return
		}
		if msg, ok := e.precheck(tx, in.Time, gv.at(i)); !ok {
			rc := &receipts[i]
			rc.Status, rc.Message = statusInvalid, msg
			encoded[i] = types.EncodeReceipt(rc)
			leaves[i] = e.cfg.Hash.Sum(encoded[i])
			continue
		}
		ch.acc.begin()
		ch.acc.add(ch.arena.concat(noncePrefix, tx.Sender[:]), exclusive)
		body := tx.Body
		if c, ok := e.contracts[body.Contract]; ok {
			if c.predictor == nil {
				ch.why = fmt.Sprintf("contract %q does not predict its accesses", body.Contract)
				return
			}
			ch.acc.prefix = c.prefix
			if !c.predictor.Predict(&ch.acc, tx.Sender, body.Method, body.Args) {
				ch.why = fmt.Sprintf("contract %q cannot predict transaction %d (method %q)", body.Contract, i, body.Method)
				return
			}
		} else if e.user != nil {
			ch.why = fmt.Sprintf("transaction %d calls user contract %q, which does not predict its accesses", i, body.Contract)
			return
		}
		s.txs[i].acc, s.txs[i].kept = ch.acc.current(), ch.acc.kept
	}
}

// joinExclusive numbers the block's distinct keys in the order the block
// first declares them, and puts every two transactions that access one key
// exclusively in one set, returned as a union-find forest over transaction
// indices. naccess is the number of declared accesses.
func (s *schedule) joinExclusive(naccess int) []int32 {
	s.keys = make([]keyPlan, 0, naccess)
	table := newKeyTable(naccess)
	parent := make([]int32, len(s.txs))
	for i := range parent {
		parent[i] = int32(i)
	}
	var off, coff int32
	for i := range s.txs {
		s.txs[i].off, s.txs[i].coff = off, coff
		off += int32(len(s.txs[i].acc))
		for j := range s.txs[i].acc {
			a := &s.txs[i].acc[j]
			a.id = table.number(s, a.key)
			if a.kind != exclusive {
				coff++
				continue
			}
			k := &s.keys[a.id]
			if k.firstExcl < 0 {
				k.firstExcl = int32(i)
			} else {
				union(parent, int32(i), k.firstExcl)
			}
			k.lastExcl = int32(i)
		}
	}
	s.ncredits = int(coff)
	return parent
}

// keyTable numbers keys: an open-addressing hash table from a key to its
// index in schedule.keys. The hash only places entries; the numbers depend
// on the block alone.
type keyTable struct {
	seed  maphash.Seed
	slots []int32 // key number + 1; 0 is free
}

func newKeyTable(n int) *keyTable {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return &keyTable{seed: maphash.MakeSeed(), slots: make([]int32, size)}
}

// number returns the number of key, adding it to s.keys if it is new.
func (t *keyTable) number(s *schedule, key []byte) int32 {
	mask := uint64(len(t.slots) - 1)
	for i := maphash.Bytes(t.seed, key) & mask; ; i = (i + 1) & mask {
		v := t.slots[i]
		if v == 0 {
			s.keys = append(s.keys, keyPlan{key: key, firstExcl: -1, lastExcl: -1, owner: -1})
			t.slots[i] = int32(len(s.keys))
			return int32(len(s.keys) - 1)
		}
		if bytes.Equal(s.keys[v-1].key, key) {
			return v - 1
		}
	}
}

// sortedKeys returns the key numbers in key order.
func (s *schedule) sortedKeys() []int32 {
	ids := make([]int32, len(s.keys))
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortFunc(ids, func(a, b int32) int { return bytes.Compare(s.keys[a].key, s.keys[b].key) })
	return ids
}

func find(parent []int32, x int32) int32 {
	for parent[x] != x {
		parent[x] = parent[parent[x]]
		x = parent[x]
	}
	return x
}

// union joins the sets of a and b. The root is the smaller index, so that
// a set's root is its first transaction.
func union(parent []int32, a, b int32) {
	a, b = find(parent, a), find(parent, b)
	if a == b {
		return
	}
	if a > b {
		a, b = b, a
	}
	parent[b] = a
}

// group numbers the sets of parent as groups, in the order of their first
// transactions, and sets every transaction's group and every key's owner.
func (s *schedule) group(parent []int32) {
	var size []int
	for i := range s.txs {
		t := &s.txs[i]
		if t.acc == nil {
			t.group = -1
			continue
		}
		if r := find(parent, int32(i)); r == int32(i) {
			t.group = int32(len(size))
			size = append(size, 0)
		} else {
			t.group = s.txs[r].group
		}
		size[t.group]++
	}
	s.groups = len(size)
	for _, n := range size {
		s.largest = max(s.largest, n)
	}
	for k := range s.keys {
		if f := s.keys[k].firstExcl; f >= 0 {
			s.keys[k].owner = s.txs[f].group
		}
	}
}

// slotted reports whether transaction i's credit a is read by the key's
// owner: the owner accesses the key exclusively after it. The owner then
// adds it in, from a slot, before that access.
func (s *schedule) slotted(i int, a *access) bool {
	k := &s.keys[a.id]
	return a.kind == credit && k.owner >= 0 && int32(i) < k.lastExcl
}

// waits reports whether transaction i's credit a makes its group wait for
// the group owning the key.
func (s *schedule) waits(i int, a *access) bool {
	return s.slotted(i, a) && s.keys[a.id].owner != s.txs[i].group
}

// slot gives each credit that its key's owner reads a slot, in block order
// per key.
func (s *schedule) slot() {
	s.credited = make([]bool, len(s.keys))
	for i := range s.txs {
		for _, a := range s.txs[i].acc {
			if a.kind != credit {
				continue
			}
			k := &s.keys[a.id]
			s.credited[a.id] = true
			if s.slotted(i, &a) {
				k.slotEnd++
			}
		}
	}
	var n int32
	for k := range s.keys {
		kp := &s.keys[k]
		kp.slot0 = n
		n += kp.slotEnd
		kp.slotEnd = n
		kp.fill = kp.slot0
	}
	s.slotTx = make([]int32, n)
	if n == 0 {
		return
	}
	for i := range s.txs {
		for j := range s.txs[i].acc {
			if a := &s.txs[i].acc[j]; s.slotted(i, a) {
				k := &s.keys[a.id]
				a.slot = k.fill
				s.slotTx[k.fill] = int32(i)
				k.fill++
			}
		}
	}
}

// segment cuts the groups into segments and draws the waits between them.
func (s *schedule) segment() {
	n := len(s.txs)
	// Walking the block backwards, find for each credit another group
	// must see the transaction that first needs it: the owner's next
	// exclusive access to the key.
	var deps [][2]int32 // credit's transaction, the transaction that needs it
	cut := make([]bool, n)
	nextExcl := make([]int32, len(s.keys))
	for i := n - 1; i >= 0; i-- {
		for j := range s.txs[i].acc {
			a := &s.txs[i].acc[j]
			switch {
			case a.kind == exclusive:
				nextExcl[a.id] = int32(i)
			case s.waits(i, a):
				need := nextExcl[a.id]
				deps = append(deps, [2]int32{int32(i), need})
				cut[need] = true
			}
		}
	}
	cur := make([]int32, s.groups) // each group's open segment
	for g := range cur {
		cur[g] = -1
	}
	var edges [][2]int32
	s.sstart = []int32{0}
	for i := range s.txs {
		t := &s.txs[i]
		if t.group < 0 {
			continue
		}
		if c := cur[t.group]; c < 0 || cut[i] {
			seg := int32(len(s.sstart) - 1)
			if c >= 0 {
				edges = append(edges, [2]int32{c, seg})
			}
			cur[t.group] = seg
			s.sstart = append(s.sstart, 0)
		}
		t.seg = cur[t.group]
		s.sstart[t.seg+1]++
	}
	for _, d := range deps {
		edges = append(edges, [2]int32{s.txs[d[0]].seg, s.txs[d[1]].seg})
	}
	nseg := len(s.sstart) - 1
	for g := range nseg {
		s.sstart[g+1] += s.sstart[g]
	}
	s.segs = make([]int32, s.sstart[nseg])
	next := slices.Clone(s.sstart[:nseg])
	for i := range s.txs {
		if g := s.txs[i].seg; s.txs[i].group >= 0 {
			s.segs[next[g]] = int32(i)
			next[g]++
		}
	}
	s.succStart, s.succ = csr(nseg, edges)
	s.npred = make([]int32, nseg)
	for _, e := range edges {
		s.npred[e[1]]++
	}
}

// csr lays out the edges of a graph on n nodes as adjacency lists: node v's
// successors are adj[start[v]:start[v+1]], in the edges' order.
func csr(n int, edges [][2]int32) (start, adj []int32) {
	start = make([]int32, n+1)
	for _, e := range edges {
		start[e[0]+1]++
	}
	for v := range n {
		start[v+1] += start[v]
	}
	adj = make([]int32, len(edges))
	next := slices.Clone(start[:n])
	for _, e := range edges {
		adj[next[e[0]]] = e[1]
		next[e[0]]++
	}
	return start, adj
}
