package cli

import (
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// TestPayFlow runs the walkthrough of docs/payments.md against a node in
// this process: a merchant is added; its owner requests a payment (with a
// QR code); a customer pays it once, and pays the merchant without a
// request; the owner refunds part of the first payment, but not more than
// was paid, and cancels a request; the day's statement adds it all up and
// lists the entries in order; the customer's history pages newest first.
func TestPayFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	dir := t.TempDir()
	net := filepath.Join(dir, "net")
	var res struct {
		KeysDir string `json:"keys_dir"`
		ChainID string `json:"chain_id"`
		Nodes   []struct{ Home string }
	}
	if err := json.Unmarshal([]byte(ok(t, "init", "--home", net, "-o", "json")), &res); err != nil {
		t.Fatal(err)
	}
	url := startNode(t, res.Nodes[0].Home)
	k := func(args ...string) []string { return append(args, "--keys", res.KeysDir, "--node", url) }
	addr := func(name string) string {
		ok(t, "keys", "new", name, "--keys", res.KeysDir)
		return strings.TrimSpace(ok(t, "keys", "show", name, "--keys", res.KeysDir, "--address"))
	}
	shop, alice := addr("shop"), addr("alice")
	ok(t, k("tx", "mint", "--to", alice, "--amount", "1000", "--wait")...)

	ok(t, k("pay", "merchant", "add", "--id", "cafe-1", "--name", "Cafe One", "--owner", shop, "--from", "admin", "--wait")...)
	wantError(t, "not_authorised", k("pay", "merchant", "add", "--id", "cafe-2", "--owner", shop, "--from", "alice", "--wait")...)
	var m merchantJSON
	if err := json.Unmarshal([]byte(ok(t, k("pay", "merchant", "show", "cafe-1", "-o", "json")...)), &m); err != nil || m.Owner != shop || m.Name != "Cafe One" {
		t.Fatalf("merchant show: %+v, %v", m, err)
	}
	if out := ok(t, k("pay", "merchant", "list", "-o", "json")...); !strings.Contains(out, `"id": "cafe-1"`) {
		t.Fatalf("merchant list: %s", out)
	}

	qr := filepath.Join(dir, "req.png")
	var req struct {
		ID, URI, Status string
	}
	out := ok(t, k("pay", "request", "--merchant", "cafe-1", "--amount", "120", "--expires", "15m", "--memo", "two coffees", "--from", "shop", "--wait", "--qr", qr, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &req); err != nil || req.Status != "ok" {
		t.Fatalf("pay request: %s", out)
	}
	u, err := paycall.ParseURI(req.URI)
	if err != nil || u.Chain != res.ChainID || u.Merchant != "cafe-1" || u.Amount != 120 || u.Request.String() != req.ID {
		t.Fatalf("uri %q = %+v, %v; want the chain, merchant, request and amount", req.URI, u, err)
	}
	f, err := os.Open(qr)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() < 200 {
		t.Fatalf("--qr wrote no usable PNG: %v", err)
	}

	var p1 struct{ ID, Status string }
	if err := json.Unmarshal([]byte(ok(t, k("pay", "pay", "--request", req.ID, "--from", "alice", "--wait", "-o", "json")...)), &p1); err != nil || p1.Status != "ok" {
		t.Fatalf("pay --request: %+v %v", p1, err)
	}
	wantError(t, "already_paid", k("pay", "pay", "--request", req.ID, "--from", "alice", "--wait")...)
	var p2 struct{ ID string }
	if err := json.Unmarshal([]byte(ok(t, k("pay", "pay", "--merchant", "cafe-1", "--amount", "30", "--from", "alice", "--wait", "-o", "json")...)), &p2); err != nil {
		t.Fatal(err)
	}
	var r1 struct{ ID string }
	if err := json.Unmarshal([]byte(ok(t, k("pay", "refund", "--payment", p1.ID, "--amount", "50", "--from", "shop", "--wait", "-o", "json")...)), &r1); err != nil {
		t.Fatal(err)
	}
	wantError(t, "refund_exceeds_payment", k("pay", "refund", "--payment", p1.ID, "--amount", "71", "--from", "shop", "--wait")...)
	wantError(t, "not_owner", k("pay", "refund", "--payment", p1.ID, "--amount", "1", "--from", "alice", "--wait")...)

	var req2 struct{ ID string }
	if err := json.Unmarshal([]byte(ok(t, k("pay", "request", "--merchant", "cafe-1", "--amount", "5", "--from", "shop", "--wait", "-o", "json")...)), &req2); err != nil {
		t.Fatal(err)
	}
	ok(t, k("pay", "cancel", "--request", req2.ID, "--from", "shop", "--wait")...)
	wantError(t, "cancelled", k("pay", "pay", "--request", req2.ID, "--from", "alice", "--wait")...)

	// The statement of the day the payments were made, by block time.
	c := sdk.New(url)
	pid, _ := types.ParseHash(p1.ID)
	tx, err := c.Tx(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Block(context.Background(), tx.Height)
	if err != nil {
		t.Fatal(err)
	}
	day := paycall.FormatDay(paycall.Day(b.Header.Time))
	var st struct {
		Payments, Refunds totalsJSON
		Net               int64
		MerkleRoot        string `json:"merkle_root"`
		Entries           []entryJSON
	}
	out = ok(t, k("pay", "statement", "--merchant", "cafe-1", "--day", day, "--list", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Payments != (totalsJSON{2, 150}) || st.Refunds != (totalsJSON{1, 50}) || st.Net != 100 || len(st.MerkleRoot) != 64 {
		t.Fatalf("statement: %s\nwant payments 2/150, refunds 1/50, net 100 and a root", out)
	}
	var ids []string
	for _, e := range st.Entries {
		ids = append(ids, e.Kind+":"+e.ID)
	}
	if want := []string{"payment:" + p1.ID, "payment:" + p2.ID, "refund:" + r1.ID}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("entries %v, want %v (block order)", ids, want)
	}
	wantError(t, "YYYY-MM-DD", k("pay", "statement", "--merchant", "cafe-1", "--day", "yesterday")...)

	// alice: the mint, two payments and a refund; the node refused her
	// failing payments at admission, so they are in no block.
	var page struct {
		Txs  []accountTxJSON
		Next string
	}
	var all []accountTxJSON
	before := ""
	for range 10 {
		args := k("query", "txs", "--account", alice, "--limit", "3", "-o", "json")
		if before != "" {
			args = append(args, "--before", before)
		}
		page.Next, page.Txs = "", nil
		if err := json.Unmarshal([]byte(ok(t, args...)), &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Txs...)
		if before = page.Next; before == "" {
			break
		}
	}
	var got []string
	for _, tx := range all {
		got = append(got, tx.Contract+"."+tx.Method+":"+tx.Status)
	}
	want := "pay.refund:ok pay.pay:ok pay.pay:ok token.mint:ok"
	if strings.Join(got, " ") != want {
		t.Fatalf("alice's history, newest first: %v\nwant %s", got, want)
	}
	if all[0].TxID != r1.ID || all[1].TxID != p2.ID || all[2].TxID != p1.ID || all[3].Height >= all[0].Height {
		t.Fatalf("history order: %+v", all)
	}
	wantError(t, "bad cursor", k("query", "txs", "--account", alice, "--before", "x")...)
}
