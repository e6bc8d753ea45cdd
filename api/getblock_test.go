package api_test

import (
	"strings"
	"testing"
)

// TestGetBlockRefusesTwoSelectors checks that a GetBlock naming a block two
// ways is refused, not answered by one selector with the other ignored.
func TestGetBlockRefusesTwoSelectors(t *testing.T) {
	url, _ := testNode(t)
	hash := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		req  map[string]any
		want string
	}{
		{"height and latest", map[string]any{"height": "1", "latest": true}, "height and latest"},
		{"height and hash", map[string]any{"height": "1", "hash": hash}, "height and hash"},
		{"hash and latest", map[string]any{"hash": hash, "latest": true}, "hash and latest"},
		{"all three", map[string]any{"height": "1", "hash": hash, "latest": true}, "height and hash and latest"},
	} {
		status, out := call(t, url, "GetBlock", tc.req)
		msg, _ := out["message"].(string)
		if status != 400 || out["code"] != "invalid_argument" || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: HTTP %d %v; want 400 invalid_argument naming %q", tc.name, status, out, tc.want)
		}
	}
	// One selector still works.
	if status, out := call(t, url, "GetBlock", map[string]any{"latest": true}); status != 200 {
		t.Errorf("latest alone: HTTP %d %v; want 200", status, out)
	}
}
