package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// TestContractCallsWaitForRoomInBlocks submits, in one batch, more counter
// calls than one block's gas limit holds: the pool cuts blocks by gas, so
// every call commits OK, spread over several blocks, none over the limit,
// instead of the calls beyond the limit becoming INVALID.
func TestContractCallsWaitForRoomInBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and builds a contract")
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "dev")
	port := freePort(t)
	out, errs, done := runBackground(t, "dev", "--home", home, "--base-port", strconv.Itoa(port))
	waitFor(t, "dev to start", func() bool {
		select {
		case code := <-done:
			t.Fatalf("accord dev exited %d: %s", code, errs.String())
		default:
		}
		return strings.Contains(out.String(), "API:")
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	keys := filepath.Join(home, "keys")
	node := []string{"--node", url, "--keys", keys}
	wasm := filepath.Join(dir, "counter.wasm")
	ok(t, "contract", "build", "../../examples/contracts/counter", "-o", wasm)
	ok(t, append([]string{"contract", "install", "counter", wasm, "--from", "admin", "--wait"}, node...)...)
	var first struct {
		GasUsed int `json:"gas_used"`
	}
	if err := json.Unmarshal([]byte(ok(t, append([]string{"contract", "call", "counter", "increment", "--args", `{"by":1}`,
		"--from", "admin", "--wait", "-o", "json"}, node...)...)), &first); err != nil || first.GasUsed == 0 {
		t.Fatalf("first call: %v %+v", err, first)
	}
	// Three calls of the default gas (twice what a call uses) fill a
	// block; execution alone, which counts the gas used, would run five
	// and find no room for the sixth.
	const perBlock, calls = 3, 12
	txGas := 2 * first.GasUsed
	ok(t, append([]string{"contract", "set-params", "--tx-gas", strconv.Itoa(txGas), "--tx-gas-max", strconv.Itoa(txGas),
		"--block-gas", strconv.Itoa(perBlock * txGas), "--from", "admin", "--wait"}, node...)...)
	wantError(t, "lower --gas", append([]string{"contract", "call", "counter", "increment", "--args", `{"by":1}`,
		"--gas", strconv.Itoa(txGas + 1), "--from", "admin"}, node...)...)

	ks, err := keystore.Open(keys)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ks.Get("admin")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := sdk.New(url)
	tx0, err := c.Sign(ctx, k.Private, sdk.Call{Contract: "counter", Method: "increment", Args: []byte(`{"by":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	raws := [][]byte{tx0.Raw}
	for i := uint64(1); i < calls; i++ {
		n := tx0.Nonce() + i
		tx, err := c.Sign(ctx, k.Private, sdk.Call{Contract: "counter", Method: "increment", Args: []byte(`{"by":1}`), Nonce: &n})
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, tx.Raw)
	}
	res, err := c.SubmitBatch(ctx, raws)
	if err != nil {
		t.Fatal(err)
	}
	perHeight := map[uint64]int{}
	for i, r := range res {
		if r.Error != "" {
			t.Fatalf("call %d refused: %s", i, r.Error)
		}
		id, err := types.ParseHash(r.TxId)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.WaitOK(ctx, id)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		perHeight[got.Height]++
	}
	for h, n := range perHeight {
		if n > perBlock {
			t.Fatalf("%d calls at height %d; a block holds %d", n, h, perBlock)
		}
	}
	if len(perHeight) < calls/perBlock {
		t.Fatalf("%d calls in %d blocks; want at least %d", calls, len(perHeight), calls/perBlock)
	}
	var qr struct{ Result json.RawMessage }
	if err := json.Unmarshal([]byte(ok(t, append([]string{"contract", "query", "counter", "get", "-o", "json"}, node...)...)), &qr); err != nil ||
		compact(qr.Result) != `{"value":`+strconv.Itoa(calls+1)+`}` {
		t.Fatalf("counter after %d calls: %s %v", calls+1, qr.Result, err)
	}
}
