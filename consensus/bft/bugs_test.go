package bft

import (
	"math/rand/v2"
	"testing"
)

// Planted bugs: rules known to be unsafe, switched on only here. Each test
// requires the simulator (random faults, or Twins) to catch the bug; a
// checker that misses one is blind to a class of real bugs.

func catchInSim(t *testing.T, b bugs, seeds int) {
	t.Helper()
	for seed := uint64(0); seed < uint64(seeds); seed++ {
		o := defaultSimOpts(seed)
		o.bugs = b
		o.noLive = true
		s := newSim(t, seed, o, nil)
		s.run()
		if len(s.violations) > 0 {
			t.Logf("seed %d caught it: %s", seed, s.violations[0].msg)
			return
		}
	}
	t.Fatalf("the planted bug went unnoticed in %d seeds", seeds)
}

func catchInTwins(t *testing.T, b bugs, samples int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	for k := 0; k < samples; k++ {
		sc := randomScenario(rng, 4, 5, 4)
		s := runTwins(t, 4, []string{"n1"}, sc, b)
		if len(s.violations) > 0 {
			t.Logf("scenario %v caught it: %s", sc, s.violations[0].msg)
			return
		}
	}
	t.Fatalf("the planted bug went unnoticed in %d Twins scenarios", samples)
}

// Voting without the round rule: a validator may vote twice in a round,
// or after timing it out.
func TestPlantedNoRoundRule(t *testing.T) {
	t.Run("sim", func(t *testing.T) { catchInSim(t, bugs{noRoundRule: true}, 200) })
	t.Run("twins", func(t *testing.T) { catchInTwins(t, bugs{noRoundRule: true}, 2000) })
}

// Committing on a one-chain: a certified block may still be abandoned.
// Twins' group partitions cannot show it (a group that certifies a block
// holds a quorum, so every TC carries its QC); lost messages can.
func TestPlantedOneChainCommit(t *testing.T) {
	catchInSim(t, bugs{oneChainCommit: true}, 200)
}

// Accepting a QC of f+1 votes: two partitions certify and commit
// different blocks.
func TestPlantedWeakQuorum(t *testing.T) {
	t.Run("sim", func(t *testing.T) { catchInSim(t, bugs{weakQuorum: true}, 200) })
	t.Run("twins", func(t *testing.T) { catchInTwins(t, bugs{weakQuorum: true}, 2000) })
}
