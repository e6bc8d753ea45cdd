package chain

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// TestApplyVerifiesBlocksFromPeers: on a network, a decided block's
// signatures are checked before it executes: one bad signature refuses
// the block, naming the transaction; the same transaction correctly
// signed executes.
func TestApplyVerifiesBlocksFromPeers(t *testing.T) {
	key, err := crypto.GenerateKey(crypto.Ed25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := &pb.TxPayload{ChainId: "test", ExpiresAt: 1 << 62, Contract: token.Name, Method: token.MethodTransfer,
		Args: tokencall.Transfer(types.Address{1}, 1)}
	good, err := types.SignTx(body, key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	// As a peer's block brings it: decoded afresh, its signature unchecked.
	fresh := func(raw []byte) *types.Tx {
		tx, err := types.DecodeTx(raw, crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	sig := good.Signature
	forged := bytes.Replace(bytes.Clone(good.Raw), sig, append([]byte{sig[0] ^ 1}, sig[1:]...), 1)

	c := testChain(t, 1000, fakePeers{3}, nil)
	ctx := context.Background()
	err = c.Apply(ctx, &consensus.Proposal{Height: 1, Time: 1001, Txs: []*types.Tx{fresh(forged)}})
	if err == nil || !strings.Contains(err.Error(), "block 1: transaction") {
		t.Fatalf("a block with a forged signature: %v, want it refused naming the transaction", err)
	}
	if h, _ := c.Last(); h != 0 {
		t.Fatalf("the refused block moved the chain to height %d", h)
	}
	if err := c.Apply(ctx, &consensus.Proposal{Height: 1, Time: 1001, Txs: []*types.Tx{fresh(good.Raw)}}); err != nil {
		t.Fatalf("the same block correctly signed: %v", err)
	}
	if h, _ := c.Last(); h != 1 {
		t.Fatalf("height %d after the good block, want 1", h)
	}
}
