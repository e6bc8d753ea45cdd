package node

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func initHome(t *testing.T, o InitOptions) *InitResult {
	t.Helper()
	if o.Home == "" {
		o.Home = t.TempDir()
	}
	res, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestApplyPersistsAcrossReopen drives the node's Applier directly: a mint
// and a failing transfer commit, the node closes, and a reopened node
// resumes at the same tip with the same state.
func TestApplyPersistsAcrossReopen(t *testing.T) {
	res := initHome(t, InitOptions{})
	home := res.Nodes[0].Home
	n, err := Open(home, quiet)
	if err != nil {
		t.Fatal(err)
	}
	genesisTip := n.store.Tip()
	if genesisTip.Height != 0 || genesisTip.Empty || genesisTip.StateHash == ([32]byte{}) {
		t.Fatalf("genesis tip: %+v", genesisTip)
	}
	ks, _ := keystore.Open(res.KeysDir)
	admin, err := ks.Get(AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := crypto.GenerateKey(crypto.P256, nil)
	aliceAddr := types.AddressOf(alice.Scheme(), alice.Public().Bytes())
	sign := func(k crypto.PrivateKey, nonce uint64, method string, args []byte) *types.Tx {
		tx, err := types.SignTx(&pb.TxPayload{ChainId: "accord-dev", Nonce: nonce, ExpiresAt: 1 << 62, Contract: token.Name, Method: method, Args: args}, k, n.hash)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	txs := []*types.Tx{
		sign(admin.Private, 0, token.MethodMint, tokencall.Mint(aliceAddr, 500)),
		sign(alice, 0, token.MethodTransfer, tokencall.Transfer(admin.Address, 501)),
	}
	if err := n.chain.Apply(context.Background(), &consensus.Proposal{Height: 1, Time: genesisTip.Time + 1, Txs: txs}); err != nil {
		t.Fatal(err)
	}
	if err := n.chain.Apply(context.Background(), &consensus.Proposal{Height: 3, Time: genesisTip.Time + 2}); err == nil {
		t.Fatal("a proposal that skips a height was applied")
	}
	if err := n.chain.Flush(); err != nil {
		t.Fatal(err)
	}
	tip := n.store.Tip()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n, err = Open(home, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got := n.store.Tip(); got != tip {
		t.Fatalf("reopened tip %+v, want %+v", got, tip)
	}
	bal, _ := token.Balance(n.store.State(), aliceAddr)
	nonce, _ := execution.Nonce(n.store.State(), aliceAddr)
	if bal != 500 || nonce != 1 {
		t.Fatalf("alice after reopen: balance %d nonce %d, want 500 and 1 (failed transfer moves only the nonce)", bal, nonce)
	}
}

func TestRefusesChangedGenesis(t *testing.T) {
	res := initHome(t, InitOptions{})
	home := res.Nodes[0].Home
	n, err := Open(home, quiet)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	path := filepath.Join(home, config.GenesisFile)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "accord-dev", "accord-other", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(home, quiet); err == nil || !strings.Contains(err.Error(), "differs from the genesis") {
		t.Fatalf("open with a changed genesis: %v", err)
	}
}
