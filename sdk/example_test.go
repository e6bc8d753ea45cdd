package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/sdk"
	"github.com/accord-chain/accord/types"
)

// A key folder is what `accord keys new` and `accord init` write: NAME.json
// holds a key, and NAME.pem beside it, on a permissioned chain, the
// member's certificate.
func Example_keyFolder() {
	ks, err := keystore.Open(os.ExpandEnv("$HOME/.accord/dev/keys"))
	if err != nil {
		log.Fatal(err)
	}
	alice, err := ks.Get("alice")
	if err != nil {
		log.Fatal(err) // keystore.ErrNotFound when there is no alice.json
	}
	cert, err := ks.Cert("alice") // nil when there is no alice.pem
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(alice.Name, alice.Address, alice.Scheme, cert != nil)
}

// On an open chain a transaction names its signer by public key: sign the
// call, submit it, and wait for its receipt.
func ExampleClient_Sign() {
	ctx := context.Background()
	c := sdk.New("http://127.0.0.1:7070")
	ks, _ := keystore.Open(os.ExpandEnv("$HOME/.accord/dev/keys"))
	admin, _ := ks.Get("admin") // the issuer of an open chain
	alice, _ := ks.Get("alice")

	calls := []struct {
		key  *keystore.Key
		call sdk.Call
	}{
		{admin, sdk.Call{Contract: tokencall.Name, Method: tokencall.MethodMint, Args: tokencall.Mint(alice.Address, 1000)}},
		{alice, sdk.Call{Contract: tokencall.Name, Method: tokencall.MethodTransfer, Args: tokencall.Transfer(admin.Address, 250)}},
		{admin, sdk.Call{Contract: tokencall.Name, Method: tokencall.MethodBurn, Args: tokencall.Burn(250)}},
	}
	for _, k := range calls {
		tx, err := c.Sign(ctx, k.key.Private, k.call) // the nonce is the node's next_nonce
		if err != nil {
			log.Fatal(err)
		}
		id, err := c.Submit(ctx, tx)
		if err != nil {
			log.Fatal(err) // refused at admission: bad signature, stale nonce, pool full, ...
		}
		if _, err := c.WaitOK(ctx, id); err != nil {
			log.Fatal(err)
		}
	}
}

// On a permissioned chain in certificate mode a member signs as its
// certificate, which travels with the transaction (CertHash names one
// registered on chain instead). Policies decide who may call what:
// `accord init --orgs` lets org1's admins mint.
func ExampleClient_Sign_certificate() {
	ctx := context.Background()
	c := sdk.New("http://127.0.0.1:7070")
	ks, _ := keystore.Open("net/keys")
	admin, _ := ks.Get("org1-admin")
	cert, _ := ks.Cert("org1-admin")
	client, _ := ks.Get("org1-client")

	tx, err := c.Sign(ctx, admin.Private, sdk.Call{
		Contract: tokencall.Name, Method: tokencall.MethodMint, Args: tokencall.Mint(client.Address, 100), Cert: cert,
	})
	if err != nil {
		log.Fatal(err)
	}
	id, err := c.Submit(ctx, tx)
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.WaitOK(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("committed at height", r.Height)
}

// WaitOK returns a committed transaction that did not succeed as a
// *sdk.TxError carrying its receipt's reason.
func ExampleClient_WaitOK() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sdk.New("http://127.0.0.1:7070")
	ks, _ := keystore.Open(os.ExpandEnv("$HOME/.accord/dev/keys"))
	alice, _ := ks.Get("alice")
	bob, _ := ks.Get("bob")

	id, err := c.Transfer(ctx, alice.Private, bob.Address, 1_000_000)
	if err != nil {
		log.Fatal(err) // admission refuses what the committed balance already rules out
	}
	_, err = c.WaitOK(ctx, id)
	var failed *sdk.TxError
	switch {
	case errors.As(err, &failed):
		fmt.Println("failed:", failed.Message) // e.g. insufficient balance: have 750, need 1000000
	case err != nil:
		log.Fatal(err) // not committed before ctx ended, or the node is unreachable
	}
}

// Governance calls are native calls too: their arguments are the
// governance package's Args of each method's struct. An online change is
// proposed, then voted for with endorsements until its policy is met.
func ExampleClient_Proposal() {
	ctx := context.Background()
	c := sdk.New("http://127.0.0.1:7070")
	ks, _ := keystore.Open("net/keys")
	org1, _ := ks.Get("org1-admin")
	org1Cert, _ := ks.Cert("org1-admin")
	org2, _ := ks.Get("org2-admin")
	org2Cert, _ := ks.Cert("org2-admin")

	send := func(k *keystore.Key, cert []byte, method string, args []byte) {
		tx, err := c.Sign(ctx, k.Private, sdk.Call{Contract: govcall.Name, Method: method, Args: args, Cert: cert})
		if err != nil {
			log.Fatal(err)
		}
		id, err := c.Submit(ctx, tx)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := c.WaitOK(ctx, id); err != nil {
			log.Fatal(err)
		}
	}

	// Propose: the change, encoded canonically, and a deadline.
	frozen, _ := types.ParseAddress("5ad8946cdcfa6d325c5b749abb6f62b7fd0ab6fd")
	change := &govcall.Change{Kind: govcall.KindFreeze, Address: frozen.String()}
	if err := change.Validate(); err != nil {
		log.Fatal(err)
	}
	deadline := uint64(time.Now().Add(24 * time.Hour).UnixMilli())
	send(org1, org1Cert, govcall.MethodPropose, govcall.Args(govcall.ProposeArgs{Change: change.Encode(), Deadline: deadline}))

	// GetProposal lists proposals (id 0: every one) with their status.
	all, err := c.Proposal(ctx, 0)
	if err != nil {
		log.Fatal(err)
	}
	p := all.Proposals[len(all.Proposals)-1]
	fmt.Println(p.Id, p.Status, p.Votes)

	// Vote: endorse exactly what was proposed, as a member.
	info, err := c.Info(ctx)
	if err != nil {
		log.Fatal(err)
	}
	digest := &identity.Proposal{ChainID: info.ChainID, ID: p.Id, Deadline: p.Deadline, Payload: p.Change}
	en, err := identity.Endorse(org2.Private, identity.Ref{Cert: org2Cert}, digest, info.Hash)
	if err != nil {
		log.Fatal(err)
	}
	send(org2, org2Cert, govcall.MethodVote, govcall.Args(govcall.VoteArgs{
		ID: p.Id, Endorsements: identity.EncodeEndorsements([]identity.Endorsement{en}),
	}))

	// An organisation's admin revokes one of its certificates alone.
	send(org1, org1Cert, govcall.MethodRevoke, govcall.Args(govcall.RevokeArgs{Org: "org1", Serial: "3"}))
}

// Subscribe streams every committed block with its transactions' results:
// replayed from a height, then followed.
func ExampleClient_Subscribe() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := sdk.New("http://127.0.0.1:7070").Subscribe(ctx, 1, true)
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()
	for stream.Receive() {
		m := stream.Msg()
		fmt.Println(m.Header.Height, len(m.Results))
	}
	if err := stream.Err(); err != nil {
		log.Fatal(err) // resubscribe from the last height received
	}
}

// Watch streams only the events that match a filter; the node filters.
func ExampleClient_Watch() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := sdk.New("http://127.0.0.1:7070").Watch(ctx, sdk.EventFilter{
		Contract: tokencall.Name, Event: tokencall.MethodTransfer, Account: "5ad8946cdcfa6d325c5b749abb6f62b7fd0ab6fd", FromHeight: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()
	for stream.Receive() {
		m := stream.Msg()
		for _, r := range m.Results {
			for _, ev := range r.Receipt.Events {
				fmt.Println(m.Header.Height, r.TxId, ev.Name, ev.Attributes)
			}
		}
	}
}

// SignOffline signs on a machine that cannot reach the node: the chain id,
// its hash and the sender's next nonce come from elsewhere (`accord
// status` and `accord query account` on a networked machine).
func ExampleSignOffline() {
	ks, _ := keystore.Open("offline/keys")
	admin, _ := ks.Get("admin")
	to, _ := types.ParseAddress("5ad8946cdcfa6d325c5b749abb6f62b7fd0ab6fd")
	info := sdk.Info{ChainID: "accord-dev", Hash: crypto.SHA256} // crypto.SM3 on an SM2 chain
	tx, err := sdk.SignOffline(info, admin.Private, 7, sdk.Call{Contract: tokencall.Name, Method: tokencall.MethodMint, Args: tokencall.Mint(to, 5)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%x\n", tx.Raw) // carry it over; send it with Client.Submit or `accord tx send`
}
