package usercontract

import (
	"testing"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/execution/exectest"
	"github.com/accord-chain/accord/types"
)

// TestParamsFromGovernance: on a permissioned chain the parameters are
// governance's (set_params), zero fields keeping the defaults; the
// registry's own key is what an open chain reads.
func TestParamsFromGovernance(t *testing.T) {
	g := govcall.Params{MaxBlockTxs: 5000, ContractCallDepth: 300, ContractTxGas: 1_000_000, GasStateWrite: 7, GasCallBase: 1234}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	state := exectest.NewState()
	state.Set(execution.ContractKey("gov", []byte("params")), types.EncodeCanonical(g.Message()))
	own := DefaultParams()
	own.Gas.Instr = 3
	state.Set(ParamsKey(), own.Encode())

	perm := New(Config{Governance: "gov"})
	p, err := perm.params(state)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultParams()
	want.MaxCallDepth, want.TxGasDefault, want.Gas.StateWrite, want.Gas.CallBase = 300, 1_000_000, 7, 1234
	if p != want {
		t.Fatalf("permissioned parameters = %+v; want %+v", p, want)
	}
	if p, err := New(Config{}).params(state); err != nil || p != own {
		t.Fatalf("open-chain parameters = %+v, %v; want the registry's %+v", p, err, own)
	}
	for _, bad := range []govcall.Params{{ContractCallDepth: 5000}, {ContractTxGas: 10, ContractTxGasMax: 5}, {ContractBlockGas: 1}, {GasVerify: 1 << 30}, {GasCallBase: 1 << 30}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("governance accepted %+v", bad)
		}
	}
}
