package api_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/accord-chain/accord/api"
	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
)

// bftNet is an api.BFTNetwork with fixed answers.
type bftNet struct{ ev []api.Evidence }

func (bftNet) Leader() (string, uint64)   { return "v1", 0 }
func (bftNet) Peers() []*apipb.PeerStatus { return nil }
func (bftNet) Available() error           { return nil }
func (bftNet) Forward(context.Context, [][]byte) ([]error, error) {
	return nil, nil
}
func (bftNet) ChangeNodes(context.Context, *apipb.ChangeNodesRequest, *apipb.NodeChange) ([]string, error) {
	return nil, errors.New("no")
}
func (bftNet) Members() ([]*apipb.Member, uint64) { return nil, 0 }
func (bftNet) BFTStatus() (uint64, []*apipb.ValidatorStatus) {
	return 7, []*apipb.ValidatorStatus{{NodeId: "v0", LastSeenRound: 6}, {NodeId: "v1", LastSeenRound: 7}}
}
func (n bftNet) Evidence() []api.Evidence { return n.ev }

type zeroNonces struct{}

func (zeroNonces) Nonce(types.Address) (uint64, error) { return 0, nil }

func evidenceServer(t *testing.T, consensus string, n api.Network) *sdk.Client {
	t.Helper()
	st, err := store.Open(store.Options{Dir: "db", FS: vfs.NewMem(), CacheBytes: 1 << 20, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var pc txpool.Config
	pc.EnsureDefaults()
	pool, err := txpool.New(pc, "ev", crypto.SHA256, zeroNonces{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	d := api.Deps{ChainID: "ev", Hash: crypto.SHA256, Store: st, Hub: api.NewHub(), Pool: pool, Consensus: consensus}
	if n != nil {
		d.Network = n
	}
	srv := httptest.NewServer(api.New(d).Handler(nil))
	t.Cleanup(srv.Close)
	return sdk.New(srv.URL)
}

func TestEvidenceAndBFTStatus(t *testing.T) {
	want := api.Evidence{Validator: "v3", Round: 9, A: "0a", B: "0b"}
	c := evidenceServer(t, "bft", bftNet{ev: []api.Evidence{want}})
	ctx := context.Background()
	ev, err := c.Evidence(ctx)
	if err != nil || len(ev) != 1 || ev[0] != (sdk.Evidence(want)) {
		t.Fatalf("evidence %+v, %v; want %+v", ev, err, want)
	}
	s, err := c.Status(ctx)
	if err != nil || s.Round != 7 || len(s.Validators) != 2 || s.Validators[1].LastSeenRound != 7 || s.Consensus != "bft" {
		t.Fatalf("status %+v, %v", s, err)
	}
	if ev, err := evidenceServer(t, "bft", bftNet{}).Evidence(ctx); err != nil || ev == nil || len(ev) != 0 {
		t.Fatalf("no evidence: %#v, %v; want an empty list", ev, err)
	}
	if _, err := evidenceServer(t, "solo", nil).Evidence(ctx); !errors.Is(err, sdk.ErrNoEvidence) {
		t.Fatalf("solo node: %v, want ErrNoEvidence", err)
	}
}
