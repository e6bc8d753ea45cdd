package explorer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/internal/cli"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/node/nodetest"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// ScreenshotsEnv names a folder to write the README's screenshots to
// (docs/img): ACCORD_EXPLORER_SCREENSHOTS=$PWD/docs/img go test
// ./api/explorer refreshes them. Every page's screenshot goes to the
// test's temporary folder regardless.
const ScreenshotsEnv = "ACCORD_EXPLORER_SCREENSHOTS"

// readmeShots are the screenshots the README shows.
var readmeShots = map[string]bool{"explorer-home": true, "explorer-tx": true}

// chromium finds the browser. CI installs it (.ci/run); a missing browser
// fails the test rather than skipping it, so the explorer is never left
// untested by accident.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium on PATH: the explorer's browser test needs it; install it with `apt-get install -y chromium` (.ci/run does)")
	return ""
}

// accord runs a command of the CLI in this process and returns its
// standard output.
func accord(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Run(args, &out, &errb); code != 0 {
		t.Fatalf("accord %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

type txOut struct {
	TxID    string `json:"tx_id"`
	Height  uint64 `json:"height"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func decodeTx(t *testing.T, s string) txOut {
	t.Helper()
	var o txOut
	if err := json.Unmarshal([]byte(s), &o); err != nil || o.TxID == "" {
		t.Fatalf("reading %q: %v", s, err)
	}
	return o
}

// TestExplorer opens every page of the explorer in headless Chromium
// against a permissioned node in this process that holds mints, transfers,
// a failed transfer and an open proposal, follows the links and the search,
// and checks what each page shows against the API.
func TestExplorer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and a browser")
	}
	browser := chromium(t)
	shots, docs := t.TempDir(), os.Getenv(ScreenshotsEnv)

	net := filepath.Join(t.TempDir(), "net")
	var res struct {
		KeysDir string `json:"keys_dir"`
		Nodes   []struct{ Home string }
	}
	if err := json.Unmarshal([]byte(accord(t, "init", "--home", net, "--orgs", "2", "-o", "json")), &res); err != nil || len(res.Nodes) != 1 {
		t.Fatalf("init --orgs 2 -o json: %v %+v", err, res)
	}
	url := nodetest.Start(t, res.Nodes[0].Home, nil)
	// Generous for a busy machine: the test takes about 10 s.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	api := sdk.New(url)
	k := []string{"--keys", res.KeysDir, "--node", url}
	with := func(args ...string) []string { return append(args, k...) }
	addr := func(key string) string {
		return strings.TrimSpace(accord(t, "keys", "show", key, "--keys", res.KeysDir, "--address"))
	}
	alice, bob := addr("org1-client"), addr("org2-client")

	decodeTx(t, accord(t, with("tx", "mint", "--from", "org1-admin", "--to", alice, "--amount", "100", "--wait", "-o", "json")...))
	decodeTx(t, accord(t, with("tx", "transfer", "--from", "org1-client", "--to", bob, "--amount", "30", "--wait", "-o", "json")...))
	// Two transfers of 60 out of the 70 left, admitted together against
	// the committed balance: the second fails in its block.
	var signed []string
	for n := 1; n <= 2; n++ {
		f := filepath.Join(t.TempDir(), "tx.json")
		if err := os.WriteFile(f, []byte(accord(t, with("tx", "transfer", "--from", "org1-client", "--to", bob, "--amount", "60", "--sign-only", "--nonce", strconv.Itoa(n))...)), 0o600); err != nil {
			t.Fatal(err)
		}
		signed = append(signed, f)
	}
	accord(t, with("tx", "send", signed[0])...)
	failedID := decodeTx(t, accord(t, with("tx", "send", signed[1], "-o", "json")...)).TxID
	failed, err := api.Wait(ctx, mustHash(t, failedID))
	if err != nil || failed.Receipt.Message == "" {
		t.Fatalf("waiting for the failing transfer: %v", err)
	}
	var prop struct {
		ID uint64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(accord(t, with("gov", "propose", "--change", `{"kind":"freeze","address":"`+bob+`"}`, "--from", "org1-admin", "-o", "json")...)), &prop); err != nil || prop.ID == 0 {
		t.Fatalf("gov propose: %v, id %d", err, prop.ID)
	}
	last := decodeTx(t, accord(t, with("tx", "transfer", "--from", "org2-client", "--to", alice, "--amount", "5", "--wait", "-o", "json")...))

	// A merchant owned by bob, paid 7 by alice, who gets 2 back.
	ks, err := keystore.Open(res.KeysDir)
	if err != nil {
		t.Fatal(err)
	}
	payCall := func(signer, method string, args []byte) string {
		t.Helper()
		key, err := ks.Get(signer)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := ks.Cert(signer)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := api.Sign(ctx, key.Private, sdk.Call{Contract: paycall.Name, Method: method, Args: args, Cert: cert})
		if err != nil {
			t.Fatal(err)
		}
		id, err := api.Submit(ctx, tx)
		if err != nil {
			t.Fatalf("pay.%s: %v", method, err)
		}
		if _, err := api.WaitOK(ctx, id); err != nil {
			t.Fatalf("pay.%s: %v", method, err)
		}
		return id.String()
	}
	bobAddr, err := types.ParseAddress(bob)
	if err != nil {
		t.Fatal(err)
	}
	const merchant = "cafe-1"
	payCall("org1-admin", paycall.MethodAddMerchant, paycall.AddMerchant(merchant, "Corner Café", bobAddr))
	payment := payCall("org1-client", paycall.MethodPay, paycall.Pay(types.Hash{}, merchant, 7, bobAddr))
	paymentAt, err := api.PaymentPlace(ctx, mustHash(t, payment))
	if err != nil {
		t.Fatal(err)
	}
	refund := payCall("org2-client", paycall.MethodRefund, paycall.Refund(mustHash(t, payment), paymentAt, 2))
	request := payCall("org2-client", paycall.MethodRequest, paycall.Request(merchant, 3, 0, "table 4"))
	paidRequest := payCall("org1-client", paycall.MethodPay, paycall.Pay(mustHash(t, request), merchant, 0, bobAddr))

	// Blocks of a few transactions each, for the chart and the lists.
	aliceAddr, err := types.ParseAddress(alice)
	if err != nil {
		t.Fatal(err)
	}
	decodeTx(t, accord(t, with("tx", "mint", "--from", "org1-admin", "--to", alice, "--amount", "1000", "--wait", "-o", "json")...))
	key, err := ks.Get("org1-client")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ks.Cert("org1-client")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 8, 5, 12, 6} {
		acc, err := api.Account(ctx, aliceAddr)
		if err != nil {
			t.Fatal(err)
		}
		var raws [][]byte
		for i := range n {
			nonce := acc.NextNonce + uint64(i)
			tx, err := api.Sign(ctx, key.Private, sdk.Call{Contract: tokencall.Name, Method: tokencall.MethodTransfer, Args: tokencall.Transfer(bobAddr, 1), Nonce: &nonce, Cert: cert})
			if err != nil {
				t.Fatal(err)
			}
			raws = append(raws, tx.Raw)
		}
		res, err := api.SubmitBatch(ctx, raws)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Error != "" {
				t.Fatalf("a transfer of the burst was refused: %s", r.Error)
			}
		}
		if _, err := api.WaitOK(ctx, mustHash(t, res[n-1].TxId)); err != nil {
			t.Fatal(err)
		}
	}
	last = decodeTx(t, accord(t, with("tx", "transfer", "--from", "org2-client", "--to", alice, "--amount", "5", "--wait", "-o", "json")...))

	st, err := api.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}

	b := openBrowser(t, browser, shots, docs)
	run, until, text, field, shot, ready, search, js := b.run, b.until, b.text, b.field, b.shot, b.ready, b.search, b.js
	getTx := func(id string) (status, contract, method, sender string, height uint64) {
		r, err := api.Tx(ctx, mustHash(t, id))
		if err != nil {
			t.Fatal(err)
		}
		s := map[int32]string{0: "ok", 1: "failed", 2: "invalid"}[int32(r.Receipt.Status)]
		return s, r.Tx.Contract, r.Tx.Method, r.Tx.Sender, r.Height
	}

	// Home: the chain, the height, live blocks and the latest transactions.
	run("opening the home page", chromedp.Navigate(url+"/explorer/"))
	ready("home", `document.querySelector("#txs a[data-tx='`+last.TxID+`']") !== null`)
	if got := text("#chain-id"); got != st.ChainId {
		t.Errorf("home shows chain %q, the API says %q", got, st.ChainId)
	}
	if got := text("#consensus"); !strings.HasPrefix(got, st.Consensus) {
		t.Errorf("home shows consensus %q, the API says %q", got, st.Consensus)
	}
	if got := text("#peers"); got != "none (single node)" {
		t.Errorf("home shows peers %q for a single node", got)
	}
	until("the chart to hold every block", `Number(document.getElementById("tps-chart").dataset.points) === `+strconv.FormatUint(st.Height, 10))
	// A block committed while the page is open arrives by the stream.
	pushed := decodeTx(t, accord(t, with("tx", "transfer", "--from", "org2-client", "--to", alice, "--amount", "1", "--wait", "-o", "json")...))
	until("the pushed block", `document.querySelector("#height").textContent === "`+strconv.FormatUint(pushed.Height, 10)+`" && document.querySelector("#blocks a[data-block='`+strconv.FormatUint(pushed.Height, 10)+`']") !== null`)
	until("the pushed transaction", `document.querySelector("#txs a[data-tx='`+pushed.TxID+`']") !== null`)
	if got := js(`document.getElementById("bt-chart").dataset.points`); got != strconv.FormatUint(pushed.Height, 10) {
		t.Errorf("block-time chart holds %s points, want one per block (%d)", got, pushed.Height)
	}
	shot("explorer-home")

	// Transaction page, reached from the home page's list.
	run("following the latest transaction", chromedp.Click(chromedp.CSS("#txs a[data-tx='"+pushed.TxID+"']")))
	ready("tx", `document.querySelector("[data-field=tx_id]").textContent === "`+pushed.TxID+`"`)
	status, contract, method, sender, height := getTx(pushed.TxID)
	if got := field("status"); got != status {
		t.Errorf("tx page status %q, API %q", got, status)
	}
	if got := field("call"); got != contract+"."+method {
		t.Errorf("tx page call %q, API %s.%s", got, contract, method)
	}
	// The transfer names its signer by certificate; the API resolves it.
	if sender != bob {
		t.Errorf("GetTx names %s the sender of a transfer that %s signed by certificate", sender, bob)
	}
	if got := field("sender"); got != sender {
		t.Errorf("tx page sender %q, API %q", got, sender)
	}
	if got := text(`#args [data-arg="amount"]`); got != "1" {
		t.Errorf("decoded amount %q, want 1", got)
	}
	if got := text(`#args [data-arg="to"]`); got != alice {
		t.Errorf("decoded recipient %q, want %s", got, alice)
	}
	if got := text("#events"); !strings.Contains(got, "transfer") || !strings.Contains(got, "amount = 1") {
		t.Errorf("events table %q, want the transfer event with amount 1", got)
	}
	shot("explorer-tx")

	// Its block.
	run("following the block link", chromedp.Click(chromedp.CSS(`#view [data-field="height"] a`)))
	ready("block", `document.getElementById("block-height").textContent === "`+strconv.FormatUint(height, 10)+`"`)
	blk, err := api.Block(ctx, height)
	if err != nil {
		t.Fatal(err)
	}
	if got := field("hash"); got != blk.Header.Hash {
		t.Errorf("block page hash %q, API %q", got, blk.Header.Hash)
	}
	if got := field("state_hash"); got != blk.Header.StateHash {
		t.Errorf("block page state hash %q, API %q", got, blk.Header.StateHash)
	}
	if got := js(`[...document.querySelectorAll("#block-txs a[data-tx]")].map(a => a.dataset.tx).join(",")`); got != strings.Join(blk.TxIds, ",") {
		t.Errorf("block page lists %q, API %q", got, blk.TxIds)
	}
	shot("explorer-block")

	// The recipient's account, from the block's transaction.
	run("back to the transaction", chromedp.Click(chromedp.CSS("#block-txs a[data-tx='"+pushed.TxID+"']")))
	ready("tx", `document.querySelector("[data-field=tx_id]").textContent === "`+pushed.TxID+`"`)
	run("following the recipient", chromedp.Click(chromedp.CSS(`#args [data-arg="to"] a`)))
	ready("account", `document.getElementById("account-address").textContent === "`+alice+`" && document.querySelector("#history, #history-box [data-unavailable]") !== null`)
	checkAccount(t, ctx, api, alice, field)
	// History, ten to a page: every page as ListAccountTxs pages it,
	// and all of them together the account's whole history.
	full, _ := rpcJSON(t, url, "ListAccountTxs", `{"account":"`+alice+`","limit":100}`)
	all := txIDs(full)
	if len(all) < 40 {
		t.Fatalf("ListAccountTxs lists %d transactions of alice, want her 40 or more", len(all))
	}
	if got := js(`[...document.querySelectorAll("#history a[data-tx]")].map(a => a.dataset.tx).join(",")`); got != strings.Join(all[:20], ",") {
		t.Errorf("account history's first page lists %q, want the newest 20 of ListAccountTxs %q", got, all)
	}
	run("opening the history ten to a page", chromedp.Navigate(url+"/explorer/#/account/"+alice+"?n=10"))
	var seen []string
	cursor := ""
	for page := 1; ; page++ {
		ready("account", `document.getElementById("history-box").dataset.page === "`+strconv.Itoa(page)+`"`)
		want, _ := rpcJSON(t, url, "ListAccountTxs", fmt.Sprintf(`{"account":%q,"limit":10,"before":%q}`, alice, cursor))
		got := js(`[...document.querySelectorAll("#history a[data-tx]")].map(a => a.dataset.tx).join(",")`)
		if got != strings.Join(txIDs(want), ",") {
			t.Fatalf("history page %d lists %q, ListAccountTxs %q", page, got, txIDs(want))
		}
		seen = append(seen, strings.Split(got, ",")...)
		cursor, _ = want["next"].(string)
		if cursor == "" {
			if js(`String(document.getElementById("older").disabled)`) != "true" {
				t.Errorf("history page %d is the last but Older is enabled", page)
			}
			break
		}
		run("paging to older", chromedp.Click(chromedp.CSS("#older")))
	}
	if strings.Join(seen, ",") != strings.Join(all, ",") {
		t.Errorf("the pages together list %q, the whole history is %q", seen, all)
	}
	run("paging back", chromedp.Click(chromedp.CSS("#newer")))
	until("the newer page", `document.getElementById("history-box").dataset.page === "`+strconv.Itoa((len(all)+9)/10-1)+`"`)
	shot("explorer-account")

	// The failed transaction says why.
	run("opening the failed transaction", chromedp.Navigate(url+"/explorer/#/tx/"+failedID))
	ready("tx", `document.querySelector("[data-field=tx_id]").textContent === "`+failedID+`"`)
	if got := field("status"); !strings.HasPrefix(got, "failed") || !strings.Contains(got, failed.Receipt.Message) || failed.Receipt.Message == "" {
		t.Errorf("failed tx shows status %q, want failed with %q", got, failed.Receipt.Message)
	}

	// Search by height, transaction id and address; nonsense gets a message.
	search(strconv.FormatUint(height, 10))
	ready("block", `document.getElementById("block-height").textContent === "`+strconv.FormatUint(height, 10)+`"`)
	search(last.TxID)
	ready("tx", `document.querySelector("[data-field=tx_id]").textContent === "`+last.TxID+`"`)
	search(strings.ToUpper(bob))
	ready("account", `document.getElementById("account-address").textContent === "`+bob+`"`)
	checkAccount(t, ctx, api, bob, field)
	search(blk.Header.Hash)
	ready("block", `document.getElementById("block-height").textContent === "`+strconv.FormatUint(height, 10)+`"`)
	search("no such thing")
	until("the search's refusal", `document.getElementById("view").dataset.state === "error"`)
	if got := text("#error"); !strings.Contains(got, "is not a height, a transaction id") {
		t.Errorf("a nonsense search says %q", got)
	}

	// Governance.
	run("opening the proposals", chromedp.Click(chromedp.CSS(`nav a[href="#/proposals"]`)))
	ready("proposals", `document.querySelector("#proposals a[data-proposal='`+strconv.FormatUint(prop.ID, 10)+`']") !== null`)
	run("following the proposal", chromedp.Click(chromedp.CSS("#proposals a[data-proposal='"+strconv.FormatUint(prop.ID, 10)+"']")))
	ready("proposal", `document.getElementById("proposal-id").textContent === "`+strconv.FormatUint(prop.ID, 10)+`"`)
	pr, err := api.Proposal(ctx, prop.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := pr.Proposals[0]
	if got := field("status"); got != p.Status {
		t.Errorf("proposal page status %q, API %q", got, p.Status)
	}
	if got := field("votes"); got != strconv.FormatUint(uint64(p.Votes), 10) {
		t.Errorf("proposal page votes %q, API %d", got, p.Votes)
	}
	var change map[string]string
	if err := json.Unmarshal([]byte(text("#change")), &change); err != nil || change["kind"] != "freeze" || change["address"] != bob {
		t.Errorf("proposal page change %v (%v), want a freeze of %s", change, err, bob)
	}
	shot("explorer-proposal")

	// Merchants: the list, then the merchant's statement of today.
	run("opening the merchants", chromedp.Click(chromedp.CSS(`nav a[href="#/merchants"]`)))
	ready("merchants", `document.querySelector("#merchants a[data-merchant='`+merchant+`']") !== null`)
	run("following the merchant", chromedp.Click(chromedp.CSS("#merchants a[data-merchant='"+merchant+"']")))
	ready("merchant", `document.getElementById("merchant-id").textContent === "`+merchant+`"`)
	m, _ := rpcJSON(t, url, "GetMerchant", `{"id":"`+merchant+`"}`)
	if got := field("name"); got != m["name"] {
		t.Errorf("merchant page name %q, API %q", got, m["name"])
	}
	if got := field("owner"); got != m["owner"] || got != bob {
		t.Errorf("merchant page owner %q, API %q, want %s", got, m["owner"], bob)
	}
	day := js(`document.querySelector("#view section:nth-of-type(2) h2").textContent.match(/\d{4}-\d{2}-\d{2}/)[0]`)
	stmt, _ := rpcJSON(t, url, "GetStatement", `{"merchant":"`+merchant+`","day":"`+day+`"}`)
	if got := field("payments"); got != "2 for 10" {
		t.Errorf("merchant page payments %q, want 2 for 10", got)
	}
	if got := field("refunds"); got != "1 for 2" {
		t.Errorf("merchant page refunds %q, want 1 for 2", got)
	}
	if got := field("net"); got != "8" || stmt["net"] != "8" {
		t.Errorf("merchant page net %q, API %v, want 8", got, stmt["net"])
	}
	if got := field("merkle_root"); got != stmt["merkle_root"] || got == "" {
		t.Errorf("merchant page Merkle root %q, API %v", got, stmt["merkle_root"])
	}
	if got := js(`[...document.querySelectorAll("#payments a[data-tx]")].map(a => a.dataset.tx).join(",")`); got != paidRequest+","+refund+","+payment+","+payment {
		t.Errorf("recent payments link %q, want the request's payment, the refund (of the payment), then the payment", got)
	}
	if got := js(`[...document.querySelectorAll("#payments a[data-account]")].map(a => a.dataset.account).join(",")`); got != alice+","+alice {
		t.Errorf("recent payments name payers %q, want %s twice", got, alice)
	}
	shot("explorer-merchant")
	// A refund's page names its payment, decoded, with a link to it.
	run("following the refund", chromedp.Click(chromedp.CSS("#payments a[data-tx='"+refund+"']")))
	ready("tx", `document.querySelector("[data-field=tx_id]").textContent === "`+refund+`"`)
	if got := field("call"); got != "pay.refund" {
		t.Errorf("the refund's page shows call %q", got)
	}
	if got := text(`#args [data-arg="amount"]`); got != "2" {
		t.Errorf("the refund's amount shows as %q, want 2", got)
	}
	if got := field("refunded"); got != "2" {
		t.Errorf("the refund's page says its payment has %q refunded, want 2", got)
	}
	run("following the refunded payment", chromedp.Click(chromedp.CSS(`#args [data-arg="payment"] a`)))
	ready("tx", `document.querySelector("[data-field=tx_id]").textContent === "`+payment+`"`)
	if got := text(`#args [data-arg="merchant"]`) + " " + text(`#args [data-arg="amount"]`); got != merchant+" 7" {
		t.Errorf("the payment's arguments show %q, want %s 7", got, merchant)
	}
	pm, _ := rpcJSON(t, url, "GetPayment", `{"id":"`+payment+`"}`)
	if got := field("payer") + " " + field("refunded"); got != pm["payer"].(string)+" "+pm["refunded"].(string) || pm["payer"] != alice {
		t.Errorf("the payment's page shows payer and refunded %q, GetPayment %v, %v (want payer %s)", got, pm["payer"], pm["refunded"], alice)
	}
	// A payment request, paid: its page says so and links the payment.
	run("opening the request", chromedp.Navigate(url+"/explorer/#/tx/"+request))
	ready("tx", `document.querySelector("[data-field=request_status]") !== null`)
	if got := field("request_status") + " " + field("memo") + " " + field("paid_by"); got != "paid table 4 "+paidRequest {
		t.Errorf("the request's page shows %q, want it paid by %s", got, paidRequest)
	}
	search(merchant)
	ready("merchant", `document.getElementById("merchant-id").textContent === "`+merchant+`"`)

	// A node without the history and payments API (an older one): the
	// pages still work and say what this node does not serve.
	old := olderNode(t, url)
	run("opening an account on an older node", chromedp.Navigate(old+"/explorer/#/account/"+alice))
	ready("account", `document.querySelector("#history-box [data-unavailable]") !== null`)
	if got := text("#history-box [data-unavailable]"); got != "Transaction history is not available on this node." {
		t.Errorf("history on a node without ListAccountTxs says %q", got)
	}
	checkAccount(t, ctx, api, alice, field)
	run("opening the merchants on an older node", chromedp.Navigate(old+"/explorer/#/merchants"))
	ready("merchants", `document.querySelector("#view [data-unavailable]") !== null`)
	run("opening a merchant on an older node", chromedp.Navigate(old+"/explorer/#/merchant/"+merchant))
	ready("merchant", `document.querySelector("#view [data-unavailable]") !== null`)
	if got := text("#view [data-unavailable]"); !strings.Contains(got, "not available on this node") {
		t.Errorf("a merchant on a node without GetMerchant says %q", got)
	}

	if docs != "" {
		t.Logf("wrote the README's screenshots to %s", docs)
	}
}

func mustHash(t *testing.T, s string) types.Hash {
	t.Helper()
	h, err := types.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// browser is a headless Chromium tab; a JavaScript error on any page it
// opens fails the test.
type browser struct {
	t           *testing.T
	ctx         context.Context
	shots, docs string
	mu          sync.Mutex
	jsErrors    []string
}

func openBrowser(t *testing.T, path, shots, docs string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.WindowSize(1280, 960),
		chromedp.Flag("hide-scrollbars", true),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: bctx, shots: shots, docs: docs}
	t.Cleanup(func() {
		bcancel()
		acancel()
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.jsErrors) > 0 {
			t.Errorf("the pages raised JavaScript errors:\n%s", strings.Join(b.jsErrors, "\n"))
		}
	})
	// Listen starts the browser.
	if err := chromedp.Listen(bctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg = d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			msg = "console.error: " + strings.Join(parts, " ")
		default:
			return
		}
		b.mu.Lock()
		b.jsErrors = append(b.jsErrors, msg)
		b.mu.Unlock()
	}); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	return b
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Steps(actions...)); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// until waits for a JavaScript condition on the page.
func (b *browser) until(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		page, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("#view")))
		b.t.Fatalf("waiting for %s (%s): %v\nthe page shows: %.2000s", what, expr, err, page)
	}
}

// ready waits until the page named page has rendered and cond holds.
func (b *browser) ready(page, cond string) {
	b.t.Helper()
	b.until(page+" page", `(() => { const v = document.getElementById("view"); return v.dataset.page === "`+page+`" && v.dataset.state === "ready" && (`+cond+`); })()`)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// field reads the value the page shows under data-field=name.
func (b *browser) field(name string) string { return b.text(`#view [data-field="` + name + `"]`) }

func (b *browser) js(expr string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return s
}

func (b *browser) search(q string) {
	b.t.Helper()
	b.run("searching "+q, chromedp.SetValue(chromedp.CSS("#q"), q), chromedp.Click(chromedp.CSS("#search button")))
}

// shot saves a screenshot of the window, and the README's into docs.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if b.docs != "" && readmeShots[name] {
		if err := os.WriteFile(filepath.Join(b.docs, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// checkAccount compares the account page with GetAccount.
func checkAccount(t *testing.T, ctx context.Context, api *sdk.Client, address string, field func(string) string) {
	t.Helper()
	a, err := types.ParseAddress(address)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := api.Account(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if got := field("balance"); got != strconv.FormatUint(acc.Balance, 10) {
		t.Errorf("account %s shows balance %q, API %d", address, got, acc.Balance)
	}
	if got := field("nonce"); got != strconv.FormatUint(acc.Nonce, 10) {
		t.Errorf("account %s shows nonce %q, API %d", address, got, acc.Nonce)
	}
}

// olderNode serves node's API less the history and payments methods, as a
// node from before them does (a plain 404 from its mux).
func olderNode(t *testing.T, node string) string {
	t.Helper()
	target, err := neturl.Parse(node)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.URL.Path, "/accord.api.v1.NodeService/") {
		case "ListAccountTxs", "GetMerchant", "ListMerchants", "GetStatement", "GetPayment", "GetPaymentRequest":
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// txIDs lists the tx_id of each of a ListAccountTxs answer's txs.
func txIDs(m map[string]any) []string {
	var out []string
	txs, _ := m["txs"].([]any)
	for _, x := range txs {
		out = append(out, x.(map[string]any)["tx_id"].(string))
	}
	return out
}

// rpcJSON calls an RPC over Connect's JSON protocol; ok is false when the
// node does not serve it.
func rpcJSON(t *testing.T, url, method, req string) (map[string]any, bool) {
	t.Helper()
	resp, err := http.Post(url+"/accord.api.v1.NodeService/"+method, "application/json", strings.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusNotFound && !bytes.Contains(body, []byte(`"code"`)) {
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d %s", method, req, resp.StatusCode, body)
	}
	return m, true
}

// TestExplorerOpenChain: on an open chain transactions are signed by plain
// keys, and there is no governance; the pages say so, and an id that names
// nothing gets a message.
func TestExplorerOpenChain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and a browser")
	}
	path := chromium(t)
	res, err := provision.Init(provision.Options{Home: filepath.Join(t.TempDir(), "dev")})
	if err != nil {
		t.Fatal(err)
	}
	url := nodetest.Start(t, res.Nodes[0].Home, nil)
	ks, err := keystore.Open(res.KeysDir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Get(provision.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api := sdk.New(url)
	id, err := api.Mint(ctx, admin.Private, admin.Address, 42)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.WaitOK(ctx, id); err != nil {
		t.Fatal(err)
	}

	b := openBrowser(t, path, t.TempDir(), "")
	b.run("opening the mint", chromedp.Navigate(url+"/explorer/#/tx/"+id.String()))
	b.ready("tx", `document.querySelector("[data-field=tx_id]").textContent === "`+id.String()+`"`)
	if got := b.field("sender"); got != admin.Address.String() {
		t.Errorf("the mint's sender shows as %q, want the issuer %s", got, admin.Address)
	}
	if got := b.text(`#args [data-arg="amount"]`); got != "42" {
		t.Errorf("the mint's amount shows as %q, want 42", got)
	}
	b.run("opening the proposals", chromedp.Click(chromedp.CSS(`nav a[href="#/proposals"]`)))
	b.ready("proposals", `document.getElementById("no-governance") !== null`)
	if got := b.text("#no-governance"); !strings.Contains(got, "This chain is open") {
		t.Errorf("proposals of an open chain say %q", got)
	}
	nothing := strings.Repeat("ab", 32)
	b.search(nothing)
	b.until("the search's answer", `document.getElementById("view").dataset.state === "error"`)
	if got := b.text("#error"); !strings.Contains(got, "No committed transaction or block has id "+nothing) {
		t.Errorf("a search for an unknown id says %q", got)
	}
	b.search("0")
	b.until("the search's answer", `document.getElementById("view").dataset.state === "error" && document.getElementById("error").textContent.includes("height")`)
}
