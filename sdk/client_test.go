package sdk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWithoutCompression checks what the client offers the node: gzip by
// default, nothing with WithoutCompression, for unary calls and streams.
func TestWithoutCompression(t *testing.T) {
	offered := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offered <- r.Header.Get("Accept-Encoding") + "|" + r.Header.Get("Connect-Accept-Encoding")
		http.Error(w, "no", http.StatusNotFound)
	}))
	defer srv.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts []Option
		gzip bool
	}{
		{"default", nil, true},
		{"WithoutCompression", []Option{WithoutCompression()}, false},
	} {
		c := New(srv.URL, tc.opts...)
		_, _ = c.Status(ctx)
		if got := <-offered; strings.Contains(got, "gzip") != tc.gzip {
			t.Errorf("%s: unary call offers encodings %q; want gzip offered: %v", tc.name, got, tc.gzip)
		}
		if s, err := c.Subscribe(ctx, 0, false); err == nil {
			s.Receive()
			s.Close()
		}
		if got := <-offered; strings.Contains(got, "gzip") != tc.gzip {
			t.Errorf("%s: stream offers encodings %q; want gzip offered: %v", tc.name, got, tc.gzip)
		}
	}
}
