package wasm

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentCallsAgree runs calls of one contract from several
// goroutines at once, so that they need instances of their own: each must
// give what the same call gives alone.
func TestConcurrentCallsAgree(t *testing.T) {
	c := install(t, Compiler, "counter")
	alone := call(t, c, newHost(), "increment", `{"by":7}`, gas)
	if alone.err != nil {
		t.Fatal(alone.err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				h := newHost()
				h.begin()
				res, err := c.Call(t.Context(), Call{Method: "increment", Args: []byte(`{"by":7}`), Caller: "alice",
					CallerOrg: "org1", CallerRole: "admin", Self: "contract", TxID: []byte("tx-1"), Height: 7, Time: 1_700_000_000_000, GasLimit: gas, Host: h})
				h.end(err == nil)
				if err != nil || string(res.Return) != alone.ret || res.GasUsed != alone.gas || h.dump() != alone.host {
					errs <- fmt.Errorf("concurrent call: %q gas %d err %v state %s; alone %v %s", res.Return, res.GasUsed, err, h.dump(), alone, alone.host)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c.mu.Lock()
	idle := len(c.idle)
	c.mu.Unlock()
	if idle == 0 {
		t.Log("no second instance was needed (the goroutines never overlapped)")
	}
	checkReset(t, c)
}
