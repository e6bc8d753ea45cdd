package txpool

// readyQueue is the global FIFO of ready entries. Entries leave it lazily:
// a slot is live while its entry is ready with the same ticket, so taking
// an entry out only counts a dead slot, and dead slots are compacted away
// once they outnumber live ones.
type readyQueue struct {
	slots []slot
	head  int
	dead  int // dead slots at or after head
	seq   uint64
}

type slot struct {
	e   *entry
	seq uint64
}

func (s slot) live() bool { return s.e.state == ready && s.e.seq == s.seq }

func (q *readyQueue) push(e *entry) {
	q.seq++
	e.seq = q.seq
	q.slots = append(q.slots, slot{e: e, seq: q.seq})
}

func (q *readyQueue) forget() { q.dead++ }

// peek skips dead slots and returns the first live entry.
func (q *readyQueue) peek() (*entry, bool) {
	for q.head < len(q.slots) {
		if s := q.slots[q.head]; s.live() {
			return s.e, true
		}
		q.slots[q.head] = slot{}
		q.head++
		q.dead--
	}
	q.reset()
	return nil, false
}

// pop removes the entry peek returned.
func (q *readyQueue) pop() {
	q.slots[q.head] = slot{}
	q.head++
	if q.head == len(q.slots) {
		q.reset()
	} else if q.head > 1024 && q.head > len(q.slots)/2 {
		q.compact()
	}
}

func (q *readyQueue) reset() {
	q.slots = q.slots[:0]
	q.head = 0
	q.dead = 0
}

func (q *readyQueue) maybeCompact() {
	if q.dead > 1024 && q.dead > (len(q.slots)-q.head)/2 {
		q.compact()
	}
}

// compact moves the live slots to the front, in order.
func (q *readyQueue) compact() {
	n := 0
	for _, s := range q.slots[q.head:] {
		if s.live() {
			q.slots[n] = s
			n++
		}
	}
	clear(q.slots[n:])
	q.slots = q.slots[:n]
	q.head = 0
	q.dead = 0
}
