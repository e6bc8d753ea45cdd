package sdk_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/internal/provision"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/node/nodetest"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// TestSubscribeThenSend checks that Subscribe returns before any block is
// committed, once the stream is open, so that one goroutine can subscribe
// and then send, and receive the block with its transaction.
func TestSubscribeThenSend(t *testing.T) {
	res, err := provision.Init(provision.Options{Home: t.TempDir(), ChainID: "sub-test"})
	if err != nil {
		t.Fatal(err)
	}
	url := nodetest.Start(t, res.Nodes[0].Home, nil)
	ks, err := keystore.Open(res.KeysDir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ks.Get(provision.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	c := sdk.New(url)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// No transaction is pending, so no block comes until this test sends
	// one: Subscribe must not wait for a block.
	type opened struct {
		s   *connect.ServerStreamForClient[apipb.SubscribeResponse]
		err error
	}
	done := make(chan opened, 1)
	go func() {
		s, err := c.Subscribe(ctx, 0, true)
		done <- opened{s, err}
	}()
	var o opened
	select {
	case o = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Subscribe did not return within 30s with no block committed; it must return once the stream is open")
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	defer o.s.Close()

	to, _ := crypto.GenerateKey(crypto.Ed25519, nil)
	id, err := c.Mint(ctx, admin.Private, types.AddressOf(to.Scheme(), to.Public().Bytes()), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !o.s.Receive() {
		t.Fatalf("no block after the mint: %v", o.s.Err())
	}
	msg := o.s.Msg()
	if len(msg.Results) != 1 || msg.Results[0].TxId != id.String() {
		t.Fatalf("first block after subscribing (height %d) has results %v; want the mint %s", msg.Header.Height, msg.Results, id)
	}
}

// TestSubscribeHonoursContext checks that Subscribe gives up when its
// context's deadline passes or it is cancelled while the node has not
// opened the stream.
func TestSubscribeHonoursContext(t *testing.T) {
	// silent answers nothing until the test ends, and says when a request
	// has arrived.
	silent := func() (url string, arrived <-chan struct{}) {
		got := make(chan struct{}, 8)
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		return srv.URL, got
	}

	url, _ := silent()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := sdk.New(url).Subscribe(ctx, 0, false); connect.CodeOf(err) != connect.CodeDeadlineExceeded || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Subscribe to a node that never answers, with a 200ms deadline: %v; want deadline_exceeded", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("Subscribe returned %v after its 200ms deadline", d)
	}

	url, arrived := silent()
	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := sdk.New(url).Subscribe(ctx, 0, false)
		errc <- err
	}()
	<-arrived
	cancel()
	select {
	case err := <-errc:
		if connect.CodeOf(err) != connect.CodeCanceled {
			t.Fatalf("Subscribe after cancel: %v; want canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Subscribe did not return within 30s of its context's cancellation")
	}
}

// TestOpenSubscriptionEndsAtDeadline checks that an open stream with no
// blocks ends when its context's deadline passes.
func TestOpenSubscriptionEndsAtDeadline(t *testing.T) {
	res, err := provision.Init(provision.Options{Home: t.TempDir(), ChainID: "sub-test"})
	if err != nil {
		t.Fatal(err)
	}
	c := sdk.New(nodetest.Start(t, res.Nodes[0].Home, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	s, err := c.Subscribe(ctx, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ended := make(chan bool, 1)
	go func() { ended <- s.Receive() }()
	select {
	case got := <-ended:
		if got || connect.CodeOf(s.Err()) != connect.CodeDeadlineExceeded {
			t.Fatalf("Receive at the deadline: %v, %v; want false, deadline_exceeded", got, s.Err())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("an open subscription outlived its 500ms deadline by 30s")
	}
}
