package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// appCLI runs the accord binary against one node and key folder.
type appCLI struct {
	t          *testing.T
	node, keys string
}

// try runs a command and returns stdout, or an error with stderr.
func (c appCLI) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append(args, "--keys", c.keys)
	if args[0] != "keys" { // keys work offline
		args = append(args, "--node", c.node)
	}
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("accord %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (c appCLI) must(args ...string) string {
	c.t.Helper()
	out, err := c.try(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

func (c appCLI) addr(key string) string {
	c.t.Helper()
	return strings.TrimSpace(c.must("keys", "show", key, "--address"))
}

// call sends a contract call, waits for it and decodes its result into out
// (nil: ignored); it fails the test unless the transaction is ok.
func (c appCLI) call(contract, method, from string, args any, out any) {
	c.t.Helper()
	b, _ := json.Marshal(args)
	res := c.must("contract", "call", contract, method, "--args", string(b), "--from", from, "--wait", "-o", "json")
	var r struct {
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(res), &r); err != nil || r.Status != "ok" {
		c.t.Fatalf("%s.%s by %s: %v %s", contract, method, from, err, res)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result, out); err != nil {
			c.t.Fatalf("%s.%s result %s: %v", contract, method, r.Result, err)
		}
	}
}

// refused sends a call that must fail with a message containing rule.
func (c appCLI) refused(contract, method, from string, args any, rule string) {
	c.t.Helper()
	b, _ := json.Marshal(args)
	_, err := c.try("contract", "call", contract, method, "--args", string(b), "--from", from, "--wait", "-o", "json")
	if err == nil || !strings.Contains(err.Error(), rule) {
		c.t.Fatalf("%s.%s by %s: %v; want a refusal naming %q", contract, method, from, err, rule)
	}
}

func (c appCLI) query(contract, method string, args any, out any) {
	c.t.Helper()
	b, _ := json.Marshal(args)
	res := c.must("contract", "query", contract, method, "--args", string(b), "-o", "json")
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(res), &r); err != nil || json.Unmarshal(r.Result, out) != nil {
		c.t.Fatalf("query %s.%s: %v %s", contract, method, err, res)
	}
}

func (c appCLI) balance(addr string) uint64 {
	c.t.Helper()
	var a struct {
		Balance uint64 `json:"balance"`
	}
	if err := json.Unmarshal([]byte(c.must("query", "account", addr, "-o", "json")), &a); err != nil {
		c.t.Fatal(err)
	}
	return a.Balance
}

// install builds the app with `accord contract build` and installs it by
// a governance change: org1's admin proposes it, org2 and org3 approve.
func (c appCLI) install(app string) string {
	c.t.Helper()
	wasm := filepath.Join(c.t.TempDir(), app+".wasm")
	cli(c.t, false, "contract", "build", filepath.Join("..", "apps", app), "-o", wasm)
	c.approve(c.proposal(c.must("contract", "install", app, wasm, "--from", "org1-admin", "--wait", "-o", "json")))
	var show struct {
		Address string `json:"address"`
		Status  string `json:"status"`
	}
	if err := json.Unmarshal([]byte(c.must("contract", "show", app, "-o", "json")), &show); err != nil || show.Status != "active" || len(show.Address) != 40 {
		c.t.Fatalf("contract show %s: %v %+v", app, err, show)
	}
	return show.Address
}

// TestAppsOnFourOrganisations is the applications' end-to-end test: a
// node of a chain of four organisations (`accord init --orgs 4`, a real
// process), land and bounty built with `accord contract build` and each
// installed by a governance change three organisations approve, then both
// run through the CLI (runLand, runBounty).
func TestAppsOnFourOrganisations(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node process")
	}
	home := t.TempDir()
	out, _ := cli(t, false, "init", "--home", home, "--orgs", "4", "--chain-id", "e2e-apps", "--base-port", strconv.Itoa(freePort(t)), "-o", "json")
	var in initOut
	if err := json.Unmarshal([]byte(out), &in); err != nil || len(in.Nodes) != 1 {
		t.Fatalf("init -o json: %v\n%s", err, out)
	}
	startNode(t, in.Nodes[0].Home, in.Nodes[0].API)
	c := appCLI{t: t, node: in.Nodes[0].API, keys: in.KeysDir}
	c.install("land")
	escrow := c.install("bounty")
	c.approve(c.propose(`{"kind":"set_policy","method":"land.plan","policy":"SET(1 of org1; admin)"}`))
	c.approve(c.propose(`{"kind":"set_policy","method":"land.audit","policy":"SET(1 of org3; admin)"}`))

	runLand(t, c)

	cli(t, false, "cert", "issue", "--org", filepath.Join(home, "orgs", "org4"), "--name", "student2", "--keys", in.KeysDir)
	runBounty(t, c, escrow, bountyParties{issuer: "org1-admin", poster: "org2-client",
		judges: [3]string{"org1-admin", "org2-admin", "org3-admin"}, students: [3]string{"org4-client", "student2", "org3-client"}})
}

// propose proposes a governance change as org1's admin (who votes for it
// too) and returns its id.
func (c appCLI) propose(change string) string {
	c.t.Helper()
	return c.proposal(c.must("gov", "propose", "--change", change, "--from", "org1-admin", "-o", "json"))
}

func (c appCLI) proposal(out string) string {
	c.t.Helper()
	var p struct {
		ID uint64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.ID == 0 {
		c.t.Fatalf("no proposal id: %v %s", err, out)
	}
	return strconv.FormatUint(p.ID, 10)
}

// approve votes for proposal id as org2's and org3's admins: with org1's,
// a majority of four, which executes it.
func (c appCLI) approve(id string) {
	c.t.Helper()
	c.must("gov", "vote", "--id", id, "--from", "org2-admin")
	out := c.must("gov", "vote", "--id", id, "--from", "org3-admin", "-o", "json")
	if !strings.Contains(out, `"executed": true`) {
		c.t.Fatalf("proposal %s not executed by the third organisation's vote: %s", id, out)
	}
}

// runLand takes a parcel from plan to reclaim: single-organisation steps
// under the policies land.plan and land.audit, approvals by three
// organisations for allocate and reclaim (an organisation counting once,
// other terms not adding up), the holder's reports, an audit below the
// terms; then get, history and list.
func runLand(t *testing.T, c appCLI) {
	holder := c.addr("org4-client")
	doc := sha256.Sum256([]byte("plan SSL-007"))
	plan := map[string]any{"parcel": "SSL-007", "district": "Songshan Lake", "area_mu": 120, "use": "battery cells", "doc_hash": hex.EncodeToString(doc[:])}
	c.refused("land", "plan", "org2-admin", plan, "land.plan")
	type outcome struct {
		State     string   `json:"state"`
		Pending   bool     `json:"pending"`
		Approvals []string `json:"approvals"`
	}
	var o outcome
	c.call("land", "plan", "org1-admin", plan, &o)
	if o.State != "planned" {
		t.Fatalf("plan: %+v", o)
	}
	terms := map[string]any{"invest_per_mu": 500, "output_per_mu": 1000, "tax_per_mu": 30, "build_by": "2099-06-30", "produce_by": "2099-12-31"}
	alloc := map[string]any{"parcel": "SSL-007", "holder": holder, "terms": terms}
	other := map[string]any{"parcel": "SSL-007", "holder": c.addr("org3-client"), "terms": terms}
	c.call("land", "allocate", "org1-admin", alloc, &o)
	c.refused("land", "allocate", "org1-admin", alloc, "already approved by this organisation")
	c.call("land", "allocate", "org2-admin", other, &o)
	c.call("land", "allocate", "org2-admin", alloc, &o)
	if o.State != "planned" || !o.Pending || strings.Join(o.Approvals, ",") != "org1,org2" {
		t.Fatalf("two approvals of the same terms, one of others: %+v; want still planned", o)
	}
	c.call("land", "allocate", "org3-admin", alloc, &o)
	if o.State != "allocated" || strings.Join(o.Approvals, ",") != "org1,org2,org3" {
		t.Fatalf("third approval: %+v; want allocated by org1, org2, org3", o)
	}
	c.refused("land", "report_built", "org1-client", map[string]any{"parcel": "SSL-007", "doc_hash": hex.EncodeToString(doc[:])}, "not allowed")
	c.refused("land", "start_production", "org4-client", map[string]any{"parcel": "SSL-007"}, "wrong state")
	c.call("land", "report_built", "org4-client", map[string]any{"parcel": "SSL-007", "doc_hash": hex.EncodeToString(doc[:])}, &o)
	c.call("land", "start_production", "org4-client", map[string]any{"parcel": "SSL-007"}, &o)
	audit := map[string]any{"parcel": "SSL-007", "year": time.Now().UTC().Year(), "invest_per_mu": 520, "output_per_mu": 900, "tax_per_mu": 31}
	c.refused("land", "audit", "org2-admin", audit, "land.audit")
	c.call("land", "audit", "org3-admin", audit, &o)
	if o.State != "in_breach" {
		t.Fatalf("audit below output_per_mu: %+v; want in_breach", o)
	}
	reclaim := map[string]any{"parcel": "SSL-007", "reason": "output below terms"}
	for _, org := range []string{"org1", "org2", "org4"} {
		c.call("land", "reclaim", org+"-admin", reclaim, &o)
	}
	if o.State != "reclaimed" {
		t.Fatalf("third reclaim approval: %+v; want reclaimed", o)
	}

	var v struct {
		State     string `json:"state"`
		Holder    string `json:"holder"`
		LastAudit struct {
			Result string `json:"result"`
			Org    string `json:"org"`
		} `json:"last_audit"`
		Pending []any `json:"pending"`
	}
	c.query("land", "get", map[string]any{"parcel": "SSL-007"}, &v)
	if v.State != "reclaimed" || v.Holder != holder || v.LastAudit.Result != "in_breach" || v.LastAudit.Org != "org3" || len(v.Pending) != 0 {
		t.Fatalf("get: %+v", v)
	}
	var h struct {
		Entries []struct {
			Height uint64 `json:"height"`
			Org    string `json:"org"`
			Action string `json:"action"`
			Kind   string `json:"kind"`
		} `json:"entries"`
	}
	c.query("land", "history", map[string]any{"parcel": "SSL-007"}, &h)
	var got []string
	var last uint64
	for _, e := range h.Entries {
		if e.Height <= last {
			t.Fatalf("history heights do not rise: %+v", h.Entries)
		}
		last = e.Height
		got = append(got, e.Org+":"+e.Action+":"+e.Kind)
	}
	want := "org1:plan:transition org1:allocate:approval org2:allocate:approval org2:allocate:approval org3:allocate:transition " +
		"org4:report_built:transition org4:start_production:transition org3:audit:transition " +
		"org1:reclaim:approval org2:reclaim:approval org4:reclaim:transition"
	if strings.Join(got, " ") != want {
		t.Fatalf("history:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	var l struct {
		Parcels []struct {
			Parcel string `json:"parcel"`
		} `json:"parcels"`
	}
	c.query("land", "list", map[string]any{"state": "reclaimed"}, &l)
	if len(l.Parcels) != 1 || l.Parcels[0].Parcel != "SSL-007" {
		t.Fatalf("list reclaimed: %+v", l)
	}
}

// bountyParties name the keys that play each part.
type bountyParties struct {
	issuer, poster string
	judges         [3]string
	students       [3]string // the first two form the winning team; the third has no tokens and no team
}

// runBounty runs two bounties: one awarded to a team by shares, one
// refunded after judge_by, with refusals along the way. After every call
// the contract's token balance must equal the sum of the rewards of open
// bounties.
func runBounty(t *testing.T, c appCLI, escrow string, p bountyParties) {
	const funds = 100_000
	c.must("tx", "mint", "--from", p.issuer, "--to", c.addr(p.poster), "--amount", strconv.Itoa(funds), "--wait")
	start := c.balance(c.addr(p.poster)) - funds
	s1, s2, s3 := p.students[0], p.students[1], p.students[2]

	type summary struct {
		Bounties []struct {
			Reward uint64 `json:"reward"`
		} `json:"bounties"`
	}
	checkEscrow := func() {
		t.Helper()
		var l summary
		c.query("bounty", "list", map[string]any{"state": "open"}, &l)
		var open uint64
		for _, b := range l.Bounties {
			open += b.Reward
		}
		if got := c.balance(escrow); got != open {
			t.Fatalf("the contract holds %d; the open bounties' rewards sum to %d", got, open)
		}
	}

	now := uint64(time.Now().UnixMilli())
	judges := []string{c.addr(p.judges[0]), c.addr(p.judges[1]), c.addr(p.judges[2])}
	spec := sha256.Sum256([]byte("solid-state electrolyte above 10 mS/cm"))
	post := func(id string, reward, submitBy, judgeBy uint64) {
		c.call("bounty", "post", p.poster, map[string]any{"id": id, "title": "electrolyte", "spec_hash": hex.EncodeToString(spec[:]),
			"reward": reward, "submit_by": submitBy, "judge_by": judgeBy, "judges": judges, "quorum": 2}, nil)
		checkEscrow()
	}
	submitBy := now + 20_000
	post("award", 50_001, submitBy, submitBy+120_000)
	post("refund", 7_000, now+10_000, now+20_000)
	if got := c.balance(c.addr(p.poster)); got != start+funds-57_001 {
		t.Fatalf("poster holds %d after posting 57,001 of rewards", got)
	}
	c.refused("bounty", "post", s3, map[string]any{"id": "broke", "title": "t", "spec_hash": hex.EncodeToString(spec[:]),
		"reward": 1, "submit_by": submitBy, "judge_by": submitBy + 1, "judges": judges, "quorum": 1}, "escrowing the reward")

	team := []map[string]any{{"address": c.addr(s1), "share": 70}, {"address": c.addr(s2), "share": 30}}
	c.call("bounty", "enroll", s1, map[string]any{"id": "award", "team": team}, nil)
	c.refused("bounty", "enroll", s2, map[string]any{"id": "award", "team": []map[string]any{{"address": c.addr(s2), "share": 100}}}, "not allowed")
	solution := sha256.Sum256([]byte("the solution"))
	salt := make([]byte, 16)
	rand.Read(salt)
	commitment := sha256.Sum256(append(solution[:], salt...))
	c.call("bounty", "submit", s2, map[string]any{"id": "award", "commitment": hex.EncodeToString(commitment[:])}, nil)
	reveal := map[string]any{"id": "award", "solution_hash": hex.EncodeToString(solution[:]), "salt": hex.EncodeToString(salt)}
	c.refused("bounty", "reveal", s1, reveal, "wrong state")
	checkEscrow()

	// Reveals open at submit_by, by the block time: wait for the clock, then
	// for a block past it.
	waitFor(t, "submit_by to pass", 60*time.Second, func() (bool, string) {
		return uint64(time.Now().UnixMilli()) > submitBy, "waiting"
	})
	waitFor(t, "a reveal to be accepted", 60*time.Second, func() (bool, string) {
		_, err := c.try("contract", "call", "bounty", "reveal", "--args", mustJSON(t, reveal), "--from", s1, "--wait")
		return err == nil, fmt.Sprint(err)
	})
	c.refused("bounty", "judge", s3, map[string]any{"id": "award", "team": 0, "accept": true}, "not allowed")
	c.call("bounty", "judge", p.judges[0], map[string]any{"id": "award", "team": 0, "accept": true}, nil)
	c.refused("bounty", "judge", p.judges[0], map[string]any{"id": "award", "team": 0, "accept": true}, "already judged")
	checkEscrow()
	var award struct {
		State   string `json:"state"`
		Payouts []struct {
			Amount uint64 `json:"amount"`
		} `json:"payouts"`
	}
	before1, before2 := c.balance(c.addr(s1)), c.balance(c.addr(s2))
	c.call("bounty", "judge", p.judges[2], map[string]any{"id": "award", "team": 0, "accept": true}, &award)
	if award.State != "awarded" || len(award.Payouts) != 2 || award.Payouts[0].Amount != 35_001 || award.Payouts[1].Amount != 15_000 {
		t.Fatalf("the quorum's judgement: %+v; want awarded, 35,001 and 15,000", award)
	}
	if c.balance(c.addr(s1)) != before1+35_001 || c.balance(c.addr(s2)) != before2+15_000 {
		t.Fatalf("team balances %d, %d; want 35,001 and 15,000 more", c.balance(c.addr(s1)), c.balance(c.addr(s2)))
	}
	checkEscrow()
	c.refused("bounty", "judge", p.judges[1], map[string]any{"id": "award", "team": 0, "accept": true}, "wrong state")

	waitFor(t, "the refund after judge_by", 60*time.Second, func() (bool, string) {
		_, err := c.try("contract", "call", "bounty", "refund", "--args", `{"id":"refund"}`, "--from", s3, "--wait")
		return err == nil, fmt.Sprint(err)
	})
	checkEscrow()
	if got := c.balance(c.addr(p.poster)); got != start+funds-50_001 {
		t.Fatalf("poster holds %d after the refund; want %d", got, start+funds-50_001)
	}
	if got := c.balance(escrow); got != 0 {
		t.Fatalf("the contract holds %d with no open bounty", got)
	}
	var l summary
	c.query("bounty", "list", map[string]any{"state": "refunded"}, &l)
	if len(l.Bounties) != 1 || l.Bounties[0].Reward != 7_000 {
		t.Fatalf("refunded bounties: %+v; want the one of 7,000", l)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
