// Package node assembles a running node from its parts: storage, execution,
// the transaction pool, the chain (the path of a committed block), a
// consensus engine, the p2p side of a network and the API. It is the only
// package that knows every part; it opens them, connects them, runs them
// and closes them, and does nothing else: what a block goes through is
// chain's, what a message means is p2p/pb's.
package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/chain"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/consensus/solo"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/usercontract"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/genesis"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
)

// genesisMeta is the store meta entry holding the genesis bytes the store
// was created from.
const genesisMeta = "genesis"

// Node is one running Accord node.
type Node struct {
	home    string
	cfg     config.Node
	genesis *genesis.Doc
	hash    crypto.Hash
	issuer  types.Address
	nodeID  types.Address
	nodeKey crypto.PrivateKey // signs this node's identity proofs to peers
	log     *slog.Logger

	store   *store.Store
	exec    *execution.Executor
	pool    *txpool.Pool
	engine  consensus.Engine
	chain   *chain.Chain
	net     *network // nil unless consensus is raft
	hub     *api.Hub
	metrics *Metrics
	clock   clock.Clock

	signers *governance.Loader // nil on an open chain
	user    *usercontract.Contract

	mu       sync.Mutex
	listener net.Listener
}

// Open loads a node home and opens its storage, committing genesis on first
// start. Close releases it.
func Open(home string, log *slog.Logger) (*Node, error) {
	return OpenWith(home, log, nil)
}

// OpenWith is Open with a function that may adjust the loaded config (for
// command-line overrides) before it is validated again and used.
func OpenWith(home string, log *slog.Logger, adjust func(*config.Node)) (*Node, error) {
	return openWith(home, log, adjust, clock.Real)
}

// openWith is OpenWith on the clock clk.
func openWith(home string, log *slog.Logger, adjust func(*config.Node), clk clock.Clock) (*Node, error) {
	cfg, err := config.Load(home)
	if err != nil {
		return nil, err
	}
	if adjust != nil {
		adjust(&cfg)
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	g, gbytes, err := genesis.Load(filepath.Join(home, config.GenesisFile))
	if err != nil {
		return nil, err
	}
	h, issuer, _ := g.Validate()
	ks, err := keystore.Open(home)
	if err != nil {
		return nil, err
	}
	nk, err := ks.Get(config.NodeKeyFile)
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	n := &Node{home: home, cfg: cfg, genesis: g, hash: h, issuer: issuer, nodeID: nk.Address, nodeKey: nk.Private, log: log, hub: api.NewHub(), clock: clk}
	if cfg.NodeID == "" {
		n.cfg.NodeID = nk.Address.String()[:16]
	}
	// A Raft node takes blocks its store lost back from its log or peers.
	n.store, err = store.Open(store.Options{Dir: filepath.Join(home, config.DataDir), CacheBytes: cfg.CacheMB << 20, Refetch: cfg.Consensus == "raft"})
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("%s is in use by another running node; stop it first", filepath.Join(home, config.DataDir))
	}
	if err != nil {
		return nil, err
	}
	ecfg, contracts := n.setupIdentity(execution.Config{ChainID: g.ChainID, Hash: h, Workers: cfg.ExecutionWorkers})
	n.exec, err = execution.New(ecfg, contracts...)
	if err != nil {
		n.store.Close()
		return nil, err
	}
	if err := n.initState(gbytes); err != nil {
		n.store.Close()
		return nil, err
	}
	pc, _ := cfg.PoolEngineConfig()
	n.pool, err = txpool.New(pc, g.ChainID, h, nonceState{n.store}, n.clock.Now)
	if err != nil {
		n.store.Close()
		return nil, err
	}
	n.metrics = NewMetrics(n)
	cc := chain.Config{Hash: h, Store: n.store, Exec: n.exec, Pool: n.pool, Hub: n.hub, Signers: n.signers,
		Clock: n.clock, Log: n.log, Metrics: n.metrics.reg}
	if cfg.Consensus == "raft" || cfg.Consensus == "bft" {
		// The chain and the network know each other: the chain reports
		// hashes through it, its servers answer from the chain.
		n.net = &network{}
		cc.Peers, cc.Fetcher = n.net, n.net
		cc.Certified = cfg.Consensus == "bft" // QCs cover the block hashes
	}
	n.chain = chain.New(cc)
	n.pool.SetCheck(n.chain.Admit)
	n.pool.SetGasBudget(n.chain.BlockGas)
	if n.net != nil {
		if err := n.openNetwork(n.net); err != nil {
			n.net = nil
			n.Close()
			return nil, err
		}
		n.engine = n.net.eng
		if n.net.bftd != nil {
			n.engine = n.net.bftd
		}
		return n, nil
	}
	sc, _ := cfg.SoloEngineConfig()
	sc.Limits = n.chain.Limits()
	n.engine, err = solo.New(sc, n.pool, n.chain, n.nodeID[:], n.clock)
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// initState commits the genesis block (height 0, no transactions, the
// genesis state as its writes) into an empty store, or checks that the store
// was made from this genesis document.
func (n *Node) initState(gbytes []byte) error {
	if !n.store.Tip().Empty {
		stored, err := n.store.Meta(genesisMeta)
		if err != nil {
			return fmt.Errorf("store has blocks but no genesis record: %w", err)
		}
		if !bytes.Equal(stored, gbytes) {
			return fmt.Errorf("%s differs from the genesis this node's data was created from; restore it or start with an empty %s", config.GenesisFile, config.DataDir)
		}
		return nil
	}
	alloc := make([]token.Alloc, 0, len(n.genesis.Token.Alloc))
	for _, a := range n.genesis.Token.Alloc {
		addr, _ := types.ParseAddress(a.Address)
		amt, _ := strconv.ParseUint(a.Amount, 10, 64)
		alloc = append(alloc, token.Alloc{Address: addr, Amount: amt})
	}
	writes, err := token.Genesis(n.issuer, alloc)
	if err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	gov, err := n.identityGenesis()
	if err != nil {
		return err
	}
	writes = append(writes, gov...)
	return chain.CommitGenesis(n.store, n.exec, n.genesis.Time, writes, genesisMeta, gbytes)
}

// Run serves the API and runs consensus until ctx is cancelled. It returns
// the first fatal error. ready, if not nil, is called with the API address
// once the listener is open.
func (n *Node) Run(ctx context.Context, ready func(apiAddr string)) error {
	apiTLS, members, err := n.apiTLS()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", n.cfg.API)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	if n.cfg.GCPercent > 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(n.cfg.GCPercent))
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(n.cfg.MemoryLimitMB << 20))
	n.mu.Lock()
	n.listener = ln
	n.mu.Unlock()
	srv := api.New(api.Deps{
		ChainID:   n.genesis.ChainID,
		Hash:      n.hash,
		Issuer:    n.issuer,
		NodeID:    n.cfg.NodeID,
		Consensus: n.engine.Name(),
		Pool:      n.pool,
		Store:     n.store,
		Hub:       n.hub,
		Network:   n.apiNetwork(),
		Clock:     n.clock,
		Exec:      n.exec,
	})
	handler := srv.Handler(n.metrics.Handler())
	if n.cfg.Pprof {
		mux := http.NewServeMux()
		mux.Handle("/", handler)
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		handler = mux
	}
	httpSrv := apiServer(handler, apiTLS, members)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	httpErr := make(chan error, 1)
	engineErr := make(chan error, 1)
	go func() {
		if err := serveAPI(httpSrv, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			httpErr <- fmt.Errorf("api: %w", err)
		}
	}()
	go func() { engineErr <- n.engine.Run(ctx) }()
	var diverged <-chan error
	netDone := make(chan error, 1)
	if n.net != nil {
		diverged = n.chain.Diverged()
		go func() { netDone <- n.net.run(ctx) }()
	} else {
		netDone <- nil
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	n.log.Info("node started", "chain_id", n.genesis.ChainID, "height", n.store.Tip().Height, "api", apiURL(httpSrv, ln.Addr().String()), "node_id", n.cfg.NodeID)
	var runErr error
	engineDone := false
	select {
	case <-ctx.Done():
	case runErr = <-httpErr:
	case runErr = <-engineErr:
		engineDone = true
	case <-n.chain.Failed():
		runErr = n.chain.Flush()
	case runErr = <-diverged:
	}
	if runErr != nil {
		n.log.Error("node stopping on error", "err", runErr)
	}
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	_ = httpSrv.Shutdown(shutdownCtx)
	if !engineDone {
		// Let the engine finish the block in hand before storage closes.
		if err := <-engineErr; err != nil && runErr == nil {
			runErr = err
		}
	}
	if err := <-netDone; err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// Close releases the node's resources. Call it after Run returns.
func (n *Node) Close() error {
	var perr error
	if n.chain != nil {
		perr = n.chain.Close()
	}
	if n.net != nil {
		n.net.close()
	}
	if n.pool != nil {
		n.pool.Close()
	}
	if n.user != nil {
		n.user.Close()
	}
	if err := n.store.Close(); err != nil {
		return err
	}
	return perr
}

// apiNetwork is the API's view of the network; nil (not a nil *network)
// on a solo node.
func (n *Node) apiNetwork() api.Network {
	if n.net == nil {
		return nil
	}
	return n.net
}

// Home is the node's home folder.
func (n *Node) Home() string { return n.home }

// nonceState adapts the store to txpool.State.
type nonceState struct{ s *store.Store }

func (r nonceState) Nonce(a types.Address) (uint64, error) {
	return execution.Nonce(r.s.State(), a)
}
