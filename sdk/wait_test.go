package sdk_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/node/nodetest"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// TestWaitOK: a transaction admitted but failed in its block comes back
// from WaitOK as a *TxError with the receipt's reason; a good one as its
// receipt.
func TestWaitOK(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	home := filepath.Join(t.TempDir(), "dev")
	if _, err := provision.Init(provision.Options{Home: home}); err != nil {
		t.Fatal(err)
	}
	c := sdk.New(nodetest.Start(t, provision.NodeHome(home, 0), nil))
	ks, err := keystore.Open(provision.KeysDir(home))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Get(provision.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := ks.New("alice", crypto.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := c.Mint(ctx, admin.Private, alice.Address, 10)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.WaitOK(ctx, id); err != nil || r.Receipt.Status != pb.TxStatus_TX_STATUS_OK {
		t.Fatalf("WaitOK of a good mint: %v", err)
	}
	// Two transfers of 8 out of 10, admitted together against the
	// committed balance: the second fails when it executes.
	var raws [][]byte
	for n := uint64(0); n < 2; n++ {
		tx, err := c.Sign(ctx, alice.Private, sdk.Call{Contract: tokencall.Name, Method: tokencall.MethodTransfer, Args: tokencall.Transfer(admin.Address, 8), Nonce: &n})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, tx.Raw)
	}
	res, err := c.SubmitBatch(ctx, raws)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Error != "" {
			t.Fatalf("admission refused a transfer the committed balance covers: %s", r.Error)
		}
	}
	if _, err := c.WaitOK(ctx, mustID(t, res[0].TxId)); err != nil {
		t.Fatalf("WaitOK of the first transfer: %v", err)
	}
	_, err = c.WaitOK(ctx, mustID(t, res[1].TxId))
	var failed *sdk.TxError
	if !errors.As(err, &failed) || failed.Status != pb.TxStatus_TX_STATUS_FAILED || !strings.Contains(failed.Message, "insufficient balance") || failed.Height == 0 {
		t.Fatalf("WaitOK of the second transfer: %v, want a *sdk.TxError for a failed transaction with insufficient balance", err)
	}
}

func mustID(t *testing.T, s string) types.Hash {
	t.Helper()
	h, err := types.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
