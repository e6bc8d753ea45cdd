package cli

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// lines returns the complete lines written so far.
func lines(b *syncBuffer) []string {
	s := b.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n")
	}
	return nil
}

// TestWatch: `accord watch` streams the committed events that match its
// filters, one JSON object a line, follows new blocks, and replays from
// --from-height.
func TestWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	net := filepath.Join(t.TempDir(), "net")
	var res struct {
		KeysDir string `json:"keys_dir"`
		Nodes   []struct{ Home string }
	}
	if err := json.Unmarshal([]byte(ok(t, "init", "--home", net, "-o", "json")), &res); err != nil {
		t.Fatal(err)
	}
	url := startNode(t, res.Nodes[0].Home)
	k := []string{"--keys", res.KeysDir, "--node", url}
	addr := func(name string) string {
		ok(t, "keys", "new", name, "--keys", res.KeysDir)
		return strings.TrimSpace(ok(t, "keys", "show", name, "--keys", res.KeysDir, "--address"))
	}
	alice, bob := addr("alice"), addr("bob")
	wantError(t, "--account", "watch", "--account", "nothex", "--node", url)

	// Follows: started before the transactions, from the next height, so
	// that a watch whose stream opens late still sees every block.
	var st struct {
		Height uint64 `json:"height"`
	}
	if err := json.Unmarshal([]byte(ok(t, "status", "--node", url, "-o", "json")), &st); err != nil {
		t.Fatal(err)
	}
	next := strconv.FormatUint(st.Height+1, 10)
	live, liveErr, _ := runBackground(t, "watch", "--contract", "token", "--event", "transfer", "--account", bob, "--from-height", next, "--node", url, "-o", "json")
	text, _, _ := runBackground(t, "watch", "--from-height", next, "--node", url)
	mint := ok(t, append([]string{"tx", "mint", "--to", alice, "--amount", "100", "--wait", "-o", "json"}, k...)...)
	ok(t, append([]string{"tx", "transfer", "--from", "alice", "--to", bob, "--amount", "7", "--wait"}, k...)...)
	ok(t, append([]string{"tx", "transfer", "--from", "alice", "--to", alice, "--amount", "1", "--wait"}, k...)...) // not bob's

	waitFor(t, "the transfer to bob on the live watch", func() bool { return len(lines(live)) >= 1 })
	var ev watchEvent
	if ls := lines(live); len(ls) != 1 || json.Unmarshal([]byte(ls[0]), &ev) != nil {
		t.Fatalf("watch --event transfer --account bob: %q (stderr %q), want one JSON line", ls, liveErr.String())
	}
	if ev.Contract != "token" || ev.Event != "transfer" || ev.Status != "ok" || ev.Attributes["from"] != alice || ev.Attributes["to"] != bob || ev.Attributes["amount"] != "7" || ev.Height == 0 {
		t.Fatalf("watch line: %+v, want alice's transfer of 7 to bob", ev)
	}
	waitFor(t, "three events on the unfiltered watch", func() bool { return len(lines(text)) >= 3 })
	if l := lines(text)[1]; !strings.HasPrefix(l, "height=") || !strings.Contains(l, " token.transfer from="+alice+" to="+bob+" amount=7") {
		t.Fatalf("watch text line %q, want height=H tx=ID token.transfer from=... to=... amount=7", l)
	}

	// Replays: started after, from the mint's height; the sender filter
	// matches alice's transactions.
	var m txResult
	if err := json.Unmarshal([]byte(mint), &m); err != nil {
		t.Fatal(err)
	}
	if out := ok(t, "query", "tx", m.TxID, "--node", url); !strings.Contains(out, "event:    token.mint to="+alice+" amount=100\n") {
		t.Fatalf("query tx of the mint: %q, want its event as key=value pairs", out)
	}
	replay, _, _ := runBackground(t, "watch", "--account", alice, "--from-height", strconv.FormatUint(m.Height, 10), "--node", url, "-o", "json")
	waitFor(t, "three replayed events naming alice", func() bool { return len(lines(replay)) >= 3 })
	var names []string
	for _, l := range lines(replay) {
		var ev watchEvent
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		names = append(names, ev.Event)
	}
	if strings.Join(names, ",") != "mint,transfer,transfer" {
		t.Fatalf("watch --account alice --from-height %d: events %v, want mint, transfer, transfer", m.Height, names)
	}
}
