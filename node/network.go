package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/chain"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus/bft"
	"github.com/accord-chain/accord/consensus/raft"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/members"
	"github.com/accord-chain/accord/p2p"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
	"github.com/accord-chain/accord/store"
	"github.com/accord-chain/accord/txpool"
	"github.com/accord-chain/accord/types"
)

// The node-to-node channels. Raft messages are one-way; the others are
// requests answered by the peer. Payloads other than Raft's are the
// messages of proto/accord/p2p/v1.
const (
	chRaft  p2p.Channel = 1 // raft.Engine messages
	chTxs   p2p.Channel = 2 // request: TxBatch a follower admitted, for the leader; reply Verdicts
	chHead  p2p.Channel = 3 // message: HashReport of a block a node executed
	chSync  p2p.Channel = 4 // request: SyncRequest; reply SyncReply
	chNodes p2p.Channel = 5 // request: NodeChange, for the leader; reply NodeChangeReply
	chHash  p2p.Channel = 6 // request: HashRequest; reply HashReport
)

// Limits of the block-sync protocol.
const (
	syncMaxBlocks = 1024
	syncMaxBytes  = 16 << 20
)

// hashes is what the p2p side needs of the chain: where peers' block
// hashes go and where this node's come from. *chain.Chain implements it.
type hashes interface {
	Report(from string, height uint64, hash types.Hash)
	HashAt(height uint64) (types.Hash, bool, error)
	PeerHeight(peer string) uint64
	Forget(peer string)
}

// network is a Raft node's p2p side: the transport adapter for the
// engine, forwarding to the leader, the member list and its changes, and
// the servers of hashes and block sync. It implements api.Network,
// raft.Transport, chain.Peers and chain.Fetcher. It is given what it
// needs; it holds no Node.
type network struct {
	tr       *p2p.Transport
	eng      *raft.Engine // nil on a BFT network
	bftd     *bft.Driver  // the engine of a BFT network (consensus bft)
	log      *slog.Logger
	self     uint64 // this node's Raft id
	selfName string // this node's node id
	hash     crypto.Hash
	chainID  string
	issuer   types.Address
	store    *store.Store // the stored member list; blocks for sync
	pool     *txpool.Pool
	chain    hashes
	clock    clock.Clock
	// govern checks that governance approved a membership change; nodeID
	// names a member by Raft id.
	govern func(c *pb.NodeChange, nodeID func(uint64) (string, bool)) error

	mu       sync.Mutex
	members  map[uint64]config.Peer // current members by Raft id, this node included
	bftMaxID uint64                 // the highest Raft id a BFT network used
	passing  map[string]int         // on BFT: batches being passed on, by validator
}

// openNetwork completes w (made by Open, the chain's Peers) with the
// transport and the Raft engine of a node whose config says consensus
// "raft".
func (n *Node) openNetwork(w *network) error {
	cfg := n.cfg
	rc := *cfg.Raft
	tlsMat, err := loadTLS(n.home, cfg.P2P)
	if err != nil {
		return err
	}
	*w = network{log: n.log, self: rc.ID, hash: n.hash, chainID: n.genesis.ChainID, issuer: n.issuer,
		store: n.store, pool: n.pool, chain: n.chain, clock: n.clock, govern: n.chain.GovernedNodeChange,
		members: map[uint64]config.Peer{}}
	peers := rc.Peers
	if b, err := n.store.Meta(peersMeta); err == nil {
		if peers, err = members.DecodePeers(b); err != nil {
			return fmt.Errorf("stored member list: %w", err)
		}
	}
	for _, p := range peers {
		w.members[p.ID] = p
	}
	self, ok := w.members[rc.ID]
	if !ok {
		self = config.Peer{ID: rc.ID, NodeID: n.cfg.NodeID, P2P: cfg.P2P.Listen, API: cfg.API}
	}
	if self.NodeID != n.cfg.NodeID {
		// The certificate's name is the node's name on the network.
		n.cfg.NodeID = self.NodeID
	}
	w.selfName = self.NodeID
	pc := p2p.Config{ID: self.NodeID, Listen: cfg.P2P.Listen, TLS: tlsMat, Logger: n.log.With("part", "p2p"), Clock: n.clock}
	if n.signers != nil {
		if pc.Identity, err = n.memberIdentity(self.NodeID); err != nil {
			return err
		}
	}
	w.tr, err = p2p.New(pc)
	if err != nil {
		return err
	}
	for _, p := range w.members {
		if p.ID != rc.ID {
			if err := w.tr.AddPeer(p.NodeID, p.P2P); err != nil {
				w.tr.Close()
				return err
			}
		}
	}
	if cfg.Consensus == "bft" {
		if err := n.openBFT(w); err != nil {
			w.tr.Close()
			return err
		}
		return nil
	}
	ec, err := raftEngineConfig(rc, n.home, n.hash)
	if err != nil {
		w.tr.Close()
		return err
	}
	ec.Logger = n.log.With("part", "raft")
	ec.OnConfChange = w.confChanged
	ec.Limits = n.chain.Limits() // governance's block limits; nil on an open chain
	w.eng, err = raft.New(ec, n.pool, n.chain, w, []byte(self.NodeID), n.clock)
	if err != nil {
		w.tr.Close()
		return err
	}
	w.tr.Handle(chRaft, func(from string, _ p2p.Channel, payload []byte) {
		if err := w.eng.Receive(payload); err != nil {
			n.log.Debug("bad raft message", "from", from, "err", err)
		}
	})
	w.tr.Handle(chHead, w.onHead)
	w.tr.HandleRequest(chTxs, w.serveTxs)
	w.tr.HandleRequest(chSync, w.serveSync)
	w.tr.HandleRequest(chNodes, w.serveNodes)
	w.tr.HandleRequest(chHash, w.serveHash)
	w.tr.HandleRequest(chRemoved, w.serveRemoved)
	return nil
}

func loadTLS(home string, c *config.P2P) (p2p.TLS, error) {
	read := func(name string) ([]byte, error) {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(home, name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("p2p TLS material: %w", err)
		}
		return b, nil
	}
	ca, err := read(c.CACert)
	if err != nil {
		return p2p.TLS{}, err
	}
	cert, err := read(c.Cert)
	if err != nil {
		return p2p.TLS{}, err
	}
	key, err := read(c.Key)
	if err != nil {
		return p2p.TLS{}, err
	}
	return p2p.LoadTLS(ca, cert, key)
}

func raftEngineConfig(rc config.Raft, home string, h crypto.Hash) (raft.Config, error) {
	c := raft.Config{
		Hash:              h,
		ID:                rc.ID,
		Join:              rc.Join,
		Dir:               filepath.Join(home, config.RaftDir),
		IDFile:            filepath.Join(home, config.RaftIDFile),
		ElectionTicks:     rc.ElectionTicks,
		HeartbeatTicks:    rc.HeartbeatTicks,
		MaxBlockTxs:       rc.MaxBlockTxs,
		MaxBlockBytes:     rc.MaxBlockBytes,
		MaxInflightBlocks: rc.MaxInflightBlocks,
		SnapshotEntries:   rc.SnapshotEntries,
	}
	for _, d := range []struct {
		s   string
		dst *time.Duration
	}{{rc.TickInterval, &c.TickInterval}, {rc.BlockInterval, &c.BlockInterval}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return c, fmt.Errorf("config: raft: %w", err)
		}
		*d.dst = v
	}
	if !rc.Join {
		for _, p := range rc.Peers {
			c.Peers = append(c.Peers, p.ID)
		}
	}
	c.EnsureDefaults()
	return c, c.Validate()
}

// run runs the transport until ctx ends.
func (w *network) run(ctx context.Context) error {
	if w.eng != nil {
		go w.watchRemoval(ctx)
	}
	return w.tr.Run(ctx)
}

func (w *network) close() {
	if w.eng != nil {
		w.eng.Close()
	}
	w.tr.Close()
}

// nodeID maps a Raft id to a node id.
func (w *network) nodeID(id uint64) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.members[id]
	return p.NodeID, ok
}

// Send implements raft.Transport.
func (w *network) Send(to uint64, msg []byte) {
	name, ok := w.nodeID(to)
	if !ok {
		return
	}
	if err := w.tr.Send(name, chRaft, msg); err != nil {
		w.eng.ReportUnreachable(to)
	}
}

// Leader implements api.Network.
func (w *network) Leader() (string, uint64) {
	if w.bftd != nil {
		return w.bftLeader()
	}
	st := w.eng.Status()
	if st.Leader == 0 {
		return "", st.Term
	}
	name, _ := w.nodeID(st.Leader)
	return name, st.Term
}

// Available implements api.Network.
func (w *network) Available() error {
	if w.bftd != nil {
		return w.bftAvailable()
	}
	st := w.eng.Status()
	if st.Leader == 0 {
		return api.ErrNoQuorum
	}
	if st.Leader == st.ID {
		return nil
	}
	name, ok := w.nodeID(st.Leader)
	if !ok {
		return api.ErrNoQuorum
	}
	for _, p := range w.tr.Peers() {
		if p.ID == name && !p.Connected {
			return fmt.Errorf("%w (leader %s unreachable)", api.ErrNoQuorum, name)
		}
	}
	return nil
}

// Peers implements api.Network.
func (w *network) Peers() []*pb.PeerStatus {
	ps := w.tr.Peers()
	out := make([]*pb.PeerStatus, 0, len(ps))
	for _, p := range ps {
		out = append(out, &pb.PeerStatus{
			NodeId:    p.ID,
			Address:   p.Addr,
			Connected: p.Connected,
			Height:    w.chain.PeerHeight(p.ID),
			LastError: p.LastError,
		})
	}
	slices.SortFunc(out, func(a, b *pb.PeerStatus) int { return strings.Compare(a.NodeId, b.NodeId) })
	return out
}

// leaderName returns the leader's node id, or whether this node leads.
func (w *network) leaderName() (name string, self bool, err error) {
	st := w.eng.Status()
	if st.Leader == 0 {
		return "", false, api.ErrNoQuorum
	}
	if st.Leader == st.ID {
		return "", true, nil
	}
	name, ok := w.nodeID(st.Leader)
	if !ok {
		return "", false, api.ErrNoQuorum
	}
	return name, false, nil
}

// Forward implements api.Network: a follower hands what it admitted to the
// leader, whose verdicts go back to the client.
func (w *network) Forward(ctx context.Context, raws [][]byte) ([]error, error) {
	errs := make([]error, len(raws))
	if w.bftd != nil {
		w.bftPass(raws)
		return errs, nil
	}
	leader, self, err := w.leaderName()
	if err != nil || self {
		return errs, err
	}
	resp, err := w.tr.Request(ctx, leader, chTxs, p2ppb.Marshal(&p2ppb.TxBatch{Version: p2ppb.Version, Txs: raws}))
	if err != nil {
		return nil, fmt.Errorf("%w: forwarding to leader %s: %v", api.ErrNoQuorum, leader, err)
	}
	verdicts, err := decodeVerdicts(resp, len(raws))
	if err != nil {
		return nil, fmt.Errorf("leader %s: %w", leader, err)
	}
	var refused []types.Hash
	for i, v := range verdicts {
		if v != nil {
			errs[i] = v
			if id, err := types.TxID(raws[i], w.hash); err == nil {
				refused = append(refused, id)
			}
		}
	}
	// What the leader refused would never leave this node's pool otherwise.
	w.pool.Remove(refused)
	return errs, nil
}

// serveTxs admits transactions a follower forwarded and answers with a
// verdict for each.
func (w *network) serveTxs(_ context.Context, from string, _ p2p.Channel, payload []byte) ([]byte, error) {
	var batch p2ppb.TxBatch
	if err := p2ppb.Decode(payload, &batch); err != nil {
		return nil, err
	}
	res := w.pool.Submit(batch.Txs)
	errs := make([]error, len(res))
	for i, r := range res {
		if r.Err != nil && !errors.Is(r.Err, txpool.ErrDuplicate) {
			errs[i] = r.Err
		}
	}
	return encodeVerdicts(errs), nil
}

// Announce implements chain.Peers.
func (w *network) Announce(height uint64, hash types.Hash) {
	msg := p2ppb.Marshal(&p2ppb.HashReport{Version: p2ppb.Version, Height: height, Hash: hash[:]})
	for _, name := range w.Others() {
		_ = w.tr.Send(name, chHead, msg) // a lost one is asked for again
	}
}

// Others implements chain.Peers.
func (w *network) Others() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	names := make([]string, 0, len(w.members))
	for _, p := range w.members {
		if p.ID != w.self {
			names = append(names, p.NodeID)
		}
	}
	return names
}

// Voters implements chain.Peers: the engine's view.
func (w *network) Voters() int {
	if w.bftd != nil {
		return len(w.bftd.Status().Validators)
	}
	return len(w.eng.Status().Voters)
}

// onHead takes a peer's hash of a block to the chain.
func (w *network) onHead(from string, _ p2p.Channel, payload []byte) {
	height, hash, ok, err := decodeHashReport(payload)
	if err != nil || !ok {
		w.log.Debug("bad head message", "from", from, "err", err)
		return
	}
	w.chain.Report(from, height, hash)
}

// AskHash implements chain.Peers.
func (w *network) AskHash(ctx context.Context, peer string, height uint64) (types.Hash, bool) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := w.tr.Request(rctx, peer, chHash, p2ppb.Marshal(&p2ppb.HashRequest{Version: p2ppb.Version, Height: height}))
	if err != nil {
		return types.Hash{}, false // unreachable: asked again later
	}
	got, hash, ok, err := decodeHashReport(resp)
	if err != nil || !ok || got != height {
		return types.Hash{}, false // not there yet, or a bad answer
	}
	return hash, true
}

// serveHash answers with this node's hash of the block at a height;
// an empty hash if it has none yet.
func (w *network) serveHash(_ context.Context, _ string, _ p2p.Channel, payload []byte) ([]byte, error) {
	var req p2ppb.HashRequest
	if err := p2ppb.Decode(payload, &req); err != nil {
		return nil, err
	}
	h, ok, err := w.chain.HashAt(req.Height)
	if err != nil {
		return nil, err
	}
	rep := &p2ppb.HashReport{Version: p2ppb.Version, Height: req.Height}
	if ok {
		rep.Hash = h[:]
	}
	return p2ppb.Marshal(rep), nil
}

// serveSync answers a block-sync request: the committed blocks from the
// requested height on, as many as fit the limits.
func (w *network) serveSync(_ context.Context, from string, _ p2p.Channel, payload []byte) ([]byte, error) {
	var req p2ppb.SyncRequest
	if err := p2ppb.Decode(payload, &req); err != nil {
		return nil, err
	}
	tip := w.store.Tip().Height
	var blocks [][]byte
	size := 0
	for h := req.FromHeight; h <= tip && len(blocks) < syncMaxBlocks; h++ {
		b, err := w.store.BlockByHeight(h)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", h, err)
		}
		if size > 0 && size+len(b) > syncMaxBytes {
			break
		}
		size += len(b)
		blocks = append(blocks, b)
	}
	return p2ppb.Marshal(&p2ppb.SyncReply{Version: p2ppb.Version, Blocks: blocks}), nil
}

// FetchBlocks implements chain.Fetcher.
func (w *network) FetchBlocks(ctx context.Context, from, next uint64) (string, [][]byte, error) {
	src, ok := w.nodeID(from)
	if !ok || src == w.selfName {
		if src, ok = w.anyPeer(); !ok {
			return "", nil, chain.ErrNoPeer
		}
	}
	blocks, err := w.FetchBlocksFrom(ctx, src, next)
	return src, blocks, err
}

// FetchBlocksFrom implements bft.BlockSource: FetchBlocks of a named peer.
func (w *network) FetchBlocksFrom(ctx context.Context, src string, next uint64) ([][]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := w.tr.Request(rctx, src, chSync, p2ppb.Marshal(&p2ppb.SyncRequest{Version: p2ppb.Version, FromHeight: next}))
	if err != nil {
		return nil, err
	}
	var rep p2ppb.SyncReply
	if err := p2ppb.Decode(resp, &rep); err != nil {
		return nil, fmt.Errorf("%w: %w", chain.ErrBadReply, err)
	}
	return rep.Blocks, nil
}

func (w *network) anyPeer() (string, bool) {
	for _, p := range w.tr.Peers() {
		if p.Connected {
			return p.ID, true
		}
	}
	return "", false
}
