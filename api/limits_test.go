package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/accord-chain/accord/api"
	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/api/pb/pbconnect"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/types"
	typespb "github.com/accord-chain/accord/types/pb"
)

// limitedServer serves the API over an empty in-memory store with lim, the
// way the node does (h2c beside HTTP/1.1), and returns its address and hub.
func limitedServer(t *testing.T, lim api.Limits) (addr string, hub *api.Hub) {
	t.Helper()
	st, err := store.Open(store.Options{Dir: "db", FS: vfs.NewMem(), CacheBytes: 1 << 20, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	hub = api.NewHub()
	srv := lim.Server(api.New(api.Deps{ChainID: "limits-test", Hash: crypto.SHA256, Store: st, Hub: hub}).Handler(nil))
	srv.Handler = h2c.NewHandler(srv.Handler, &http2.Server{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lim.Listener(ln, srv))
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
		st.Close()
	})
	return ln.Addr().String(), hub
}

// post sends body to method as JSON and returns the status and the decoded
// answer.
func post(t *testing.T, addr, method string, body io.Reader, length int64) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/accord.api.v1.NodeService/"+method, body)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = length
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: decoding the answer: %v", method, err)
	}
	return resp.StatusCode, out
}

// bigAccount is a GetAccount request of about n bytes: an address no node
// accepts, so that a request that gets through is answered invalid_argument.
func bigAccount(n int) []byte {
	return []byte(`{"address":"` + strings.Repeat("x", n) + `"}`)
}

func TestMaxBodyBytesDerivesFromAFullBatch(t *testing.T) {
	// A full batch of MaxBatch transactions totalling MaxBatchBytes, as the
	// JSON the API reads, must fit.
	txs := make([]string, api.MaxBatch)
	size := api.MaxBatchBytes / api.MaxBatch
	for i := range txs {
		txs[i] = strings.Repeat("A", (size+2)/3*4)
	}
	b, err := json.MarshalIndent(map[string]any{"txs": txs}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) > api.MaxBodyBytes {
		t.Fatalf("a full SubmitTxs batch in indented JSON is %d bytes, over MaxBodyBytes %d", len(b), api.MaxBodyBytes)
	}
	if api.MaxBodyBytes > 32<<20 {
		t.Fatalf("MaxBodyBytes %d: far more than a full batch needs", api.MaxBodyBytes)
	}
}

func TestBodyLimits(t *testing.T) {
	const maxBody = 64 << 10
	addr, _ := limitedServer(t, api.Limits{MaxBodyBytes: maxBody, MaxInflightBytes: 100 << 10})
	expect := func(name string, status int, out map[string]any, wantStatus int, code, msg string) {
		t.Helper()
		m, _ := out["message"].(string)
		if status != wantStatus || out["code"] != code || !strings.Contains(m, msg) {
			t.Errorf("%s: HTTP %d %v; want %d %s with a message containing %q", name, status, out, wantStatus, code, msg)
		}
	}

	// Under the limit, a request goes through to the method.
	b := bigAccount(maxBody - 100)
	s, out := post(t, addr, "GetAccount", bytes.NewReader(b), int64(len(b)))
	expect("under the limit", s, out, 400, "invalid_argument", "address")

	// Over it, declared or not, it is refused.
	b = bigAccount(maxBody + 1)
	s, out = post(t, addr, "GetAccount", bytes.NewReader(b), int64(len(b)))
	expect("declared length over the limit", s, out, 429, "resource_exhausted", "too large")
	s, out = post(t, addr, "GetAccount", io.MultiReader(bytes.NewReader(b)), -1)
	expect("chunked body over the limit", s, out, 429, "resource_exhausted", "limit")

	// A body held open takes its bytes from the in-flight budget until it
	// is answered: another that would go past the budget is refused.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	head := bigAccount(60 << 10)
	head = head[:len(head)-2] // never finished
	fmt.Fprintf(conn, "POST /accord.api.v1.NodeService/GetAccount HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(head)+1000)
	if _, err := conn.Write(head); err != nil {
		t.Fatal(err)
	}
	b = bigAccount(50 << 10)
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, out = post(t, addr, "GetAccount", bytes.NewReader(b), int64(len(b)))
		if s == 429 || time.Now().After(deadline) {
			break
		}
	}
	expect("past the in-flight budget", s, out, 429, "resource_exhausted", "busy")

	// Once the held body is gone, its bytes are free again.
	conn.Close()
	for {
		s, out = post(t, addr, "GetAccount", bytes.NewReader(b), int64(len(b)))
		if s != 429 || time.Now().After(deadline) {
			break
		}
	}
	expect("after the held body is gone", s, out, 400, "invalid_argument", "address")
}

func TestSubmitTxsRefusesMoreThanMaxBatchBytes(t *testing.T) {
	url, _ := testNode(t)
	tx := make([]byte, 1<<20) // each over the pool's limit, but the batch is refused first
	txs := make([][]byte, api.MaxBatchBytes>>20+1)
	for i := range txs {
		txs[i] = tx
	}
	// In binary protobuf the batch fits in the body limit; only the batch
	// limit refuses it.
	_, err := sdk.New(url).RPC().SubmitTxs(context.Background(), connect.NewRequest(&apipb.SubmitTxsRequest{Txs: txs}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "split it") {
		t.Fatalf("batch of %d MiB: %v; want invalid_argument", len(txs), err)
	}
}

// TestSlowConnectionsDoNotLockOutTheAPI checks that connections sending a
// body too slowly are closed after the read timeout, so that however many
// there are, beyond the connection cap, the API answers again.
func TestSlowConnectionsDoNotLockOutTheAPI(t *testing.T) {
	const cap = 4
	addr, _ := limitedServer(t, api.Limits{MaxConns: cap, ReadTimeout: 300 * time.Millisecond, ReadHeaderTimeout: 300 * time.Millisecond})
	var slow []net.Conn
	for range 2 * cap {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /accord.api.v1.NodeService/GetAccount HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"addr")
		slow = append(slow, c)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("the API is unreachable behind %d slow connections (cap %d): %v", len(slow), cap, err)
	}
	resp.Body.Close()
	// Every slow connection is closed by the node, none left hanging.
	end := time.Now().Add(30 * time.Second)
	for i, c := range slow {
		_ = c.SetReadDeadline(end)
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("slow connection %d still open after 30s; the read timeout should close it", i)
		}
	}
}

// TestIdleConnectionsDoNotLockOutTheAPI checks that keep-alive connections
// their clients leave idle do not hold the connection cap against new
// clients, as they did until the idle timeout: at the cap the one idle the
// longest makes room. A connection under way (a subscription, a request
// still being sent) is never the one closed.
func TestIdleConnectionsDoNotLockOutTheAPI(t *testing.T) {
	const cap = 4
	addr, hub := limitedServer(t, api.Limits{MaxConns: cap, ReadHeaderTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := sdk.New("http://"+addr).Subscribe(ctx, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	waitFor(t, "the subscription to register", func() bool { return hub.Len() == 1 })
	partial, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	fmt.Fprintf(partial, "GET /healthz HTTP/1.1\r\nHost: x\r\n")

	// Clients that each leave a connection idle, many times the cap: what
	// a process creating a client per call does.
	const clients = 4 * cap
	for i := range clients {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr, Timeout: 20 * time.Second}
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("client %d of %d, each leaving a connection idle (cap %d): %v", i+1, clients, cap, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	fmt.Fprintf(partial, "\r\n")
	_ = partial.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(partial), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the request under way was cut to make room: %v %v", resp, err)
	}
	resp.Body.Close()
	hub.Publish(&api.Committed{Header: &typespb.Header{Height: 1}})
	if !sub.Receive() {
		t.Fatalf("the subscriber was cut to make room: %v", sub.Err())
	}
}

// TestIdleTLSConnectionsDoNotLockOutTheAPI checks the same over TLS, where
// the server reports the TLS connections, for HTTP/1.1 and HTTP/2 (idle:
// no stream open).
func TestIdleTLSConnectionsDoNotLockOutTheAPI(t *testing.T) {
	cert, roots := selfSigned(t)
	for name, h2 := range map[string]bool{"HTTP/1.1": false, "HTTP/2": true} {
		t.Run(name, func(t *testing.T) {
			const cap = 2
			lim := api.Limits{MaxConns: cap}
			srv := lim.Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = fmt.Fprint(w, r.Proto)
			}))
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = srv.ServeTLS(lim.Listener(ln, srv), "", "")
			}()
			t.Cleanup(func() {
				_ = srv.Close()
				<-done
			})
			want := "HTTP/1.1"
			if h2 {
				want = "HTTP/2.0"
			}
			const clients = 4 * cap
			for i := range clients {
				tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: h2}
				if !h2 {
					tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
				}
				defer tr.CloseIdleConnections()
				hc := &http.Client{Transport: tr, Timeout: 20 * time.Second}
				resp, err := hc.Get("https://" + ln.Addr().String() + "/")
				if err != nil {
					t.Fatalf("client %d of %d, each leaving a connection idle (cap %d): %v", i+1, clients, cap, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != want {
					t.Fatalf("served over %s; want %s", b, want)
				}
			}
		})
	}
}

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// TestStalledSubscriberIsDropped checks that a subscriber that stops
// reading is dropped once a write to it blocks for StreamWriteTimeout, over
// HTTP/1.1 (Connect) and h2c (gRPC).
func TestStalledSubscriberIsDropped(t *testing.T) {
	for name, open := range map[string]func(t *testing.T, addr string){
		"HTTP/1.1": func(t *testing.T, addr string) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			msg := []byte(`{"include_txs":true}`)
			env := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
			env = append(env, msg...)
			fmt.Fprintf(c, "POST /accord.api.v1.NodeService/Subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/connect+json\r\nContent-Length: %d\r\n\r\n", len(env))
			if _, err := c.Write(env); err != nil {
				t.Fatal(err)
			}
			// The stream opens; from here the client reads nothing.
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("Subscribe: %v %v", resp, err)
			}
		},
		"h2c": func(t *testing.T, addr string) {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			// Uncompressed, so that the blocks fill the flow-control window.
			s, err := pbconnect.NewNodeServiceClient(h2cClient(), "http://"+addr, connect.WithGRPC(), connect.WithAcceptCompression("gzip", nil, nil)).
				Subscribe(ctx, connect.NewRequest(&apipb.SubscribeRequest{IncludeTxs: true}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			// Never Receive: the transport stops granting flow-control window.
		},
	} {
		t.Run(name, func(t *testing.T) {
			addr, hub := limitedServer(t, api.Limits{StreamWriteTimeout: 300 * time.Millisecond})
			open(t, addr)
			waitFor(t, "the subscription to register", func() bool { return hub.Len() == 1 })
			// Blocks of about 1 MB each, until the buffers between the two
			// are full and a write blocks.
			ids := make([]types.Hash, 5000)
			receipts := make([]*typespb.Receipt, len(ids))
			for i := range ids {
				ids[i][0], ids[i][1] = byte(i), byte(i>>8)
				receipts[i] = &typespb.Receipt{}
			}
			for h := uint64(1); h <= 200 && hub.Len() > 0; h++ {
				hub.Publish(&api.Committed{Header: &typespb.Header{Height: h}, TxIDs: ids, Receipts: receipts})
			}
			waitFor(t, "the stalled subscriber to be dropped", func() bool { return hub.Len() == 0 })
		})
	}
}

// h2cClient speaks HTTP/2 without TLS, as gRPC clients of a plain node do.
func h2cClient() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

// TestQuietSubscriberOutlivesTimeouts checks that a subscription waiting
// for blocks longer than every server timeout stays open, over HTTP/1.1
// (Connect) and h2c (gRPC).
func TestQuietSubscriberOutlivesTimeouts(t *testing.T) {
	const timeout = 500 * time.Millisecond
	addr, hub := limitedServer(t, api.Limits{
		ReadHeaderTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, IdleTimeout: timeout, StreamWriteTimeout: timeout,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h1, err := sdk.New("http://"+addr).Subscribe(ctx, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer h1.Close()
	grpc, err := pbconnect.NewNodeServiceClient(h2cClient(), "http://"+addr, connect.WithGRPC()).Subscribe(ctx, connect.NewRequest(&apipb.SubscribeRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer grpc.Close()
	waitFor(t, "both subscriptions to register", func() bool { return hub.Len() == 2 })
	for h := uint64(1); h <= 2; h++ {
		// Quiet for longer than any timeout: that is what is tested.
		<-time.After(3 * timeout)
		hub.Publish(&api.Committed{Header: &typespb.Header{Height: h}})
		for name, s := range map[string]interface {
			Receive() bool
			Err() error
		}{"HTTP/1.1": h1, "h2c gRPC": grpc} {
			if !s.Receive() {
				t.Fatalf("%s subscriber: block %d not received after %v quiet: %v", name, h, 3*timeout, s.Err())
			}
		}
	}
}

// waitFor polls cond until it holds, failing the test after 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
