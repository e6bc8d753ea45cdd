package node

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/consensus/bft"
	"github.com/accord-chain/accord/internal/members"
	"github.com/accord-chain/accord/p2p"
	p2ppb "github.com/accord-chain/accord/p2p/pb"
)

// chBFT carries the BFT engine's messages (proto/accord/bft/v1), one-way.
const chBFT p2p.Channel = 8

// BFTDir is the BFT engine's folder inside a node home: its safety state
// and the blocks it has not yet handed to the chain.
const BFTDir = "bft"

// On a BFT network every validator proposes from its own pool when it
// leads a round (leaders rotate every round). A node keeps what its clients
// send and passes it on to the validators due to lead before its own next
// turn, at most two (chTxs, without waiting for their verdicts), so that a
// transaction waits for the next proposal rather than for this node's
// turn, one round in four. Before proposing, a leader claims in its pool
// what the blocks it extends carry, so that nothing is proposed twice on
// one chain (consensus/bft/claims.go). Votes carry execution results, so
// the chain commits without the agreement step's wait
// (chain.Config.Certified).
const (
	// passLeaders is how many upcoming leaders get what a node admits:
	// the next one may have proposed before the batch is admitted there.
	passLeaders = 2
	// passBacklog: a node holding more transactions than this (ready or
	// in blocks on their way; about a second of half the peak of four
	// nodes on two cores) is saturated: a transaction waits for block
	// space rather than for a turn, so passing on would only add
	// admission work on other nodes, which takes from the peak.
	passBacklog = 4000
	// maxPassing bounds the batches being passed on to one validator: one
	// that falls behind gets fewer, and the sender's copy still reaches a
	// block when the sender leads.
	maxPassing = 8
)

// openBFT completes w with the BFT driver. The genesis validators are
// raft.peers, ordered by id, each with its node key as its consensus key;
// after a change, the driver's epoch record holds the set and its members.
func (n *Node) openBFT(w *network) error {
	bc := *n.cfg.BFT
	scheme := n.nodeKey.Scheme()
	genesis := members.List{Peers: slices.Clone(n.cfg.Raft.Peers)}
	for _, p := range genesis.Peers {
		genesis.MaxID = max(genesis.MaxID, p.ID)
		if p.NodeID == w.selfName && hex.EncodeToString(n.nodeKey.Public().Bytes()) != p.PubKey {
			return fmt.Errorf("config: raft.peers lists another pub_key for this node (%s) than its node key's; fix the list", p.NodeID)
		}
	}
	vs, err := genesis.Validators(scheme)
	if err != nil {
		return fmt.Errorf("config: raft.peers: %w", err)
	}
	dir := filepath.Join(n.home, BFTDir)
	e, changed, err := bft.LoadEpoch(dir)
	if err != nil {
		return err
	}
	if changed {
		l, err := members.DecodeList(e.Members)
		if err != nil {
			return fmt.Errorf("bft: the epoch record's members: %w", err)
		}
		w.setBFTMembers(l)
	}
	if vs.Index(w.selfName) < 0 && !changed && !n.cfg.Raft.Join {
		return fmt.Errorf("config: this node (%s) is not in raft.peers, so it is no validator", w.selfName)
	}
	gh, ok, err := n.chain.HashAt(0)
	if err != nil || !ok {
		return fmt.Errorf("bft: the genesis block's hash: %v", err)
	}
	dc := bft.DriverConfig{
		Core: bft.Config{ID: w.selfName, ChainID: n.genesis.ChainID, Hash: n.hash, Signer: n.nodeKey,
			Verifier: bft.CryptoVerifier{Scheme: scheme}, Validators: vs, RoundTicks: bc.RoundTicks},
		Dir:         dir,
		NextEpoch:   w.bftNextEpoch(genesis, scheme),
		GenesisHash: gh[:],
		LiveLimits:  n.chain.Limits(),
		Log:         n.log.With("part", "bft"),
		Metrics:     n.metrics.reg,
	}
	dc.Limits.MaxTxs, dc.Limits.MaxBytes = bc.MaxBlockTxs, bc.MaxBlockBytes
	dc.Sync = &bft.SyncConfig{Source: w, HashAt: n.chain.HashAt,
		Chain: func(ctx context.Context, height uint64, want [32]byte, f bft.BlockFetcher) error {
			return n.chain.SyncWith(ctx, height, want, f)
		}}
	for _, d := range []struct {
		s   string
		dst *time.Duration
	}{{bc.TickInterval, &dc.TickInterval}, {bc.BlockInterval, &dc.Limits.Interval}} {
		if d.s != "" {
			if *d.dst, err = time.ParseDuration(d.s); err != nil {
				return fmt.Errorf("config: bft: %w", err)
			}
		}
	}
	tr, err := wrapBFT(n.cfg.Byzantine, bftTransport{w}, dc.Core)
	if err != nil {
		return err
	}
	w.bftd, err = bft.NewDriver(dc, n.pool, n.chain, tr, n.clock)
	if err != nil {
		return err
	}
	w.tr.Handle(chBFT, func(from string, _ p2p.Channel, payload []byte) {
		if err := w.bftd.Receive(from, payload); err != nil {
			n.log.Debug("bad bft message", "from", from, "err", err)
		}
	})
	w.tr.HandleRequest(chTxs, w.serveTxs)
	w.passing = map[string]int{}
	w.tr.Handle(chHead, w.onHead)
	w.tr.HandleRequest(chSync, w.serveSync)
	w.tr.HandleRequest(chHash, w.serveHash)
	return nil
}

// bftTransport sends the driver's messages over p2p.
type bftTransport struct{ w *network }

func (t bftTransport) Send(to string, msg []byte) {
	_ = t.w.tr.Send(to, chBFT, msg) // a lost message is recovered by the protocol
}

// bftPass passes what this node admitted on to the next leaders and
// returns at once; a batch that does not arrive costs only latency.
func (w *network) bftPass(raws [][]byte) {
	if w.pool.Len() > passBacklog {
		return
	}
	msg := p2ppb.Marshal(&p2ppb.TxBatch{Version: p2ppb.Version, Txs: raws})
	for _, to := range w.bftd.NextLeaders(passLeaders) {
		w.mu.Lock()
		ok := w.passing[to] < maxPassing
		if ok {
			w.passing[to]++
		}
		w.mu.Unlock()
		if !ok {
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _ = w.tr.Request(ctx, to, chTxs, msg)
			cancel()
			w.mu.Lock()
			w.passing[to]--
			w.mu.Unlock()
		}()
	}
}

// bftLeader is the leader of this node's round; BFT has no term.
func (w *network) bftLeader() (string, uint64) {
	return w.bftd.Status().Leader, 0
}

// bftAvailable refuses writes while this node cannot reach a quorum of
// validators (itself included): nothing could commit them.
func (w *network) bftAvailable() error {
	st := w.bftd.Status()
	up := 1
	for _, p := range w.tr.Peers() {
		if p.Connected && slices.ContainsFunc(st.Validators, func(v bft.ValidatorStatus) bool { return v.ID == p.ID }) {
			up++
		}
	}
	f := (len(st.Validators) - 1) / 3
	if q := len(st.Validators) - f; up < q {
		return fmt.Errorf("%w: %d of %d validators reachable, %d needed", api.ErrNoQuorum, up, len(st.Validators), q)
	}
	return nil
}

// BFTStatus implements api.BFTNetwork.
func (w *network) BFTStatus() (uint64, []*pb.ValidatorStatus) {
	if w.bftd == nil {
		return 0, nil
	}
	st := w.bftd.Status()
	out := make([]*pb.ValidatorStatus, len(st.Validators))
	for i, v := range st.Validators {
		out[i] = &pb.ValidatorStatus{NodeId: v.ID, LastSeenRound: v.LastSeenRound}
	}
	return st.Round, out
}

// bftMembers lists the validators as members, by their ids in raft.peers.
func (w *network) bftMembers() ([]*pb.Member, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*pb.Member, 0, len(w.members))
	maxID := w.bftMaxID
	for _, p := range w.members {
		out = append(out, &pb.Member{Id: p.ID, NodeId: p.NodeID, P2PAddress: p.P2P, ApiAddress: p.API})
		maxID = max(maxID, p.ID)
	}
	slices.SortFunc(out, func(a, b *pb.Member) int { return cmp.Compare(a.Id, b.Id) })
	return out, maxID
}

// Evidence implements api.BFTNetwork.
func (w *network) Evidence() []api.Evidence {
	if w.bftd == nil {
		return nil
	}
	ev := w.bftd.Evidence()
	out := make([]api.Evidence, len(ev))
	for i, e := range ev {
		out[i] = api.Evidence{Validator: e.Validator, Round: e.Round, A: hex.EncodeToString(e.A), B: hex.EncodeToString(e.B)}
	}
	return out
}

var _ api.BFTNetwork = (*network)(nil)
