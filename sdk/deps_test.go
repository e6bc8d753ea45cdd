package sdk

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerDeps keeps the executor and the node out of every client:
// the SDK builds calls with the contracts' call packages (tokencall,
// govcall), never with the contracts themselves.
func TestNoServerDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const mod = "github.com/accord-chain/accord/"
	forbidden := []string{"execution", "node", "store", "txpool", "consensus", "contracts/token", "contracts/governance"}
	for _, p := range strings.Fields(string(out)) {
		rel, ok := strings.CutPrefix(p, mod)
		if !ok {
			continue
		}
		for _, f := range forbidden {
			// The contracts' call packages are meant for clients.
			if (rel == f || strings.HasPrefix(rel, f+"/")) && !strings.HasSuffix(rel, "call") {
				t.Errorf("the SDK depends on %s; clients must not link it (build calls with a contract's call package)", p)
			}
		}
	}
}
