package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accord-chain/accord/apps/internal/apptest"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/cli"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/node/nodetest"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// parcelsFlag sizes the registry of BenchmarkQueriesOnANode: small by
// default so that a stray -bench stays short; the figure the land registry
// is held to is at -land.parcels 100000.
var parcelsFlag = flag.Int("land.parcels", 2000, "parcels planned on the node before BenchmarkQueriesOnANode times get and history")

// longLives is how many parcels get a full life (16 history entries: plan, two approvals and the allocation, built, production, ten audits)
// besides their plan, spread over the registry.
const longLives = 16

// landNode is a single-node chain of four organisations, run in this
// process, with land installed by a governance change and a registry of
// planned parcels committed through the node's transaction API.
type landNode struct {
	c       *sdk.Client
	parcels []string // every parcel, in the order planned
	long    []string // the parcels with a full life
}

func parcelID(i int) string { return fmt.Sprintf("P-%06d", i) }

// sender signs a stream of calls from one key with consecutive nonces.
type sender struct {
	key   *keystore.Key
	cert  []byte
	nonce uint64
}

// startLandNode provisions the chain (`accord init --orgs 4`), starts its
// node, installs land and the policies of docs/apps.md's walkthrough (but
// land.plan allowed to an admin of any organisation, so that four admins
// plan in parallel), and plans n parcels, 16 of which then live through
// allocation, building, production and ten audits.
func startLandNode(tb testing.TB, n int) *landNode {
	tb.Helper()
	res, err := provision.Init(provision.Options{Home: tb.TempDir(), ChainID: "land-bench", Orgs: 4, Crypto: crypto.P256})
	if err != nil {
		tb.Fatal(err)
	}
	url := nodetest.Start(tb, res.Nodes[0].Home, nil)
	run := func(args ...string) string {
		tb.Helper()
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if code := cli.RunContext(ctx, append(args, "--node", url, "--keys", res.KeysDir, "-o", "json"), &out, &errb); code != 0 {
			tb.Fatalf("accord %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}
	proposal := func(out string) string {
		tb.Helper()
		var p struct {
			ID uint64 `json:"id"`
		}
		if err := json.Unmarshal([]byte(out), &p); err != nil || p.ID == 0 {
			tb.Fatalf("no proposal id: %v %s", err, out)
		}
		return fmt.Sprint(p.ID)
	}
	approve := func(id string) {
		tb.Helper()
		run("gov", "vote", "--id", id, "--from", "org2-admin")
		if out := run("gov", "vote", "--id", id, "--from", "org3-admin"); !strings.Contains(out, `"executed": true`) {
			tb.Fatalf("proposal %s not executed by the third organisation's vote: %s", id, out)
		}
	}
	wasmFile := filepath.Join(tb.TempDir(), "land.wasm")
	if err := os.WriteFile(wasmFile, apptest.Build(tb, pkg), 0o600); err != nil {
		tb.Fatal(err)
	}
	approve(proposal(run("contract", "install", "land", wasmFile, "--from", "org1-admin", "--wait")))
	for _, p := range [][2]string{{PolicyPlan, "SET(1 of org1,org2,org3,org4; admin)"}, {PolicyAudit, "SET(1 of org3; admin)"}} {
		approve(proposal(run("gov", "propose", "--change", fmt.Sprintf(`{"kind":"set_policy","method":%q,"policy":%q}`, p[0], p[1]), "--from", "org1-admin")))
	}

	ks, err := keystore.Open(res.KeysDir)
	if err != nil {
		tb.Fatal(err)
	}
	c := sdk.New(url)
	ctx := context.Background()
	info, err := c.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	senders := map[string]*sender{}
	for _, name := range []string{"org1-admin", "org2-admin", "org3-admin", "org4-admin", "org4-client"} {
		k, err := ks.Get(name)
		if err != nil {
			tb.Fatal(err)
		}
		cert, err := ks.Cert(name)
		if err != nil {
			tb.Fatal(err)
		}
		a, err := c.Account(ctx, k.Address)
		if err != nil {
			tb.Fatal(err)
		}
		senders[name] = &sender{key: k, cert: cert, nonce: a.NextNonce}
	}
	// send commits each sender's calls in order: chunks of 500 submitted
	// in one SubmitTxs request each, the next chunk (signed meanwhile)
	// once the one before has committed, so a sender never runs past the
	// pool's nonce window (1024). Every transaction must commit ok: a refused
	// plan would leave the registry smaller than it claims to be.
	send := func(calls map[string][]sdk.Call) {
		tb.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, len(calls))
		for name, cs := range calls {
			s := senders[name]
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.send(ctx, c, *info, cs)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	call := func(method string, args any) sdk.Call {
		b, err := json.Marshal(args)
		if err != nil {
			tb.Fatal(err)
		}
		return sdk.Call{Contract: "land", Method: method, Args: b, GasLimit: 0}
	}

	ln := &landNode{c: c}
	admins := []string{"org1-admin", "org2-admin", "org3-admin", "org4-admin"}
	plans := map[string][]sdk.Call{}
	for i := range n {
		id := parcelID(i)
		ln.parcels = append(ln.parcels, id)
		plans[admins[i%4]] = append(plans[admins[i%4]], call("plan", planArgs(id)))
	}
	start := time.Now()
	send(plans)
	tb.Logf("%d parcels planned through the node in %v", n, time.Since(start).Round(time.Millisecond))

	for i := range min(longLives, n) {
		ln.long = append(ln.long, parcelID(i*n/min(longLives, n)))
	}
	holderAddr := senders["org4-client"].key.Address.String()
	each := func(method string, args func(id string) any) []sdk.Call {
		var cs []sdk.Call
		for _, id := range ln.long {
			cs = append(cs, call(method, args(id)))
		}
		return cs
	}
	alloc := func(id string) any { return AllocateArgs{Parcel: id, Holder: holderAddr, Terms: terms} }
	send(map[string][]sdk.Call{"org1-admin": each("allocate", alloc), "org2-admin": each("allocate", alloc)})
	send(map[string][]sdk.Call{"org3-admin": each("allocate", alloc)})
	send(map[string][]sdk.Call{"org4-client": append(each("report_built", func(id string) any { return BuiltArgs{id, docA} }),
		each("start_production", func(id string) any { return ParcelArg{id} })...)})
	// Audits of past years are allowed; this one has years up to the block's.
	var audits []sdk.Call
	for year := time.Now().UTC().Year() - 9; year <= time.Now().UTC().Year(); year++ {
		audits = append(audits, each("audit", func(id string) any {
			return AuditArgs{Parcel: id, Year: year, Figures: Figures{500, 1000, 30}}
		})...)
	}
	send(map[string][]sdk.Call{"org3-admin": audits})

	// The chunks' last transactions committed ok; count the registry too,
	// through list, so that no plan failed on the way.
	if got := ln.count(tb, Planned); got != n-len(ln.long) {
		tb.Fatalf("%d parcels planned, %d with a full life; list finds %d still planned", n, len(ln.long), got)
	}
	if got := ln.count(tb, Compliant); got != len(ln.long) {
		tb.Fatalf("list finds %d compliant parcels; want the %d with a full life", got, len(ln.long))
	}
	return ln
}

// listPage is list's page size in count: list's default, which the
// chain's default query gas covers (200 records run out of gas).
const listPage = 100

// count pages through list {"state": state} and returns how many parcels
// it names.
func (ln *landNode) count(tb testing.TB, state string) int {
	tb.Helper()
	n := 0
	for after := ""; ; {
		args, _ := json.Marshal(ListArgs{State: state, After: after, Limit: listPage})
		r, err := ln.c.QueryContract(context.Background(), "land", "list", args)
		var v ListView
		if err != nil || json.Unmarshal(r.Result, &v) != nil {
			tb.Fatalf("list %s after %q: %v", state, after, err)
		}
		n += len(v.Parcels)
		if !v.More || len(v.Parcels) == 0 {
			return n
		}
		after = v.Parcels[len(v.Parcels)-1].Parcel
	}
}

// send signs calls with consecutive nonces and commits them; see
// startLandNode.
func (s *sender) send(ctx context.Context, c *sdk.Client, info sdk.Info, calls []sdk.Call) error {
	const chunk = 500
	var prev types.Hash // last transaction of the chunk before this one
	for lo := 0; lo < len(calls); lo += chunk {
		var raws [][]byte
		var last types.Hash
		for _, cl := range calls[lo:min(lo+chunk, len(calls))] {
			cl.Cert = s.cert
			tx, err := sdk.SignOffline(info, s.key.Private, s.nonce, cl)
			if err != nil {
				return err
			}
			s.nonce++
			raws = append(raws, tx.Raw)
			last = tx.ID
		}
		if !prev.IsZero() {
			if err := waitOK(ctx, c, prev); err != nil {
				return err
			}
		}
		rs, err := c.SubmitBatch(ctx, raws)
		if err != nil {
			return err
		}
		for i, r := range rs {
			if r.Error != "" {
				return fmt.Errorf("%s: transaction %d of a chunk refused: %s", s.key.Name, lo+i, r.Error)
			}
		}
		prev = last
	}
	return waitOK(ctx, c, prev)
}

func waitOK(ctx context.Context, c *sdk.Client, id types.Hash) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	_, err := c.WaitOK(ctx, id)
	return err
}

// query runs one query through the node's QueryContract API, as `accord
// contract query` does, and returns how long it took.
func (ln *landNode) query(tb testing.TB, method, id string) time.Duration {
	args, _ := json.Marshal(ParcelArg{id})
	start := time.Now()
	r, err := ln.c.QueryContract(context.Background(), "land", method, args)
	d := time.Since(start)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, id, err)
	}
	if !bytes.Contains(r.Result, []byte(`"`+id+`"`)) && method == "get" {
		tb.Fatalf("get %s answered %s", id, r.Result)
	}
	return d
}

// TestQueriesOnANode is the CI smoke of BenchmarkQueriesOnANode: a small
// registry on a node, every parcel's get and history answered, and a full
// life's 16 history entries there.
func TestQueriesOnANode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and builds the contract")
	}
	ln := startLandNode(t, 40)
	for _, id := range ln.parcels {
		ln.query(t, "get", id)
		ln.query(t, "history", id)
	}
	args, _ := json.Marshal(ParcelArg{ln.long[1]})
	r, err := ln.c.QueryContract(context.Background(), "land", "history", args)
	var h struct{ Entries []Entry }
	if err != nil || json.Unmarshal(r.Result, &h) != nil || len(h.Entries) != 16 {
		t.Fatalf("history of %s: %s, %v; want 16 entries", ln.long[1], r.Result, err)
	}
	r, err = ln.c.QueryContract(context.Background(), "land", "get", args)
	var v View
	if err != nil || json.Unmarshal(r.Result, &v) != nil || v.State != Compliant || v.LastAudit == nil || v.LastAudit.Year != time.Now().UTC().Year() {
		t.Fatalf("get %s: %s, %v; want compliant, audited this year", ln.long[1], r.Result, err)
	}
}

// BenchmarkQueriesOnANode times get and history through a node's
// QueryContract API on committed state, over random parcels of a registry
// of -land.parcels parcels ("random") and over the parcels with 16 history
// entries ("long"), and reports the median and 99th percentile.
func BenchmarkQueriesOnANode(b *testing.B) {
	ln := startLandNode(b, *parcelsFlag)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, method := range []string{"get", "history"} {
		for _, set := range []struct {
			name string
			ids  []string
		}{{"random", ln.parcels}, {"long", ln.long}} {
			b.Run(method+"/"+set.name, func(b *testing.B) {
				var ds []time.Duration
				for b.Loop() {
					ds = append(ds, ln.query(b, method, set.ids[rng.IntN(len(set.ids))]))
				}
				slices.Sort(ds)
				b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}
