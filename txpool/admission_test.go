package txpool

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
)

// TestAdmission runs the scripts in testdata/admission.txt; regenerate the
// expected output with -rewrite after checking a change by hand.
//
// Transactions are named sender/nonce with optional :modifiers, e.g. a/0,
// b/3:alt. Senders are letters, each an Ed25519 key. Modifiers:
//
//	alt         another transaction with the same sender and nonce
//	otherchain  signed for another chain
//	expired     expired before the pool's clock
//	badsig      a corrupted signature
//	big         larger than max-tx-bytes of 1024
//
// "garbage" is bytes that do not decode. Commands:
//
//	init [max-txs=N] [window=N]   a new pool; all senders start at nonce 0
//	state a=N ...                 set committed nonces without telling the pool
//	submit TX...                  one Submit call; prints each result
//	reap [max=N]                  Reap; the result is queued as a block in flight
//	commit [TX...] [fail=(TX...)] execute the oldest block in flight, or the
//	                              given one (built elsewhere), failing the listed
//	                              transactions; then Update
//	pool                          per sender: committed and next nonce, entries
//	stats                         counters
func TestAdmission(t *testing.T) {
	var (
		p      *Pool
		st     *fakeState
		blocks [][]*types.Tx
		names  = map[types.Hash]string{}
	)
	tx := func(t *testing.T, spec string) (*types.Tx, []byte) {
		if spec == "garbage" {
			return nil, []byte("not a transaction")
		}
		name, mods, _ := strings.Cut(spec, ":")
		sender, n, ok := strings.Cut(name, "/")
		nonce, err := strconv.ParseUint(n, 10, 64)
		if !ok || err != nil || sender == "" {
			t.Fatalf("bad transaction %q: want sender/nonce[:modifier]", spec)
		}
		var opts []txOpt
		badsig := false
		for _, m := range strings.Split(mods, ",") {
			switch m {
			case "":
			case "alt":
				opts = append(opts, withMethod("alt"))
			case "otherchain":
				opts = append(opts, withChain("other-chain"))
			case "expired":
				opts = append(opts, expiresIn(-time.Second))
			case "big":
				opts = append(opts, withArgs(make([]byte, 1024)))
			case "badsig":
				badsig = true
			default:
				t.Fatalf("unknown modifier %q in %q", m, spec)
			}
		}
		out := signTx(t, keyFor(t, crypto.Ed25519, "dd-"+sender), nonce, opts...)
		if badsig {
			out = flipped(t, out)
		}
		names[out.ID] = spec
		return out, out.Raw
	}
	nameOf := func(x *types.Tx) string {
		if n, ok := names[x.ID]; ok {
			return n
		}
		return "?" + x.ID.String()[:8]
	}
	txList := func(txs []*types.Tx) string {
		s := make([]string, len(txs))
		for i, x := range txs {
			s[i] = nameOf(x)
		}
		return strings.Join(s, " ")
	}

	datadriven.RunTest(t, "testdata/admission.txt", func(t *testing.T, d *datadriven.TestData) string {
		if p == nil && d.Cmd != "init" {
			t.Fatalf("%s: run init first", d.Pos)
		}
		switch d.Cmd {
		case "init":
			cfg := Config{MaxTxBytes: 1024, Workers: 2, BatchSize: 2}
			d.MaybeScanArgs(t, "max-txs", &cfg.MaxTxs)
			d.MaybeScanArgs(t, "window", &cfg.NonceWindow)
			if p != nil {
				p.Close()
			}
			st, blocks = newState(), nil
			p = newTestPool(t, cfg, st)
			return "ok"

		case "state":
			for _, a := range d.CmdArgs {
				x, _ := tx(t, a.Key+"/0")
				n, err := strconv.ParseUint(a.SingleVal(t), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				st.set(x.Sender, n)
			}
			return "ok"

		case "submit":
			specs := make([]string, 0, len(d.CmdArgs))
			batch := make([][]byte, 0, len(d.CmdArgs))
			for _, a := range d.CmdArgs {
				_, raw := tx(t, a.Key)
				specs = append(specs, a.Key)
				batch = append(batch, raw)
			}
			var b strings.Builder
			for i, r := range p.Submit(batch) {
				res := "ok"
				if r.Err != nil {
					res = r.Err.Error()
				}
				fmt.Fprintf(&b, "%s: %s\n", specs[i], res)
			}
			return b.String()

		case "reap":
			maxTxs := 1000
			d.MaybeScanArgs(t, "max", &maxTxs)
			got := p.Reap(maxTxs, 1<<20)
			if len(got) == 0 {
				return "nothing ready"
			}
			blocks = append(blocks, got)
			return txList(got)

		case "commit":
			var block []*types.Tx
			fail := map[string]bool{}
			for _, a := range d.CmdArgs {
				if a.Key == "fail" {
					for _, v := range a.Vals {
						fail[v] = true
					}
					continue
				}
				x, _ := tx(t, a.Key)
				block = append(block, x)
			}
			if block == nil {
				if len(blocks) == 0 {
					t.Fatalf("%s: no block in flight", d.Pos)
				}
				block, blocks = blocks[0], blocks[1:]
			}
			valid := st.execute(block, func(x *types.Tx) bool { return fail[nameOf(x)] })
			p.Update(block)
			var b strings.Builder
			for _, x := range block {
				res := "failed"
				if slices.Contains(valid, x) {
					res = "committed"
				}
				fmt.Fprintf(&b, "%s: %s\n", nameOf(x), res)
			}
			return b.String()

		case "pool":
			if err := checkInvariants(p); err != nil {
				t.Fatalf("%s: %v", d.Pos, err)
			}
			return dumpPool(p, nameOf)

		case "stats":
			s := p.Stats()
			var b strings.Builder
			fmt.Fprintf(&b, "admitted=%d verified=%d cache-hits=%d\n", s.Admitted, s.Verified, s.CacheHits)
			for r, n := range s.Rejected {
				if n > 0 {
					fmt.Fprintf(&b, "rejected %s=%d\n", Reason(r), n)
				}
			}
			return b.String()
		}
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
		return ""
	})
}

// dumpPool prints the pool sender by sender, in order of name.
func dumpPool(p *Pool, nameOf func(*types.Tx) string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := []string{}
	for _, acct := range p.accounts {
		var b strings.Builder
		sender, _, _ := strings.Cut(nameOf(acct.txs[0].tx), "/")
		fmt.Fprintf(&b, "%s: committed=%d next=%d", sender, acct.committed, acct.next)
		for _, e := range acct.txs {
			fmt.Fprintf(&b, " %s(%s)", nameOf(e.tx), e.state)
		}
		lines = append(lines, b.String())
	}
	slices.Sort(lines)
	return fmt.Sprintf("len=%d ready=%d\n%s", p.count, p.readyCount, strings.Join(append(lines, ""), "\n"))
}
