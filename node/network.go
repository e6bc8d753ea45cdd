package node

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/consensus/raft"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/p2p"
	"github.com/accord-chain/accord/types"
)

// The node-to-node channels. Raft messages are one-way; the others are
// requests answered by the peer.
const (
	chRaft  p2p.Channel = 1 // raft.Engine messages
	chTxs   p2p.Channel = 2 // request: transactions a follower admitted, for the leader
	chHead  p2p.Channel = 3 // message: a node's hash of a block it executed
	chSync  p2p.Channel = 4 // request: committed blocks from a height
	chNodes p2p.Channel = 5 // request: a signed ChangeNodesRequest, for the leader
	chHash  p2p.Channel = 6 // request: a node's hash of the block at a height
)

// peersMeta is the store meta entry holding the network's current members
// (JSON []PeerConfig), rewritten on every membership change.
const peersMeta = "raft_peers"

// Limits of the block-sync protocol.
const (
	syncMaxBlocks = 1024
	syncMaxBytes  = 16 << 20
)

// headsKept is how many of its own recent block hashes a node keeps to
// compare with what peers report.
const headsKept = 1024

// network is a Raft node's view of the others: the transport, the engine,
// the member list, and what peers said of their chains. It implements
// api.Network, raft.Transport and the block sync side of raft.Applier.
type network struct {
	n   *Node
	tr  *p2p.Transport
	eng *raft.Engine

	mu      sync.Mutex
	members map[uint64]PeerConfig            // current members by Raft id, this node included
	heads   map[string]head                  // newest head each peer reported, by node id
	reports map[uint64]map[string]types.Hash // recent heights: each peer's hash
	mine    map[uint64]types.Hash            // this node's recent block hashes by height
	// headsChanged is closed (and replaced) whenever a hash is reported.
	headsChanged chan struct{}
	ask          func(ctx context.Context, peer string, height uint64) // askHash; tests replace it
	diverge      chan error                                            // receives when this node's results differ from the network's
	voters       func() int                                            // how many nodes vote (the engine's view)
}

type head struct {
	height uint64
	hash   types.Hash
}

// newNetwork returns n's network state with nothing known yet: no
// members, heads or hash reports.
func newNetwork(n *Node) *network {
	return &network{
		n:            n,
		members:      map[uint64]PeerConfig{},
		heads:        map[string]head{},
		reports:      map[uint64]map[string]types.Hash{},
		mine:         map[uint64]types.Hash{},
		headsChanged: make(chan struct{}),
		diverge:      make(chan error, 1),
	}
}

// openNetwork builds the transport and the Raft engine of a node whose
// config says consensus "raft".
func (n *Node) openNetwork() (*network, error) {
	cfg := n.cfg
	rc := *cfg.Raft
	tlsMat, err := loadTLS(n.home, cfg.P2P)
	if err != nil {
		return nil, err
	}
	w := newNetwork(n)
	w.ask = w.askHash
	peers := rc.Peers
	if b, err := n.store.Meta(peersMeta); err == nil {
		var stored []PeerConfig
		if err := json.Unmarshal(b, &stored); err != nil {
			return nil, fmt.Errorf("stored member list: %w", err)
		}
		peers = stored
	}
	for _, p := range peers {
		w.members[p.ID] = p
	}
	self, ok := w.members[rc.ID]
	if !ok {
		self = PeerConfig{ID: rc.ID, NodeID: n.cfg.NodeID, P2P: cfg.P2P.Listen, API: cfg.API}
	}
	if self.NodeID != n.cfg.NodeID {
		// The certificate's name is the node's name on the network.
		n.cfg.NodeID = self.NodeID
	}
	pc := p2p.Config{ID: self.NodeID, Listen: cfg.P2P.Listen, TLS: tlsMat, Logger: n.log.With("part", "p2p")}
	if n.ident != nil {
		if pc.Identity, err = n.memberIdentity(self.NodeID); err != nil {
			return nil, err
		}
	}
	w.tr, err = p2p.New(pc)
	if err != nil {
		return nil, err
	}
	for _, p := range w.members {
		if p.ID != rc.ID {
			if err := w.tr.AddPeer(p.NodeID, p.P2P); err != nil {
				w.tr.Close()
				return nil, err
			}
		}
	}
	ec, err := raftEngineConfig(rc, n.home, n.hash)
	if err != nil {
		w.tr.Close()
		return nil, err
	}
	ec.Logger = n.log.With("part", "raft")
	w.voters = func() int { return len(w.eng.Status().Voters) }
	ec.OnConfChange = w.confChanged
	ec.Limits = n.blockLimits() // governance's block limits; nil on an open chain
	w.eng, err = raft.New(ec, n.pool, raftApplier{n, w}, w, []byte(self.NodeID), time.Now)
	if err != nil {
		w.tr.Close()
		return nil, err
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
	return w, nil
}

func loadTLS(home string, c *P2PConfig) (p2p.TLS, error) {
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

func raftEngineConfig(rc RaftConfig, home string, h crypto.Hash) (raft.Config, error) {
	c := raft.Config{
		Hash:              h,
		ID:                rc.ID,
		Join:              rc.Join,
		Dir:               filepath.Join(home, RaftDir),
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
	go w.watchRemoval(ctx)
	return w.tr.Run(ctx)
}

func (w *network) close() {
	w.eng.Close()
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

// confChanged keeps the transport's peers and the stored member list in
// step with the Raft configuration.
func (w *network) confChanged(cc raft.ConfChange) {
	w.mu.Lock()
	switch cc.Type {
	case raft.ConfAddNode:
		if len(cc.Context) == 0 {
			// A founding member (the network's first configuration
			// carries no addresses: they are in the config file). One
			// missing from the member list was removed later in the log.
			w.mu.Unlock()
			return
		}
		var p PeerConfig
		if err := json.Unmarshal(cc.Context, &p); err != nil || p.ID != cc.ID {
			w.mu.Unlock()
			w.n.log.Error("membership change without a usable address", "id", cc.ID, "err", err)
			return
		}
		w.members[p.ID] = p
		if p.ID != w.n.cfg.Raft.ID {
			if err := w.tr.AddPeer(p.NodeID, p.P2P); err != nil {
				w.n.log.Warn("adding peer", "node", p.NodeID, "err", err)
			}
		}
	case raft.ConfRemoveNode:
		p, ok := w.members[cc.ID]
		delete(w.members, cc.ID)
		if ok && p.ID != w.n.cfg.Raft.ID {
			w.tr.RemovePeer(p.NodeID)
			delete(w.heads, p.NodeID)
		}
	}
	list := make([]PeerConfig, 0, len(w.members))
	for _, p := range w.members {
		list = append(list, p)
	}
	w.mu.Unlock()
	slices.SortFunc(list, func(a, b PeerConfig) int { return cmpU64(a.ID, b.ID) })
	b, _ := json.Marshal(list)
	if err := w.n.store.PutMeta(peersMeta, b); err != nil {
		w.n.log.Error("storing the member list", "err", err)
	}
	w.n.log.Info("membership changed", "type", cc.Type, "id", cc.ID, "members", len(list))
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Leader implements api.Network.
func (w *network) Leader() (string, uint64) {
	st := w.eng.Status()
	if st.Leader == 0 {
		return "", st.Term
	}
	name, _ := w.nodeID(st.Leader)
	return name, st.Term
}

// Available implements api.Network.
func (w *network) Available() error {
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
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*pb.PeerStatus, 0, len(ps))
	for _, p := range ps {
		out = append(out, &pb.PeerStatus{
			NodeId:    p.ID,
			Address:   p.Addr,
			Connected: p.Connected,
			Height:    w.heads[p.ID].height,
			LastError: p.LastError,
		})
	}
	slices.SortFunc(out, func(a, b *pb.PeerStatus) int {
		switch {
		case a.NodeId < b.NodeId:
			return -1
		case a.NodeId > b.NodeId:
			return 1
		}
		return 0
	})
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
	leader, self, err := w.leaderName()
	if err != nil || self {
		return errs, err
	}
	resp, err := w.tr.Request(ctx, leader, chTxs, encodeRaws(raws))
	if err != nil {
		return nil, fmt.Errorf("%w: forwarding to leader %s: %v", api.ErrNoQuorum, leader, err)
	}
	verdicts, err := decodeVerdicts(resp, len(raws))
	if err != nil {
		return nil, fmt.Errorf("leader %s: %w", leader, err)
	}
	var refused []types.Hash
	for i, v := range verdicts {
		if v.reason != "" {
			errs[i] = &api.RemoteError{Code: v.code, Reason: v.reason, Msg: v.msg}
			if id, err := types.TxID(raws[i], w.n.hash); err == nil {
				refused = append(refused, id)
			}
		}
	}
	// What the leader refused would never leave this node's pool otherwise.
	w.n.pool.Remove(refused)
	return errs, nil
}

// serveTxs admits transactions a follower forwarded and answers with a
// verdict for each.
func (w *network) serveTxs(_ context.Context, from string, _ p2p.Channel, payload []byte) ([]byte, error) {
	raws, err := decodeRaws(payload)
	if err != nil {
		return nil, err
	}
	res := w.n.pool.Submit(raws)
	vs := make([]verdict, len(res))
	for i, r := range res {
		if r.Err == nil || errors.Is(r.Err, errDuplicate) {
			continue
		}
		code, reason := api.Classify(r.Err)
		vs[i] = verdict{code: code, reason: reason, msg: r.Err.Error()}
	}
	return encodeVerdicts(vs), nil
}

// The agreement check. After executing a block a node tells its peers the
// block's hash (which covers its write set), and it commits the block (the
// moment it becomes visible through the API) only once a majority of the
// voters, itself included, computed the same hash. If a majority computed
// another one, this node's state has forked from theirs: it stops, naming
// the height, without ever serving the block. Hashes a node missed (it
// restarted, or a message was dropped) it asks its peers for.

// executed records this node's hash of a block it has just executed and
// tells the peers.
func (w *network) executed(height uint64, hash types.Hash) {
	w.mu.Lock()
	w.mine[height] = hash
	delete(w.mine, height-headsKept)
	names := w.peerNamesLocked()
	w.mu.Unlock()
	msg := make([]byte, 8+32)
	binary.BigEndian.PutUint64(msg, height)
	copy(msg[8:], hash[:])
	for _, name := range names {
		_ = w.tr.Send(name, chHead, msg) // a lost one is asked for again
	}
	w.signalHeads()
}

func (w *network) peerNamesLocked() []string {
	names := make([]string, 0, len(w.members))
	for _, p := range w.members {
		if p.ID != w.n.cfg.Raft.ID {
			names = append(names, p.NodeID)
		}
	}
	return names
}

// onHead records a peer's hash of a block.
func (w *network) onHead(from string, _ p2p.Channel, payload []byte) {
	if len(payload) != 40 {
		w.n.log.Debug("bad head message", "from", from, "len", len(payload))
		return
	}
	var hash types.Hash
	height := binary.BigEndian.Uint64(payload)
	copy(hash[:], payload[8:])
	w.report(from, height, hash)
}

func (w *network) report(from string, height uint64, hash types.Hash) {
	w.mu.Lock()
	if h := w.heads[from]; height > h.height {
		w.heads[from] = head{height: height, hash: hash}
	}
	r := w.reports[height]
	if r == nil {
		r = map[string]types.Hash{}
		w.reports[height] = r
		delete(w.reports, height-headsKept)
	}
	r[from] = hash
	w.mu.Unlock()
	w.signalHeads()
}

// signalHeads wakes every confirm waiting for reports.
func (w *network) signalHeads() {
	w.mu.Lock()
	close(w.headsChanged)
	w.headsChanged = make(chan struct{})
	w.mu.Unlock()
}

// tally counts the reports of height: whether a majority of the voters
// (this node included) agrees with this node's hash, or one disagrees.
func (w *network) tally(height uint64) (mine types.Hash, agreed bool, fork error, missing []string, wake <-chan struct{}) {
	quorum := w.voters()/2 + 1
	w.mu.Lock()
	defer w.mu.Unlock()
	wake = w.headsChanged
	mine, ok := w.mine[height]
	if !ok {
		return mine, false, nil, nil, wake
	}
	same := 1
	others := map[types.Hash]int{}
	reports := w.reports[height]
	for _, name := range w.peerNamesLocked() {
		h, ok := reports[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case h == mine:
			same++
		default:
			others[h]++
		}
	}
	for hash, k := range others {
		if k >= quorum {
			return mine, false, fmt.Errorf("block %d: this node computed block hash %s but %d other nodes computed %s: its state differs from the network's; it stops rather than serve a fork", height, mine, k, hash), nil, wake
		}
	}
	return mine, same >= quorum, nil, missing, wake
}

// confirm waits until a majority agrees with this node's hash of the block
// at height, asking peers for hashes it has not heard. It returns the
// divergence error if a majority computed another hash, or ctx's error.
func (w *network) confirm(ctx context.Context, height uint64) error {
	ask := time.NewTimer(200 * time.Millisecond)
	defer ask.Stop()
	for {
		_, agreed, fork, missing, wake := w.tally(height)
		if fork != nil {
			select {
			case w.diverge <- fork:
			default:
			}
			return fork
		}
		if agreed {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-ask.C:
			for _, name := range missing {
				go w.ask(ctx, name, height)
			}
			ask.Reset(250 * time.Millisecond)
		}
	}
}

// askHash asks a peer for its hash of the block at height.
func (w *network) askHash(ctx context.Context, peer string, height uint64) {
	req := make([]byte, 8)
	binary.BigEndian.PutUint64(req, height)
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := w.tr.Request(rctx, peer, chHash, req)
	if err != nil || len(resp) != 32 {
		return // not there yet, or unreachable: asked again later
	}
	w.report(peer, height, types.Hash(resp))
}

// serveHash answers with this node's hash of the block at a height, from
// what it executed or what it committed; nothing if it has neither yet.
func (w *network) serveHash(_ context.Context, _ string, _ p2p.Channel, payload []byte) ([]byte, error) {
	if len(payload) != 8 {
		return nil, errors.New("bad hash request")
	}
	height := binary.BigEndian.Uint64(payload)
	w.mu.Lock()
	h, ok := w.mine[height]
	w.mu.Unlock()
	if ok {
		return h[:], nil
	}
	if height > w.n.store.Tip().Height {
		return nil, nil
	}
	raw, err := w.n.store.BlockByHeight(height)
	if err != nil {
		return nil, err
	}
	b, err := types.DecodeBlock(raw, w.n.hash)
	if err != nil {
		return nil, err
	}
	return b.Hash[:], nil
}

// ChangeNodes implements api.Network.
func (w *network) ChangeNodes(ctx context.Context, req *pb.ChangeNodesRequest, c *pb.NodeChange) ([]string, error) {
	leader, self, err := w.leaderName()
	if err != nil {
		return nil, err
	}
	if !self {
		b, err := proto.Marshal(req)
		if err != nil {
			return nil, err
		}
		resp, err := w.tr.Request(ctx, leader, chNodes, b)
		if refused := (*p2p.RemoteError)(nil); errors.As(err, &refused) {
			// The leader answered: a refusal is final, whatever the
			// member list here says.
			return nil, fmt.Errorf("leader %s: %s", leader, refused.Msg)
		}
		if err != nil {
			// Removing the leader itself drops this node's connection to
			// it as the change applies here: the answer is lost, not the
			// change. Look for the change locally before reporting.
			if w.applied(ctx, c) {
				return w.memberNames(), nil
			}
			return nil, fmt.Errorf("forwarding to leader %s: %w", leader, err)
		}
		var out pb.ChangeNodesResponse
		if err := proto.Unmarshal(resp, &out); err != nil {
			return nil, fmt.Errorf("leader %s: %w", leader, err)
		}
		return out.Members, nil
	}
	if err := w.n.governedNodeChange(c, w); err != nil {
		return nil, err
	}
	switch c.Op {
	case "add":
		if _, ok := w.nodeID(c.Id); ok {
			return nil, fmt.Errorf("node %d is already a member", c.Id)
		}
		p := PeerConfig{ID: c.Id, NodeID: c.NodeId, P2P: c.P2PAddress, API: c.ApiAddress}
		b, _ := json.Marshal(p)
		if err := w.eng.AddNode(ctx, c.Id, b); err != nil {
			return nil, err
		}
		// Applied; recording it again here (it is idempotent) makes the
		// answer include it whichever goroutine ran the callback first.
		w.confChanged(raft.ConfChange{Type: raft.ConfAddNode, ID: c.Id, Context: b})
	case "remove":
		if _, ok := w.nodeID(c.Id); !ok {
			return nil, fmt.Errorf("node %d is not a member", c.Id)
		}
		if err := w.eng.RemoveNode(ctx, c.Id); err != nil {
			return nil, err
		}
		w.confChanged(raft.ConfChange{Type: raft.ConfRemoveNode, ID: c.Id})
	}
	return w.memberNames(), nil
}

// applied reports whether c shows in this node's member list within a
// few seconds.
func (w *network) applied(ctx context.Context, c *pb.NodeChange) bool {
	for range 50 {
		name, member := w.nodeID(c.Id)
		if c.Op == "add" && member && name == c.NodeId || c.Op == "remove" && !member {
			return true
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return false
		}
	}
	return false
}

func (w *network) memberNames() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.members))
	for _, p := range w.members {
		out = append(out, p.NodeID)
	}
	slices.Sort(out)
	return out
}

// serveNodes carries out a membership change another node forwarded.
func (w *network) serveNodes(ctx context.Context, from string, _ p2p.Channel, payload []byte) ([]byte, error) {
	var req pb.ChangeNodesRequest
	if err := proto.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	c, err := api.VerifyNodeChange(&req, w.n.genesis.ChainID, w.n.issuer, time.Now())
	if err != nil {
		return nil, err
	}
	if _, self, err := w.leaderName(); err != nil || !self {
		return nil, errors.New("not the leader (any more); retry")
	}
	members, err := w.ChangeNodes(ctx, &req, c)
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&pb.ChangeNodesResponse{Members: members})
}

// serveSync answers a block-sync request: the committed blocks from the
// requested height on, as many as fit the limits.
func (w *network) serveSync(_ context.Context, from string, _ p2p.Channel, payload []byte) ([]byte, error) {
	if len(payload) != 8 {
		return nil, errors.New("bad sync request")
	}
	start := binary.BigEndian.Uint64(payload)
	tip := w.n.store.Tip().Height
	var blocks [][]byte
	size := 0
	for h := start; h <= tip && len(blocks) < syncMaxBlocks; h++ {
		b, err := w.n.store.BlockByHeight(h)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", h, err)
		}
		if size > 0 && size+len(b) > syncMaxBytes {
			break
		}
		size += len(b)
		blocks = append(blocks, b)
	}
	return encodeRaws(blocks), nil
}

// syncTo fetches, verifies, executes and commits blocks from peers until
// this node's chain reaches height. Each block is executed here; the
// result must give the block hash the peer sent, or the node stops. A
// fetcher requests the next run of blocks while the previous one is
// applied, and the signatures of a whole run are verified in one batch
// over every core.
func (w *network) syncTo(ctx context.Context, height uint64, want types.Hash, from uint64) error {
	n := w.n
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runs := make(chan syncRun, 2)
	start, _ := n.Last()
	go w.fetchBlocks(ctx, start+1, height, from, runs)
	for {
		if last, _ := n.Last(); last >= height {
			break
		}
		var run syncRun
		select {
		case <-ctx.Done():
			return ctx.Err()
		case run = <-runs:
		}
		if run.err != nil {
			return fmt.Errorf("block sync from %s: %w", run.src, run.err)
		}
		if err := w.applyRun(ctx, run); err != nil {
			return fmt.Errorf("block sync from %s: %w", run.src, err)
		}
	}
	if h, _ := n.Last(); h == height {
		n.pipe.mu.RLock()
		got := types.Hash(n.pipe.exec.BlockHash)
		n.pipe.mu.RUnlock()
		if got != want {
			return fmt.Errorf("block sync: block %d hashes to %s here, the snapshot says %s", height, got, want)
		}
	}
	return nil
}

// syncRun is one fetched run of consecutive blocks, decoded.
type syncRun struct {
	src    string
	blocks []*types.Block
	err    error // fatal: the run is malformed
}

// fetchBlocks requests runs of blocks from next until height, from the
// node from (or any connected peer), and hands them over in order. A
// failed request is retried; a malformed answer ends the fetch.
func (w *network) fetchBlocks(ctx context.Context, next, height, from uint64, out chan<- syncRun) {
	n := w.n
	for next <= height && ctx.Err() == nil {
		src, ok := w.nodeID(from)
		if !ok || src == n.cfg.NodeID {
			if src, ok = w.anyPeer(); !ok {
				if !sleepCtx(ctx, 500*time.Millisecond) {
					return
				}
				continue
			}
		}
		req := make([]byte, 8)
		binary.BigEndian.PutUint64(req, next)
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := w.tr.Request(rctx, src, chSync, req)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				n.log.Warn("block sync request failed; retrying", "peer", src, "from_height", next, "err", err)
				sleepCtx(ctx, 500*time.Millisecond)
			}
			continue
		}
		run := syncRun{src: src}
		raws, err := decodeRaws(resp)
		for _, raw := range raws {
			if err != nil {
				break
			}
			var b *types.Block
			if b, err = types.DecodeBlock(raw, n.hash); err == nil && b.Header.Height != next+uint64(len(run.blocks)) {
				err = fmt.Errorf("got block %d, want %d", b.Header.Height, next+uint64(len(run.blocks)))
			}
			run.blocks = append(run.blocks, b)
		}
		if err != nil {
			run.err = err
			select {
			case out <- run:
			case <-ctx.Done():
			}
			return
		}
		if len(run.blocks) == 0 {
			sleepCtx(ctx, 200*time.Millisecond) // the peer is behind too
			continue
		}
		next += uint64(len(run.blocks))
		select {
		case out <- run:
		case <-ctx.Done():
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// applyRun verifies every signature of a run in one batch, then executes
// and commits its blocks in order, each of which must reproduce its hash.
// One fsync covers the run: the blocks before the last are durable with
// it, and a crash before it loses only blocks that peers still have.
func (w *network) applyRun(ctx context.Context, run syncRun) error {
	n := w.n
	// On a permissioned chain signers bind to their keys against the state
	// before each block, so there apply verifies block by block.
	if n.ident == nil {
		var txs []*types.Tx
		for _, b := range run.blocks {
			txs = append(txs, b.Txs...)
		}
		for i, err := range n.pool.Verifier().Verify(txs) {
			if err != nil {
				return fmt.Errorf("transaction %s: %w", txs[i].ID, err)
			}
		}
	}
	for i, b := range run.blocks {
		last, _ := n.Last()
		if b.Header.Height != last+1 {
			return fmt.Errorf("got block %d, want %d", b.Header.Height, last+1)
		}
		p := &consensus.Proposal{Height: b.Header.Height, Time: b.Header.Time, Proposer: b.Header.Proposer, Txs: b.Txs}
		if err := n.apply(ctx, p, applyOpts{unsynced: i < len(run.blocks)-1, verified: n.ident == nil, synced: true}); err != nil {
			return err
		}
		n.pipe.mu.RLock()
		got := types.Hash(n.pipe.exec.BlockHash)
		n.pipe.mu.RUnlock()
		if got != b.Hash {
			return fmt.Errorf("block %d: executing it here gives hash %s, the peer's block is %s", p.Height, got, b.Hash)
		}
	}
	return nil
}

func (w *network) anyPeer() (string, bool) {
	for _, p := range w.tr.Peers() {
		if p.Connected {
			return p.ID, true
		}
	}
	return "", false
}

// raftApplier is the node as raft.Applier.
type raftApplier struct {
	*Node
	w *network
}

// Durable implements raft.Applier.
func (a raftApplier) Durable() (uint64, [32]byte) {
	t := a.store.Tip()
	return t.Height, t.BlockHash
}

// SyncTo implements raft.Applier.
func (a raftApplier) SyncTo(ctx context.Context, height uint64, hash [32]byte, from uint64) error {
	return a.w.syncTo(ctx, height, types.Hash(hash), from)
}

// verdict is the leader's answer for one forwarded transaction.
type verdict struct {
	code   connect.Code
	reason string
	msg    string
}
