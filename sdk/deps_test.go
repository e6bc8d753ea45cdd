package sdk

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoServerDeps keeps the executor and the node out of every client:
// the SDK, and the contracts' call packages (tokencall, govcall, paycall) that
// clients build calls with, link none of them.
func TestNoServerDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".",
		"github.com/accord-chain/accord/contracts/token/tokencall",
		"github.com/accord-chain/accord/contracts/governance/govcall",
		"github.com/accord-chain/accord/contracts/pay/paycall").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const mod = "github.com/accord-chain/accord/"
	// Whole trees a client must not link, and the contracts themselves
	// (their call and pb packages are meant for clients).
	trees := []string{"execution", "node", "store", "txpool", "consensus"}
	contracts := []string{"contracts/token", "contracts/governance", "contracts/pay"}
	for _, p := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(p, mod)
		if !ok {
			continue
		}
		bad := slices.Contains(contracts, rel)
		for _, tree := range trees {
			bad = bad || rel == tree || strings.HasPrefix(rel, tree+"/")
		}
		if bad {
			t.Errorf("a client package depends on %s; clients must not link it (build calls with a contract's call package)", p)
		}
	}
}
