package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/node"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// testNode runs a real node in-process on a free port, with a small pool so
// that "pool full" can be reached.
func testNode(t *testing.T) (url string, admin crypto.PrivateKey) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	home := t.TempDir()
	res, err := provision.Init(provision.Options{Home: home, ChainID: "api-test", BasePort: port})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(res.Nodes[0].Home, config.File)
	cfg, err := config.Load(res.Nodes[0].Home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Pool.MaxTxs = 16
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(res.Nodes[0].Home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, func(addr string) { ready <- addr }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node: %v", err)
		}
		n.Close()
	})
	select {
	case addr := <-ready:
		url = "http://" + addr
	case err := <-done:
		t.Fatalf("node stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("node did not start")
	}
	ks, _ := keystore.Open(res.KeysDir)
	k, err := ks.Get(provision.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	return url, k.Private
}

// call posts JSON to a method and returns the HTTP status and the decoded body.
func call(t *testing.T, url, method string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url+"/accord.api.v1.NodeService/"+method, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decoding the answer: %v", method, err)
	}
	return resp.StatusCode, out
}

func submit(t *testing.T, url string, raw []byte) (int, map[string]any) {
	t.Helper()
	return call(t, url, "SubmitTx", map[string]string{"tx": base64.StdEncoding.EncodeToString(raw)})
}

func sign(t *testing.T, k crypto.PrivateKey, mut func(p *pb.TxPayload)) *types.Tx {
	t.Helper()
	p := &pb.TxPayload{ChainId: "api-test", ExpiresAt: uint64(time.Now().Add(time.Hour).UnixMilli()), Contract: token.Name, Method: token.MethodMint}
	if mut != nil {
		mut(p)
	}
	tx, err := types.SignTx(p, k, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestBadInputStatusCodes checks each kind of bad input gets a fitting
// status code and a message, and that the chain goes on afterwards.
func TestBadInputStatusCodes(t *testing.T) {
	url, admin := testNode(t)
	alice, _ := crypto.GenerateKey(crypto.Ed25519, nil)
	aliceAddr := types.AddressOf(alice.Scheme(), alice.Public().Bytes())
	mint := func(nonce uint64, amount uint64) func(p *pb.TxPayload) {
		return func(p *pb.TxPayload) { p.Nonce, p.Args = nonce, tokencall.Mint(aliceAddr, amount) }
	}

	good := sign(t, admin, mint(0, 100))
	expect := func(name string, code int, connectCode, msg string, status int, out map[string]any) {
		t.Helper()
		if status != code || out["code"] != connectCode || !strings.Contains(out["message"].(string), msg) {
			t.Errorf("%s: HTTP %d %v, want %d %s with message containing %q", name, status, out, code, connectCode, msg)
		}
	}
	s, out := submit(t, url, []byte("not a transaction"))
	expect("malformed", 400, "invalid_argument", "malformed", s, out)
	s, out = submit(t, url, make([]byte, 40<<10))
	expect("oversize", 400, "invalid_argument", "too large", s, out)
	s, out = submit(t, url, sign(t, admin, func(p *pb.TxPayload) { mint(0, 1)(p); p.ChainId = "other" }).Raw)
	expect("wrong chain", 400, "invalid_argument", "wrong chain id", s, out)
	bad := bytes.Clone(good.Raw)
	bad[len(bad)-1] ^= 1
	s, out = submit(t, url, bad)
	expect("bad signature", 400, "invalid_argument", "invalid signature", s, out)
	s, out = submit(t, url, unknownScheme(t, good))
	expect("unknown scheme", 400, "invalid_argument", "unknown signature scheme", s, out)
	s, out = submit(t, url, sign(t, admin, func(p *pb.TxPayload) { mint(0, 1)(p); p.ExpiresAt = 1 }).Raw)
	expect("expired", 400, "invalid_argument", "expired", s, out)
	s, out = submit(t, url, sign(t, alice, mint(0, 1)).Raw)
	expect("non-issuer mint", 403, "permission_denied", "not the issuer", s, out)
	s, out = submit(t, url, sign(t, alice, func(p *pb.TxPayload) {
		p.Method, p.Args = token.MethodTransfer, tokencall.Transfer(aliceAddr, 5)
	}).Raw)
	expect("insufficient balance", 400, "failed_precondition", "insufficient balance", s, out)
	s, out = submit(t, url, sign(t, admin, mint(5000, 1)).Raw)
	expect("nonce far ahead", 400, "failed_precondition", "nonce too far ahead", s, out)

	// The good one is admitted once; a replay is a duplicate, and after it
	// commits, its nonce is stale.
	if s, out := submit(t, url, good.Raw); s != 200 || out["tx_id"] != good.ID.String() {
		t.Fatalf("good tx: %d %v", s, out)
	}
	s, out = submit(t, url, good.Raw)
	expect("replay in pool", 409, "already_exists", "already known", s, out)
	c := sdk.New(url)
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Wait(wctx, good.ID); err != nil {
		t.Fatal(err)
	}
	s, out = submit(t, url, good.Raw)
	expect("replay after commit", 400, "failed_precondition", "nonce already used", s, out)
	s, out = submit(t, url, sign(t, admin, mint(0, 7)).Raw)
	expect("stale nonce", 400, "failed_precondition", "nonce already used", s, out)

	// Queries.
	s, out = call(t, url, "GetAccount", map[string]string{"address": "xyz"})
	expect("malformed address", 400, "invalid_argument", "malformed address", s, out)
	s, out = call(t, url, "GetTx", map[string]string{"tx_id": strings.Repeat("0", 64)})
	expect("unknown tx", 404, "not_found", "not in a committed block", s, out)
	s, out = call(t, url, "GetBlock", map[string]string{"height": "999"})
	expect("future block", 404, "not_found", "no block", s, out)
	s, out = call(t, url, "GetTx", map[string]string{"tx_id": good.ID.String()})
	if s != 200 || out["height"] == "0" || out["receipt"].(map[string]any)["status"] != "TX_STATUS_OK" {
		t.Fatalf("GetTx of the committed mint: %d %v", s, out)
	}
	s, out = call(t, url, "GetAccount", map[string]string{"address": aliceAddr.String()})
	if s != 200 || out["balance"] != "100" {
		t.Fatalf("alice after the mint: %d %v", s, out)
	}

	// Pool full: nonces waiting behind a gap fill the 16-slot pool.
	var raws []string
	var waitingIDs []types.Hash
	for n := uint64(2); n < 2+20; n++ {
		tx := sign(t, admin, mint(n, 1))
		raws = append(raws, base64.StdEncoding.EncodeToString(tx.Raw))
		waitingIDs = append(waitingIDs, tx.ID)
	}
	s, out = call(t, url, "SubmitTxs", map[string]any{"txs": raws})
	if s != 200 {
		t.Fatalf("SubmitTxs: %d %v", s, out)
	}
	full := 0
	for _, r := range out["results"].([]any) {
		if r.(map[string]any)["code"] == "pool_full" {
			full++
		}
	}
	if full != 8 {
		t.Fatalf("%d of 20 waiting txs refused as pool_full, want 8 (waiting txs may fill 12 of 16 slots)", full)
	}
	s, out = submit(t, url, sign(t, admin, mint(30, 1)).Raw)
	expect("pool full", 429, "resource_exhausted", "pool full", s, out)

	// The chain goes on: the gap's nonce commits and unblocks the rest.
	fill := sign(t, admin, mint(1, 1))
	if s, out := submit(t, url, fill.Raw); s != 200 {
		t.Fatalf("filling the gap: %d %v", s, out)
	}
	last := waitingIDs[11] // nonce 13, the last admitted
	if _, err := c.Wait(wctx, last); err != nil {
		t.Fatalf("waiting txs did not commit after the gap filled: %v", err)
	}
	acct, err := c.Account(wctx, aliceAddr)
	if err != nil || acct.Balance != 100+1+12 {
		t.Fatalf("alice's balance %v, %v; want 113", acct, err)
	}
}

// unknownScheme re-signs nothing: it rewrites the signer's scheme to 9, so
// only the scheme check can refuse it.
func unknownScheme(t *testing.T, tx *types.Tx) []byte {
	t.Helper()
	p := proto.Clone(tx.Body).(*pb.TxPayload)
	p.Signer.Scheme = 9
	b, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return types.EncodeTx(b, tx.Signature)
}

func TestClassifyIdentityErrors(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("x: %w", identity.ErrRevoked):                            "cert_revoked",
		fmt.Errorf("x: %w", identity.ErrUnknownCA):                          "unknown_ca",
		fmt.Errorf("x: %w", identity.ErrExpired):                            "cert_expired",
		fmt.Errorf("x: %w", identity.ErrWrongRole):                          "wrong_role",
		fmt.Errorf("x: %w", identity.ErrFrozen):                             "frozen",
		fmt.Errorf("x: %w", identity.ErrPolicy):                             "policy",
		fmt.Errorf("x: %w", types.ErrUnbound):                               "not_registered",
		fmt.Errorf("x: %w", governance.ErrReplay):                           "replay",
		fmt.Errorf("x: %w", identity.ErrUnknownOrg):                         "unknown_org",
		fmt.Errorf("%w: %w", governance.ErrNotAdmin, identity.ErrWrongRole): "not_admin",
	} {
		if _, got := api.Classify(err); got != want {
			t.Errorf("Classify(%v) = %s, want %s", err, got, want)
		}
	}
}
