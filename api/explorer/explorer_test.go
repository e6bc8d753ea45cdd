package explorer

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestNothingFromOutside: no embedded file names an outside URL, so the
// page loads nothing from elsewhere even before its Content-Security-Policy.
func TestNothingFromOutside(t *testing.T) {
	outside := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	n := 0
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		if m := outside.Find(b); m != nil {
			t.Errorf("%s names %q: the explorer must load nothing from outside the node", path, m)
		}
		return nil
	})
	if err != nil || n < 3 {
		t.Fatalf("walking the embedded files: %v (%d files, want index.html, app.js, style.css)", err, n)
	}
}

func TestHandler(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(Path, Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/explorer")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/explorer/" || res.StatusCode != http.StatusOK {
		t.Errorf("GET /explorer ended at %s with %d, want /explorer/ and 200", res.Request.URL.Path, res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q, want default-src 'self'", csp)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("index served as %q", ct)
	}
	for _, f := range []string{"app.js", "style.css"} {
		r, err := http.Get(srv.URL + Path + f)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", f, r.StatusCode)
		}
	}
	r, err := http.Post(srv.URL+Path, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST to the explorer: %d, want 405", r.StatusCode)
	}
}
