package wasm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// TestRandomCallsAgree runs a seeded random mix of calls, with random
// arguments and gas limits (many too low, so calls run out at arbitrary
// points), on both engines and requires equal results, gas, errors, state
// and events for every call. ACCORD_VM_CALLS raises the number of calls
// (the acceptance run is 10000); ACCORD_VM_SEED replays a seed.
func TestRandomCallsAgree(t *testing.T) {
	n := 150
	if s := os.Getenv("ACCORD_VM_CALLS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	seed := uint64(rand.Int64())
	if s := os.Getenv("ACCORD_VM_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (replay with ACCORD_VM_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	h := [2]*memHost{newHost(), newHost()}
	floats := []string{"0", "-0", "1", "-1", "1e308", "-1e308", "5e-324", "3.5"}
	for i := 0; i < n; i++ {
		var name, method, args string
		switch rng.IntN(8) {
		case 0, 1:
			name, method, args = "counter", "increment", fmt.Sprintf(`{"by": %d}`, rng.IntN(5))
		case 2:
			name, method = "counter", "get"
		case 3:
			name, method = "probe", "nan"
			args = fmt.Sprintf(`{"a": %s, "b": %s}`, floats[rng.IntN(len(floats))], floats[rng.IntN(len(floats))])
		case 4:
			name, method, args = "probe", "recurse", fmt.Sprintf(`{"n": %d}`, rng.IntN(1500))
		case 5:
			name, method, args = "probe", "json_once", fmt.Sprintf(`{"n": %d}`, rng.IntN(1000))
		case 6:
			name, method = "probe", []string{"write", "revert", "leak", "spin"}[rng.IntN(4)]
		case 7:
			name, method, args = "probe", "bomb", fmt.Sprintf(`{"n": %d}`, rng.IntN(3))
		}
		limit := uint64(gas)
		if rng.IntN(3) == 0 || method == "spin" {
			limit = uint64(rng.IntN(300_000))
		}
		both(t, h, name, method, args, limit)
	}
}
