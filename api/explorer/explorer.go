// Package explorer serves the block explorer: a web page at /explorer/ on
// the node's API port. It owns only static files embedded in the binary
// (HTML, CSS, JavaScript, no build step); the page reads the chain through
// the node's public API (Connect's HTTP/JSON protocol, and the Subscribe
// stream for live blocks), so it works against any node of a network and
// holds no chain state here.
package explorer

import (
	"embed"
	"io/fs"
	"net/http"
)

// Path is where the explorer is mounted.
const Path = "/explorer/"

//go:embed static
var static embed.FS

// Handler serves the explorer's files under Path. The page may load
// nothing from elsewhere: the Content-Security-Policy limits scripts,
// styles, images and connections to this node.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(Path, http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the explorer serves GET only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		// The files change only with the binary; revalidate so an upgraded
		// node never serves a stale script.
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
