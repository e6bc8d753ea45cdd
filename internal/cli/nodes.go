package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	apipb "github.com/accord-chain/accord/api/pb"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/provision"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
)

// membershipTimeout bounds one membership change: the leader commits it
// through the Raft log.
const membershipTimeout = 30 * time.Second

func nodeCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Add nodes to a running Raft or BFT network or remove them (signed by the admin key)",
	}
	cmd.AddCommand(nodeAddCmd(e), nodeRemoveCmd(e))
	return cmd
}

func nodeAddCmd(e *env) *cobra.Command {
	var (
		o        provision.JoinOptions
		nodeURL  string
		prepare  bool
		existing string
	)
	cmd := &cobra.Command{
		Use:   "add --network DIR",
		Short: "Create the next node home in DIR and admit it to the running network; then start it with accord start",
		Long: `Create the next node home in DIR (node key, network certificate, genesis, config that joins) and
admit it to the running network. The new node's Raft id is the next one the network never used (ids are
never reused), read from the running node's member list; id N gets the folder and name node<N-1>.
On a permissioned chain a node joins only once governance has listed it: make the home with --prepare,
give its key a consensus certificate (accord cert issue --keys HOME --key node_key --role consensus),
have an add_node change approved (accord gov propose), then admit the prepared home with --home.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			admin, url, err := adminAndNode(nodeURL, o.Network)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), membershipTimeout)
			defer cancel()
			c := sdk.New(url)
			var (
				home *provision.Node
				self config.Peer
			)
			if existing != "" {
				home, self, err = provision.JoiningHome(existing)
				if errors.Is(err, provision.ErrNotJoiningHome) {
					return fmt.Errorf("--home: %w; accord node add --prepare makes one", err)
				}
			} else {
				if o.Members, o.ID, err = nextMember(ctx, c, o.ID); err != nil {
					return err
				}
				home, self, err = provision.NewJoiningHome(o)
			}
			if err != nil {
				return withFlag(err, joinFlags)
			}
			if prepare {
				v := struct {
					Home   string `json:"home"`
					API    string `json:"api"`
					ID     uint64 `json:"id"`
					NodeID string `json:"node_id"`
					P2P    string `json:"p2p"`
				}{home.Home, home.API, self.ID, self.NodeID, self.P2P}
				return e.print(v, func(w io.Writer) {
					fmt.Fprintf(w, "%s (raft id %d) prepared in %s; admit it with: accord node add --network %s --home %s\n",
						v.NodeID, v.ID, v.Home, o.Network, v.Home)
				})
			}
			pub, err := hex.DecodeString(self.PubKey) // a bft validator's consensus key; none on raft
			if err != nil {
				return fmt.Errorf("the new node's pub_key: %w", err)
			}
			members, err := c.ChangeNodes(ctx, admin, &apipb.NodeChange{
				Op: "add", Id: self.ID, NodeId: self.NodeID, P2PAddress: self.P2P, ApiAddress: self.API, PubKey: pub,
			})
			if err == nil {
				err = checkAdmitted(ctx, c, self, members)
			}
			if err != nil {
				return fmt.Errorf("admitting %s (its home %s is made: retry with --home %s, or delete it): %w", self.NodeID, home.Home, home.Home, err)
			}
			v := struct {
				Home    string   `json:"home"`
				API     string   `json:"api"`
				ID      uint64   `json:"id"`
				NodeID  string   `json:"node_id"`
				Members []string `json:"members"`
			}{home.Home, home.API, self.ID, self.NodeID, members}
			return e.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "%s (raft id %d) admitted; members now: %s\nstart it with: accord start --home %s\n",
					v.NodeID, v.ID, strings.Join(members, ", "), v.Home)
			})
		},
	}
	cmd.Flags().StringVar(&o.Network, "network", "", "network folder made by accord init --nodes (required)")
	cmd.Flags().Uint64Var(&o.ID, "id", 0, "Raft id of the new node, above every id the network used (default: the next one)")
	cmd.Flags().StringVar(&o.API, "api", "", "API address of the new node (default: node0's port + 10 per node)")
	cmd.Flags().StringVar(&o.P2P, "p2p", "", "node-to-node address of the new node (default: the port after its API's)")
	cmd.Flags().StringVar(&nodeURL, "node", "", "API URL of a running node to send the change to (default: node0's)")
	cmd.Flags().BoolVar(&prepare, "prepare", false, "only create the home; admit it later with --home")
	cmd.Flags().StringVar(&existing, "home", "", "admit this node home, made earlier with --prepare")
	_ = cmd.MarkFlagRequired("network")
	return cmd
}

// nextMember reads the network's committed member list from a running
// node and picks the new node's Raft id: id when given, else the next one
// the network never used. Folder names say nothing about ids: a folder may
// be missing, or belong to a removed node.
func nextMember(ctx context.Context, c *sdk.Client, id uint64) ([]config.Peer, uint64, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the member list: %w", err)
	}
	if st.Consensus != "raft" && st.Consensus != "bft" || len(st.Members) == 0 {
		return nil, 0, fmt.Errorf("the node runs %s consensus without a member list: nodes can join a raft or bft network only", st.Consensus)
	}
	if id == 0 {
		id = st.MaxRaftId + 1
	} else if id <= st.MaxRaftId {
		return nil, 0, fmt.Errorf("--id %d: the network has used Raft ids up to %d and never reuses one; leave --id out, or give %d or more", id, st.MaxRaftId, st.MaxRaftId+1)
	}
	peers := make([]config.Peer, len(st.Members))
	for i, m := range st.Members {
		peers[i] = config.Peer{ID: m.Id, NodeID: m.NodeId, P2P: m.P2PAddress, API: m.ApiAddress}
	}
	return peers, id, nil
}

// checkAdmitted confirms an admission in the network's member list: the
// answer's voters name the node, and the node asked lists its Raft id as
// the node's once it has applied the change (a follower may apply it a
// moment after the leader answered).
func checkAdmitted(ctx context.Context, c *sdk.Client, self config.Peer, members []string) error {
	if !slices.Contains(members, self.NodeID) {
		return fmt.Errorf("the network answered, but its members (%s) do not include %s: it was not admitted", strings.Join(members, ", "), self.NodeID)
	}
	for {
		st, err := c.Status(ctx)
		if err != nil {
			return fmt.Errorf("confirming the admission: %w", err)
		}
		for _, m := range st.Members {
			if m.Id == self.ID && m.NodeId != self.NodeID {
				return fmt.Errorf("raft id %d belongs to %s, not %s: it was not admitted", self.ID, m.NodeId, self.NodeID)
			}
			if m.Id == self.ID {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("raft id %d is not in the network's member list: %s was not admitted", self.ID, self.NodeID)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func nodeRemoveCmd(e *env) *cobra.Command {
	var (
		network string
		nodeURL string
		id      uint64
	)
	cmd := &cobra.Command{
		Use:   "remove --network DIR --id N",
		Short: "Remove node N (its Raft id) from the running network",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == 0 {
				return fmt.Errorf("--id: give the Raft id of the node to remove")
			}
			admin, url, err := adminAndNode(nodeURL, network)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), membershipTimeout)
			defer cancel()
			members, err := sdk.New(url).ChangeNodes(ctx, admin, &apipb.NodeChange{Op: "remove", Id: id})
			if err != nil {
				return err
			}
			return e.print(map[string]any{"removed": id, "members": members}, func(w io.Writer) {
				fmt.Fprintf(w, "node %d removed; members now: %s\n", id, strings.Join(members, ", "))
			})
		},
	}
	cmd.Flags().StringVar(&network, "network", "", "network folder made by accord init --nodes (required)")
	cmd.Flags().Uint64Var(&id, "id", 0, "Raft id of the node to remove (required)")
	cmd.Flags().StringVar(&nodeURL, "node", "", "API URL of a running node to send the change to (default: node0's)")
	_ = cmd.MarkFlagRequired("network")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

// adminAndNode loads the network's admin key and picks the node to talk
// to: nodeURL, or node0's API when empty. The membership commands keep
// --node in their own variable: the shared one other commands bind holds
// their default (the dev node), not "node0's".
func adminAndNode(nodeURL, network string) (crypto.PrivateKey, string, error) {
	ks, err := keystore.Open(provision.KeysDir(network))
	if err != nil {
		return nil, "", err
	}
	admin, err := ks.Get(provision.AdminKey)
	if err != nil {
		return nil, "", fmt.Errorf("the admin key of %s: %w", network, err)
	}
	url := nodeURL
	if url == "" {
		cfg, err := config.Load(provision.NodeHome(network, 0))
		if err != nil {
			return nil, "", err
		}
		url = "http://" + cfg.API
	}
	return admin.Private, url, nil
}
