package bft

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
)

var (
	flagTwinsRounds  = flag.Int("bft.twins.rounds", 2, "rounds of generated leaders and partitions in the exhaustive Twins run (each adds a factor of 64)")
	flagTwinsSamples = flag.Int("bft.twins.samples", 300, "sampled Twins scenarios for 7 validators")
)

// A Twins scenario fixes, for each of its first rounds, the leader and a
// partition of the node instances (twins are two instances with one key:
// they equivocate and lose state while running honest code). Messages of
// those rounds cross only within a group; after them the network is whole
// and leaders rotate.
type twinsRound struct {
	leader string
	group  []int // by instance
}

type scenario []twinsRound

func (sc scenario) String() string {
	s := ""
	for i, r := range sc {
		s += fmt.Sprintf("r%d:%s%v ", i+1, r.leader, r.group)
	}
	return s
}

func twinsOpts(n int, sc scenario) simOpts {
	vids := ids(n)
	return simOpts{
		n: n, ticks: 0, calmTicks: 40, minDelay: 1, maxDelay: 1, roundTick: 4, noLive: true,
		schedule: func(r uint64) string {
			if r >= 1 && r <= uint64(len(sc)) {
				return sc[r-1].leader
			}
			return vids[r%uint64(n)]
		},
		allowed: func(r uint64, from, to int) bool {
			if r >= 1 && r <= uint64(len(sc)) {
				return sc[r-1].group[from] == sc[r-1].group[to]
			}
			return true
		},
	}
}

func runTwins(t testing.TB, n int, twins []string, sc scenario, b bugs) *sim {
	o := twinsOpts(n, sc)
	o.bugs = b
	s := newSim(t, 1, o, twins)
	s.run()
	return s
}

// partitions lists every split of k instances into at most two groups
// (instance 0 always in group 0).
func partitions(k int) [][]int {
	var out [][]int
	for m := 0; m < 1<<(k-1); m++ {
		g := make([]int, k)
		for i := 1; i < k; i++ {
			g[i] = (m >> (i - 1)) & 1
		}
		out = append(out, g)
	}
	return out
}

// TestTwinsExhaustive4 runs every scenario of -bft.twins.rounds rounds for
// four validators, one of them twinned: each round picks one of 4 leaders
// and one of 16 partitions of the 5 instances. No honest node may break
// safety.
func TestTwinsExhaustive4(t *testing.T) {
	const n = 4
	parts := partitions(n + 1)
	vids := ids(n)
	rounds := *flagTwinsRounds
	per := len(vids) * len(parts)
	total := 1
	for range rounds {
		total *= per
	}
	evidence := 0
	for k := 0; k < total; k++ {
		sc := make(scenario, rounds)
		x := k
		for i := range sc {
			c := x % per
			x /= per
			sc[i] = twinsRound{leader: vids[c%len(vids)], group: parts[c/len(vids)]}
		}
		s := runTwins(t, n, []string{"n1"}, sc, bugs{})
		if len(s.violations) > 0 {
			t.Fatalf("scenario %d %v: %s", k, sc, s.violations[0].msg)
		}
		evidence += s.evidence
	}
	t.Logf("%d scenarios, %d pieces of evidence", total, evidence)
	if evidence == 0 {
		t.Error("no scenario produced equivocation evidence, though the twin leads and equivocates in many")
	}
}

func randomScenario(rng *rand.Rand, n, instances, rounds int) scenario {
	vids := ids(n)
	sc := make(scenario, rounds)
	for i := range sc {
		g := make([]int, instances)
		for j := 1; j < instances; j++ {
			g[j] = rng.IntN(2)
		}
		sc[i] = twinsRound{leader: vids[rng.IntN(n)], group: g}
	}
	return sc
}

// TestTwinsSampled7 samples scenarios for seven validators with f = 2 of
// them twinned.
func TestTwinsSampled7(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for k := 0; k < *flagTwinsSamples; k++ {
		sc := randomScenario(rng, 7, 9, 5)
		s := runTwins(t, 7, []string{"n1", "n2"}, sc, bugs{})
		if len(s.violations) > 0 {
			t.Fatalf("sample %d %v: %s", k, sc, s.violations[0].msg)
		}
	}
}

// TestTwinsBeyondF checks the checker: with f+1 = 2 of 4 validators
// twinned, some scenario must break agreement among the two honest nodes,
// and the checker must say so.
func TestTwinsBeyondF(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for k := 0; k < 3000; k++ {
		sc := randomScenario(rng, 4, 6, 4)
		s := runTwins(t, 4, []string{"n1", "n2"}, sc, bugs{})
		for _, v := range s.violations {
			t.Logf("sample %d %v caught: %s", k, sc, v.msg)
			return
		}
	}
	t.Fatal("no scenario with f+1 twins broke safety: the checker or the generator is blind")
}
