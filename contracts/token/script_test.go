package token_test

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// TestScripts runs the scripts in testdata/scripts/. Accounts are named; a name
// always maps to the same key. Commands:
//
//	genesis issuer=NAME        input: "NAME AMOUNT" lines
//	block [time=MS]            input: one transaction a line:
//	    SENDER METHOD [to=NAME] [amount=N] [nonce=N] [expires=MS] [chain=ID]
//	                  [contract=NAME] [args=HEX] [to-bytes=N]
//
// Nonces default to the sender's next one; to-bytes=N cuts the recipient
// address to N bytes. A block prints each receipt with its events, then the
// balances, supply and nonces. Run with -rewrite to regenerate the output.
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/scripts", func(t *testing.T, path string) {
		s := &script{accts: map[string]*exectest.Account{}, names: map[types.Address]string{}}
		var err error
		s.ex, err = execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256}, token.New())
		if err != nil {
			t.Fatal(err)
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "genesis":
				return s.genesis(t, d)
			case "block":
				return s.block(t, d)
			}
			t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
			return ""
		})
	})
}

type script struct {
	ex     *execution.Executor
	state  *exectest.State
	accts  map[string]*exectest.Account
	names  map[types.Address]string
	height uint64
}

func (s *script) acct(name string) *exectest.Account {
	if a, ok := s.accts[name]; ok {
		return a
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	a := exectest.NewAccount(crypto.Ed25519, h.Sum64(), chainID, crypto.SHA256)
	s.accts[name], s.names[a.Address] = a, name
	return a
}

func (s *script) genesis(t *testing.T, d *datadriven.TestData) string {
	var issuer string
	d.ScanArgs(t, "issuer", &issuer)
	var alloc []token.Alloc
	for _, line := range lines(d.Input) {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("%s: want NAME AMOUNT, got %q", d.Pos, line)
		}
		alloc = append(alloc, token.Alloc{Address: s.acct(f[0]).Address, Amount: mustUint(t, f[1])})
	}
	ws, err := token.Genesis(s.acct(issuer).Address, alloc)
	if err != nil {
		return "error: " + err.Error()
	}
	s.state, s.height = exectest.NewState(ws), 0
	return s.summary(t)
}

func (s *script) block(t *testing.T, d *datadriven.TestData) string {
	s.height++
	in := &execution.BlockInput{Height: s.height, Time: s.height * 1000}
	d.MaybeScanArgs(t, "time", &in.Time)
	for _, line := range lines(d.Input) {
		in.Txs = append(in.Txs, s.tx(t, line))
	}
	res, err := s.ex.Execute(s.state, in)
	if err != nil {
		return "error: " + err.Error()
	}
	s.state.Apply(res.Writes)
	for _, a := range s.accts {
		a.Nonce, _ = execution.Nonce(s.state, a.Address)
	}
	var b strings.Builder
	for i, r := range res.Receipts {
		status := strings.TrimPrefix(r.Status.String(), "TX_STATUS_")
		fmt.Fprintf(&b, "%d %s", i, status)
		if r.Message != "" {
			fmt.Fprintf(&b, " %s", s.rename(r.Message))
		}
		b.WriteString("\n")
		for _, e := range r.Events {
			fmt.Fprintf(&b, "  %s.%s", e.Contract, e.Name)
			for _, a := range e.Attributes {
				fmt.Fprintf(&b, " %s=%s", a.Key, s.rename(a.Value))
			}
			b.WriteString("\n")
		}
	}
	return b.String() + s.summary(t)
}

func (s *script) tx(t *testing.T, line string) *types.Tx {
	f := strings.Fields(line)
	if len(f) < 2 {
		t.Fatalf("want SENDER METHOD [key=value...], got %q", line)
	}
	from := s.acct(f[0])
	body := &pb.TxPayload{Nonce: from.Nonce, Contract: token.Name, Method: f[1]}
	var to types.Address
	var amount uint64
	toBytes, nonceSet := len(to), false
	var rawArgs []byte
	for _, kv := range f[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("%q: want key=value, got %q", line, kv)
		}
		switch k {
		case "to":
			to = s.acct(v).Address
		case "amount":
			amount = mustUint(t, v)
		case "nonce":
			body.Nonce, nonceSet = mustUint(t, v), true
		case "expires":
			body.ExpiresAt = mustUint(t, v)
		case "chain":
			body.ChainId = v
		case "contract":
			body.Contract = v
		case "to-bytes":
			toBytes = int(mustUint(t, v))
		case "args":
			var err error
			if rawArgs, err = hex.DecodeString(v); err != nil {
				t.Fatalf("%q: args: %v", line, err)
			}
		default:
			t.Fatalf("%q: unknown key %q", line, k)
		}
	}
	switch {
	case rawArgs != nil:
		body.Args = rawArgs
	case body.Method == token.MethodBurn:
		body.Args = tokencall.Burn(amount)
	case body.Method == token.MethodMint:
		body.Args = marshalArgs(t, &pb.MintArgs{To: to[:toBytes], Amount: amount})
	default:
		body.Args = marshalArgs(t, &pb.TransferArgs{To: to[:toBytes], Amount: amount})
	}
	if !nonceSet {
		from.Nonce++
	}
	return from.TxWith(body)
}

// summary prints non-zero balances, the supply and non-zero nonces by name.
func (s *script) summary(t *testing.T) string {
	names := slices.Sorted(maps.Keys(s.accts))
	var bal, non []string
	for _, n := range names {
		a := s.accts[n].Address
		if b, err := token.Balance(s.state, a); err != nil {
			t.Fatal(err)
		} else if b != 0 {
			bal = append(bal, fmt.Sprintf("%s=%d", n, b))
		}
		if x, _ := execution.Nonce(s.state, a); x != 0 {
			non = append(non, fmt.Sprintf("%s=%d", n, x))
		}
	}
	supply, err := token.Supply(s.state)
	if err != nil {
		t.Fatal(err)
	}
	if len(non) == 0 {
		non = []string{"none"}
	}
	return fmt.Sprintf("balances: %s supply=%d\nnonces: %s\n", strings.Join(bal, " "), supply, strings.Join(non, " "))
}

// rename replaces hex addresses with account names.
func (s *script) rename(msg string) string {
	for a, n := range s.names {
		msg = strings.ReplaceAll(msg, a.String(), n)
	}
	return msg
}

func marshalArgs(t *testing.T, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lines(in string) []string {
	var out []string
	for l := range strings.SplitSeq(in, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func mustUint(t *testing.T, s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%q is not a uint64: %v", s, err)
	}
	return v
}
