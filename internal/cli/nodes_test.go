package cli

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/node"
)

// The membership commands send to node0's API unless --node says
// otherwise, wherever node0 listens: not to the dev node's default that
// other commands' --node carries.
func TestNodeCommandsDefaultToNode0(t *testing.T) {
	// node0's API: a listener that counts the connections it gets and
	// closes them.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var dials atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	if code, _, stderr := run(t, "init", "--home", dir, "--nodes", "2", "--base-port", strconv.Itoa(port)); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	for _, args := range [][]string{
		{"node", "add", "--network", dir, "--api", "127.0.0.1:1", "--p2p", "127.0.0.1:2"},
		{"node", "remove", "--network", dir, "--id", "2"},
	} {
		before := dials.Load()
		code, _, stderr := run(t, args...)
		if code == 0 || dials.Load() == before || strings.Contains(stderr, DefaultNode) {
			t.Errorf("accord %s: exit %d, stderr %q; want it to fail talking to node0 at port %d", strings.Join(args, " "), code, stderr, port)
		}
	}
	if _, err := os.Stat(provision.NodeHome(dir, 2)); err == nil {
		t.Error("node add made a home although it could not read the member list")
	}
}

// A home whose node the network removed never starts again: accord start
// refuses it and accord testnet leaves it out; a missing folder does not
// hide the homes after it.
func TestRemovedHomesDoNotStart(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, "init", "--home", dir, "--nodes", "4", "--base-port", "9300"); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	if err := os.RemoveAll(provision.NodeHome(dir, 2)); err != nil {
		t.Fatal(err)
	}
	if err := node.MarkRemoved(provision.NodeHome(dir, 1), node.ErrRemovedHome); err != nil {
		t.Fatal(err)
	}
	homes, skipped, err := networkHomes(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{provision.NodeHome(dir, 0), provision.NodeHome(dir, 3)}; !slices.Equal(homes, want) {
		t.Errorf("testnet homes %v, want %v", homes, want)
	}
	if want := []string{provision.NodeHome(dir, 1)}; !slices.Equal(skipped, want) {
		t.Errorf("testnet skipped %v, want %v", skipped, want)
	}
	wantError(t, "removed from the cluster", "start", "--home", provision.NodeHome(dir, 1))
	if _, err := os.Stat(filepath.Join(provision.NodeHome(dir, 1), node.RemovedFile)); err != nil {
		t.Fatal(err)
	}
}
