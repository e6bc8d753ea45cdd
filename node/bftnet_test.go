package node

import (
	"strings"
	"testing"
)

func TestConfigBFT(t *testing.T) {
	peers := `"peers":[{"id":1,"node_id":"a","p2p":"127.0.0.1:1","api":"127.0.0.1:2","pub_key":"00ff"},` +
		`{"id":2,"node_id":"b","p2p":"127.0.0.1:3","api":"127.0.0.1:4","pub_key":"11ee"}]`
	good := `{"api":"127.0.0.1:7070","consensus":"bft","raft":{"id":1,` + peers + `},"bft":{"tick_interval":"50ms","round_ticks":12}}`
	c, err := ParseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.BFT.RoundTicks != 12 || c.P2P.Listen != "127.0.0.1:1" || !c.networked() {
		t.Fatalf("parsed %+v", c)
	}
	for name, tc := range map[string]struct{ cfg, want string }{
		"no key":       {strings.Replace(good, `"pub_key":"11ee"`, `"pub_key":""`, 1), "pub_key"},
		"bad key":      {strings.Replace(good, `"pub_key":"11ee"`, `"pub_key":"xyz"`, 1), "pub_key"},
		"bad tick":     {strings.Replace(good, `"50ms"`, `"50"`, 1), "bft.tick_interval"},
		"bad ticks":    {strings.Replace(good, `"round_ticks":12`, `"round_ticks":-1`, 1), "round_ticks"},
		"join":         {strings.Replace(good, `"id":1,`, `"id":1,"join":true,`, 1), "join"},
		"no raft":      {`{"consensus":"bft"}`, "raft.id"},
		"unknown kind": {strings.Replace(good, `"bft",`, `"pbft",`, 1), "solo, raft or bft"},
	} {
		if _, err := ParseConfig([]byte(tc.cfg)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, tc.want)
		}
	}
}
