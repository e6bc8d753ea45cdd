package token_test

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

const chainID = "token-test"

// harness is a chain running only the token contract. Account 0 is the
// issuer.
type harness struct {
	t      *testing.T
	ex     *execution.Executor
	state  *exectest.State
	accts  []*exectest.Account
	height uint64
}

// newHarness makes n accounts with the given starting balances (missing
// ones are 0).
func newHarness(t *testing.T, n int, balances ...uint64) *harness {
	t.Helper()
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256}, token.New())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ex: ex}
	var alloc []token.Alloc
	for i := range n {
		a := exectest.NewAccount(crypto.Ed25519, uint64(100+i), chainID, crypto.SHA256)
		h.accts = append(h.accts, a)
		if i < len(balances) {
			alloc = append(alloc, token.Alloc{Address: a.Address, Amount: balances[i]})
		}
	}
	ws, err := token.Genesis(h.accts[0].Address, alloc)
	if err != nil {
		t.Fatal(err)
	}
	h.state = exectest.NewState(ws)
	return h
}

func (h *harness) addr(i int) types.Address { return h.accts[i].Address }

// exec executes txs as the next block and commits it.
func (h *harness) exec(txs ...*types.Tx) *execution.Result {
	h.t.Helper()
	h.height++
	res, err := h.ex.Execute(h.state, &execution.BlockInput{Height: h.height, Time: h.height * 1000, Txs: txs})
	if err != nil {
		h.t.Fatalf("Execute: %v", err)
	}
	h.state.Apply(res.Writes)
	return res
}

// call executes one call from account i as a block.
func (h *harness) call(i int, method string, args []byte) (*pb.Receipt, *execution.Result) {
	h.t.Helper()
	res := h.exec(h.accts[i].Tx(token.Name, method, args))
	return res.Receipts[0], res
}

// simulate returns the error the contract gives for a call from account i.
func (h *harness) simulate(i int, method string, args []byte) error {
	h.t.Helper()
	r, err := h.ex.Simulate(h.state, &execution.CallInput{Sender: h.addr(i), Height: h.height + 1, Contract: token.Name, Method: method, Args: args})
	if err != nil {
		h.t.Fatalf("Simulate: %v", err)
	}
	return r.Err
}

func (h *harness) balance(i int) uint64 {
	h.t.Helper()
	b, err := token.Balance(h.state, h.addr(i))
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) supply() uint64 {
	h.t.Helper()
	s, err := token.Supply(h.state)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// wantEvent checks that r holds exactly one event with these attributes.
func wantEvent(t *testing.T, r *pb.Receipt, name string, kv ...string) {
	t.Helper()
	if r.Status != pb.TxStatus_TX_STATUS_OK {
		t.Fatalf("receipt = %v %q, want OK", r.Status, r.Message)
	}
	if len(r.Events) != 1 {
		t.Fatalf("receipt has %d events, want 1", len(r.Events))
	}
	e := r.Events[0]
	var got []string
	for _, a := range e.Attributes {
		got = append(got, a.Key, a.Value)
	}
	if e.Contract != token.Name || e.Name != name || !slices.Equal(got, kv) {
		t.Errorf("event = %s.%s %q, want token.%s %q", e.Contract, e.Name, got, name, kv)
	}
}

func TestMint(t *testing.T) {
	h := newHarness(t, 2, 0)
	r, _ := h.call(0, token.MethodMint, tokencall.Mint(h.addr(1), 500))
	wantEvent(t, r, "mint", "to", h.addr(1).String(), "amount", "500")
	if h.balance(1) != 500 || h.supply() != 500 {
		t.Errorf("after mint: balance %d supply %d, want 500 and 500", h.balance(1), h.supply())
	}
	r, _ = h.call(0, token.MethodMint, tokencall.Mint(h.addr(0), math.MaxUint64-500))
	wantEvent(t, r, "mint", "to", h.addr(0).String(), "amount", strconv.FormatUint(math.MaxUint64-500, 10))
	if h.supply() != math.MaxUint64 {
		t.Errorf("supply = %d, want the maximum", h.supply())
	}
}

func TestTransfer(t *testing.T) {
	h := newHarness(t, 3, 0, 100)
	r, _ := h.call(1, token.MethodTransfer, tokencall.Transfer(h.addr(2), 30))
	wantEvent(t, r, "transfer", "from", h.addr(1).String(), "to", h.addr(2).String(), "amount", "30")
	if h.balance(1) != 70 || h.balance(2) != 30 || h.supply() != 100 {
		t.Errorf("balances %d, %d supply %d; want 70, 30, 100", h.balance(1), h.balance(2), h.supply())
	}
	// Spending everything deletes the balance entry.
	h.call(1, token.MethodTransfer, tokencall.Transfer(h.addr(2), 70))
	if v, _ := h.state.Get(token.BalanceKey(h.addr(1))); v != nil || h.balance(2) != 100 {
		t.Errorf("emptied balance stored as %x; receiver has %d, want 100", v, h.balance(2))
	}
}

// A transfer to oneself is accepted when the balance covers it, changes no
// balance and emits its event.
func TestTransferToSelf(t *testing.T) {
	h := newHarness(t, 2, 0, 100)
	r, res := h.call(1, token.MethodTransfer, tokencall.Transfer(h.addr(1), 100))
	wantEvent(t, r, "transfer", "from", h.addr(1).String(), "to", h.addr(1).String(), "amount", "100")
	if h.balance(1) != 100 || len(res.Writes) != 1 {
		t.Errorf("self transfer: balance %d with %d writes, want 100 and only the nonce", h.balance(1), len(res.Writes))
	}
	if err := h.simulate(1, token.MethodTransfer, tokencall.Transfer(h.addr(1), 101)); !errors.Is(err, token.ErrInsufficient) {
		t.Errorf("self transfer beyond the balance: %v, want %v", err, token.ErrInsufficient)
	}
}

func TestBurn(t *testing.T) {
	h := newHarness(t, 2, 300, 50)
	r, _ := h.call(0, token.MethodBurn, tokencall.Burn(120))
	wantEvent(t, r, "burn", "from", h.addr(0).String(), "amount", "120")
	if h.balance(0) != 180 || h.supply() != 230 {
		t.Errorf("after burn: balance %d supply %d, want 180 and 230", h.balance(0), h.supply())
	}
	h.call(0, token.MethodBurn, tokencall.Burn(180))
	if v, _ := h.state.Get(token.BalanceKey(h.addr(0))); v != nil || h.supply() != 50 {
		t.Errorf("burning everything: balance entry %x, supply %d; want deleted and 50", v, h.supply())
	}
}

// TestFailures checks each failure twice: through Simulate, where the
// sentinel can be matched, and through a block, where the receipt is FAILED
// with the same message and only the sender's nonce moves.
func TestFailures(t *testing.T) {
	h := newHarness(t, 4, 1000, 10, 0, 0)
	big := h.addr(3)
	// State no transaction could make: a balance at the maximum.
	h.state.Set(token.BalanceKey(big), binaryU64(math.MaxUint64))

	withUnknownField := protowire.AppendVarint(protowire.AppendTag(tokencall.Transfer(h.addr(2), 1), 99, protowire.VarintType), 1)
	shortAddr, _ := proto.Marshal(&pb.TransferArgs{To: make([]byte, 19), Amount: 1})
	shortMint, _ := proto.Marshal(&pb.MintArgs{To: make([]byte, 21), Amount: 1})

	for _, tc := range []struct {
		name   string
		sender int
		method string
		args   []byte
		want   error
		msg    string // the whole message, when it is worth pinning
	}{
		{"mint by non-issuer", 1, token.MethodMint, tokencall.Mint(h.addr(1), 5), token.ErrNotIssuer,
			"not the issuer: only " + h.addr(0).String() + " may mint, not " + h.addr(1).String()},
		{"burn by non-issuer", 1, token.MethodBurn, tokencall.Burn(5), token.ErrNotIssuer, ""},
		{"insufficient", 1, token.MethodTransfer, tokencall.Transfer(h.addr(2), 11), token.ErrInsufficient,
			"insufficient balance: have 10, need 11"},
		{"empty sender", 2, token.MethodTransfer, tokencall.Transfer(h.addr(1), 1), token.ErrInsufficient,
			"insufficient balance: have 0, need 1"},
		{"burn more than held", 0, token.MethodBurn, tokencall.Burn(1001), token.ErrInsufficient,
			"insufficient balance: have 1000, need 1001"},
		{"transfer overflows receiver", 0, token.MethodTransfer, tokencall.Transfer(big, 1), token.ErrOverflow, ""},
		{"mint overflows receiver", 0, token.MethodMint, tokencall.Mint(big, 1), token.ErrOverflow, ""},
		{"mint overflows supply", 0, token.MethodMint, tokencall.Mint(h.addr(2), math.MaxUint64-1009), token.ErrOverflow,
			"overflow: supply 1010 plus 18446744073709550606 exceeds 18446744073709551615"},
		{"transfer 0", 1, token.MethodTransfer, tokencall.Transfer(h.addr(2), 0), token.ErrBadAmount, "bad amount: transfer of 0"},
		{"mint 0", 0, token.MethodMint, tokencall.Mint(h.addr(2), 0), token.ErrBadAmount, ""},
		{"burn 0", 0, token.MethodBurn, tokencall.Burn(0), token.ErrBadAmount, ""},
		{"garbage args", 1, token.MethodTransfer, []byte{0xff, 0xff}, token.ErrBadArgs, "malformed arguments: not a valid TransferArgs message"},
		{"unknown field", 1, token.MethodTransfer, withUnknownField, token.ErrBadArgs, "malformed arguments: TransferArgs has unknown fields"},
		{"no args", 1, token.MethodTransfer, nil, token.ErrBadAddress, "bad address: to is 0 bytes, want 20"},
		{"19-byte to", 1, token.MethodTransfer, shortAddr, token.ErrBadAddress, ""},
		{"21-byte mint to", 0, token.MethodMint, shortMint, token.ErrBadAddress, ""},
		{"unknown method", 1, "approve", nil, token.ErrUnknownMethod, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.simulate(tc.sender, tc.method, tc.args)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message = %q, want %q", err.Error(), tc.msg)
			}
			before := h.state.Clone()
			r, res := h.call(tc.sender, tc.method, tc.args)
			if r.Status != pb.TxStatus_TX_STATUS_FAILED || r.Message != err.Error() || len(r.Events) != 0 {
				t.Errorf("receipt = %v %q with %d events, want FAILED %q without events", r.Status, r.Message, len(r.Events), err)
			}
			nk := execution.NonceKey(h.addr(tc.sender))
			if len(res.Writes) != 1 || !bytes.Equal(res.Writes[0].Key, nk) {
				t.Errorf("failed call wrote %d keys, want only the sender's nonce", len(res.Writes))
			}
			for _, k := range before.Keys() {
				if k == string(nk) {
					continue
				}
				if a, _ := before.Get([]byte(k)); !bytes.Equal(a, mustGet(h.state, k)) {
					t.Errorf("failed call changed %q", k)
				}
			}
		})
	}
}

func TestCorruptBalance(t *testing.T) {
	h := newHarness(t, 2, 10)
	h.state.Set(token.BalanceKey(h.addr(1)), []byte{1, 2, 3})
	if err := h.simulate(0, token.MethodTransfer, tokencall.Transfer(h.addr(1), 1)); !errors.Is(err, execution.ErrCorrupt) {
		t.Errorf("transfer to a 3-byte balance: %v, want %v", err, execution.ErrCorrupt)
	}
	if _, err := token.Balance(h.state, h.addr(1)); !errors.Is(err, execution.ErrCorrupt) {
		t.Errorf("Balance of a 3-byte entry: %v, want %v", err, execution.ErrCorrupt)
	}
}

func TestNoIssuer(t *testing.T) {
	ex, err := execution.New(execution.Config{ChainID: chainID, Hash: crypto.SHA256}, token.New())
	if err != nil {
		t.Fatal(err)
	}
	a := exectest.NewAccount(crypto.Ed25519, 1, chainID, crypto.SHA256)
	r, err := ex.Simulate(exectest.NewState(), &execution.CallInput{Sender: a.Address, Contract: token.Name, Method: token.MethodMint, Args: tokencall.Mint(a.Address, 1)})
	if err != nil || !errors.Is(r.Err, token.ErrNotIssuer) {
		t.Errorf("mint without an issuer: %v, %v; want %v", r.Err, err, token.ErrNotIssuer)
	}
	if _, ok, err := token.Issuer(exectest.NewState()); ok || err != nil {
		t.Errorf("Issuer of empty state = %v, %v; want none", ok, err)
	}
}

func TestGenesis(t *testing.T) {
	a := exectest.NewAccount(crypto.Ed25519, 1, chainID, crypto.SHA256).Address
	b := exectest.NewAccount(crypto.Ed25519, 2, chainID, crypto.SHA256).Address
	c := exectest.NewAccount(crypto.Ed25519, 3, chainID, crypto.SHA256).Address
	ws, err := token.Genesis(c, []token.Alloc{{b, 7}, {a, 5}, {c, 0}})
	if err != nil {
		t.Fatal(err)
	}
	keys := [][]byte{token.BalanceKey(a), token.BalanceKey(b), token.IssuerKey(), token.SupplyKey()}
	slices.SortFunc(keys, bytes.Compare)
	if len(ws) != len(keys) {
		t.Fatalf("genesis has %d writes, want %d (zero allocations left out)", len(ws), len(keys))
	}
	for i, w := range ws {
		if !bytes.Equal(w.Key, keys[i]) || w.Delete {
			t.Errorf("write %d is %q, want %q", i, w.Key, keys[i])
		}
	}
	s := exectest.NewState(ws)
	if got, _ := token.Supply(s); got != 12 {
		t.Errorf("supply = %d, want 12", got)
	}
	if got, ok, _ := token.Issuer(s); !ok || got != c {
		t.Errorf("issuer = %s, want %s", got, c)
	}
	if string(token.SupplyKey()) != "c/token/supply" || string(token.IssuerKey()) != "c/token/issuer" ||
		string(token.BalanceKey(a)) != "c/token/b/"+string(a[:]) {
		t.Error("state keys do not follow the documented layout")
	}
	none, err := token.Genesis(types.Address{}, []token.Alloc{{a, 5}})
	if err != nil || len(none) != 2 {
		t.Fatalf("genesis without an issuer: %d writes, %v; want the balance and the supply", len(none), err)
	}
	if _, ok, err := token.Issuer(exectest.NewState(none)); ok || err != nil {
		t.Errorf("genesis with the zero issuer: Issuer says %v, %v; want none", ok, err)
	}
	if _, err := token.Genesis(c, []token.Alloc{{a, 1}, {a, 2}}); err == nil {
		t.Error("Genesis allocating one address twice succeeded")
	}
	if _, err := token.Genesis(c, []token.Alloc{{a, math.MaxUint64}, {b, 1}}); !errors.Is(err, token.ErrOverflow) {
		t.Errorf("Genesis over the maximum supply: %v, want %v", err, token.ErrOverflow)
	}
}

func TestArgsBuilders(t *testing.T) {
	to := exectest.NewAccount(crypto.Ed25519, 9, chainID, crypto.SHA256).Address
	var ta pb.TransferArgs
	var ma pb.MintArgs
	var ba pb.BurnArgs
	if proto.Unmarshal(tokencall.Transfer(to, 3), &ta) != nil || types.Address(ta.To) != to || ta.Amount != 3 {
		t.Errorf("TransferArgs decodes to %v", &ta)
	}
	if proto.Unmarshal(tokencall.Mint(to, 4), &ma) != nil || types.Address(ma.To) != to || ma.Amount != 4 {
		t.Errorf("MintArgs decodes to %v", &ma)
	}
	if proto.Unmarshal(tokencall.Burn(5), &ba) != nil || ba.Amount != 5 {
		t.Errorf("BurnArgs decodes to %v", &ba)
	}
}

func binaryU64(v uint64) []byte {
	return []byte{byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

func mustGet(s *exectest.State, k string) []byte {
	v, _ := s.Get([]byte(k))
	return v
}
