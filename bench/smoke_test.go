package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/accord-chain/accord/bench"
	"github.com/accord-chain/accord/contracts/pay/paycall"
	"github.com/accord-chain/accord/internal/cli"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/node/nodetest"
	"github.com/accord-chain/accord/sdk"
)

// startNode runs a fresh single-node chain in this process on a free
// loopback port and returns its API URL and key folder.
func startNode(t *testing.T) (url, keys string) {
	t.Helper()
	res, err := provision.Init(provision.Options{Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return nodetest.Start(t, res.Nodes[0].Home, nil), res.KeysDir
}

// checkCounts asserts what any healthy run must show: something committed,
// never more than was submitted, and on an idle test node everything
// submitted committed, nothing refused, nothing failed.
func checkCounts(t *testing.T, name string, r *bench.Report) {
	t.Helper()
	if r.Committed <= 0 || r.Committed > r.Submitted {
		t.Fatalf("%s: committed %d of %d submitted; want 0 < committed <= submitted", name, r.Committed, r.Submitted)
	}
	if r.Committed != r.Submitted || r.Pending != 0 {
		t.Errorf("%s: %d submitted but %d committed after draining: transactions were lost or stuck", name, r.Submitted, r.Committed)
	}
	if r.Rejected != 0 || r.Failed != 0 || r.Skipped != 0 {
		t.Errorf("%s: %d rejected %v, %d failed, %d skipped; want none", name, r.Rejected, r.RejectedByReason, r.Failed, r.Skipped)
	}
	if r.CommittedTPS <= 0 || r.P50Ms <= 0 || r.P50Ms > r.P90Ms || r.P90Ms > r.P99Ms {
		t.Errorf("%s: committed_tps %g, latency p50 %g p90 %g p99 %g ms; want positive and ordered", name, r.CommittedTPS, r.P50Ms, r.P90Ms, r.P99Ms)
	}
}

// TestSmoke is the CI smoke test of `accord bench`: a real node in this
// process, 200 payers, about 2 s of each workload. The second run reuses
// the first one's payers (same seed), so it must read their nonces.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	url, keys := startNode(t)
	ks, err := keystore.Open(keys)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Get(provision.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	rep, err := bench.Run(ctx, bench.Config{
		Node: url, Issuer: admin.Private, Workload: bench.Uniform,
		Accounts: 200, Duration: 2 * time.Second, MaxTxs: 6000, Seed: 1,
	}, nil)
	if err != nil {
		t.Fatalf("uniform: %v", err)
	}
	checkCounts(t, "uniform", rep)
	if rep.Presigned != 6000 || rep.Submitted > 6000 {
		t.Errorf("uniform: %d pre-signed, %d submitted; want 6000 and at most that", rep.Presigned, rep.Submitted)
	}

	// The merchants run goes through the command line, flags and JSON.
	var out, stderr bytes.Buffer
	code := cli.Run([]string{"bench", "--node", url, "--keys", keys,
		"--workload", "merchants", "--accounts", "200", "--merchants", "50", "--zipf", "1.3",
		"--duration", "2s", "--rate", "1500", "--batch", "100", "-o", "json"}, &out, &stderr)
	if code != 0 {
		t.Fatalf("accord bench --workload merchants: exit %d: %s", code, stderr.String())
	}
	var fields map[string]any
	if err := json.Unmarshal(out.Bytes(), &fields); err != nil {
		t.Fatalf("-o json: %v: %s", err, out.String())
	}
	for _, f := range []string{"committed_tps", "p50_ms", "p90_ms", "p99_ms", "submitted", "committed",
		"failed", "rejected", "rejected_by_reason", "workload", "crypto", "accounts", "merchants", "duration_s", "rate"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("-o json lacks %q: %s", f, out.String())
		}
	}
	var mrep bench.Report
	if err := json.Unmarshal(out.Bytes(), &mrep); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "merchants", &mrep)
	if mrep.Workload != bench.Merchants || mrep.Merchants != 50 || mrep.Rate != 1500 || mrep.Presigned != 3000 {
		t.Errorf("merchants report: workload %q, merchants %d, rate %g, pre-signed %d; want merchants, 50, 1500, 3000",
			mrep.Workload, mrep.Merchants, mrep.Rate, mrep.Presigned)
	}
}

// TestPaymentsSmoke runs the payments workload for about 2 s: the
// merchants are registered through the pay contract, every payment
// commits, and the merchants' daily statements count exactly the
// committed payments.
func TestPaymentsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	url, keys := startNode(t)
	ks, err := keystore.Open(keys)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Get(provision.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const merchants = 40
	rep, err := bench.Run(ctx, bench.Config{
		Node: url, Issuer: admin.Private, Workload: bench.Payments, Merchants: merchants, Zipf: 1.2,
		Accounts: 200, Duration: 2 * time.Second, MaxTxs: 3000, Seed: 4,
	}, nil)
	if err != nil {
		t.Fatalf("payments: %v", err)
	}
	checkCounts(t, "payments", rep)
	c := sdk.New(url)
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Block(ctx, st.Height)
	if err != nil {
		t.Fatal(err)
	}
	today := paycall.Day(b.Header.Time)
	var count uint64
	for k := range merchants {
		for _, d := range []uint32{today - 1, today} {
			s, err := c.Statement(ctx, fmt.Sprintf("bench-4-%d", k), paycall.FormatDay(d), false)
			if err != nil {
				t.Fatal(err)
			}
			count += s.Payments.GetCount()
		}
	}
	if int64(count) != rep.Committed {
		t.Errorf("statements count %d payments, the bench committed %d", count, rep.Committed)
	}
}
