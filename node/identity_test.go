package node

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/config"
	"github.com/accord-chain/accord/consensus"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/genesis"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/keystore"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// permChain drives a permissioned node: admission through its pool, and
// blocks through Apply with transactions decoded afresh from their bytes,
// as a node receives them from a peer (unbound, signatures unchecked), so
// that execution's own checks are what is tested.
type permChain struct {
	t      *testing.T
	n      *Node
	ks     *keystore.Store
	res    *InitResult
	height uint64
	time   uint64
	nonces map[string]uint64
	// offlineID numbers the offline changes the test submits.
	offlineID uint64
}

func newPermChain(t *testing.T, orgs int, scheme crypto.Scheme, mode string) *permChain {
	t.Helper()
	return newPermChainWith(t, orgs, scheme, mode, nil)
}

// newPermChainWith is newPermChain with edit, if not nil, applied to the
// genesis document before the node opens.
func newPermChainWith(t *testing.T, orgs int, scheme crypto.Scheme, mode string, edit func(*genesis.Doc)) *permChain {
	t.Helper()
	return newPermChainClock(t, orgs, scheme, mode, edit, clock.Real)
}

// newPermChainClock is newPermChainWith with the node on the clock clk.
func newPermChainClock(t *testing.T, orgs int, scheme crypto.Scheme, mode string, edit func(*genesis.Doc), clk clock.Clock) *permChain {
	t.Helper()
	res := initHome(t, InitOptions{Crypto: scheme, Orgs: orgs, Identity: mode, Now: time.Now()})
	if edit != nil {
		path := filepath.Join(res.Nodes[0].Home, config.GenesisFile)
		g, _, err := genesis.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		edit(g)
		b, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err := openWith(res.Nodes[0].Home, quiet, nil, clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ks, err := keystore.Open(res.KeysDir)
	if err != nil {
		t.Fatal(err)
	}
	return &permChain{t: t, n: n, ks: ks, res: res, time: n.store.Tip().Time, nonces: map[string]uint64{}}
}

// sign makes a transaction of key name (with its certificate, when it has
// one), using the next nonce the test tracks for it.
func (c *permChain) sign(name, contract, method string, args []byte) *types.Tx {
	c.t.Helper()
	k, err := c.ks.Get(name)
	if err != nil {
		c.t.Fatal(err)
	}
	der, err := c.ks.Cert(name)
	if err != nil {
		c.t.Fatal(err)
	}
	body := &pb.TxPayload{ChainId: c.res.ChainID, Nonce: c.nonces[name], ExpiresAt: 1 << 62, Contract: contract, Method: method, Args: args}
	var tx *types.Tx
	if der != nil {
		tx, err = types.SignTxCert(body, k.Private, der, types.Hash{}, c.n.hash)
	} else {
		tx, err = types.SignTx(body, k.Private, c.n.hash)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.nonces[name]++
	return tx
}

// admit submits tx to the pool and returns its admission error.
func (c *permChain) admit(tx *types.Tx) error {
	return c.n.pool.Submit([][]byte{tx.Raw})[0].Err
}

// block executes txs as the next block and returns their receipts.
func (c *permChain) block(txs ...*types.Tx) []*pb.Receipt {
	c.t.Helper()
	fresh := make([]*types.Tx, len(txs))
	for i, tx := range txs {
		d, err := types.DecodeTx(tx.Raw, c.n.hash)
		if err != nil {
			c.t.Fatal(err)
		}
		fresh[i] = d
	}
	c.height++
	c.time += 1000
	if err := c.n.chain.Apply(context.Background(), &consensus.Proposal{Height: c.height, Time: c.time, Txs: fresh}); err != nil {
		c.t.Fatal(err)
	}
	if err := c.n.chain.Flush(); err != nil {
		c.t.Fatal(err)
	}
	c.n.pool.Update(fresh)
	rs, err := c.n.store.Receipts(c.height)
	if err != nil {
		c.t.Fatal(err)
	}
	out := make([]*pb.Receipt, len(rs))
	for i, b := range rs {
		if out[i], err = types.DecodeReceipt(b); err != nil {
			c.t.Fatal(err)
		}
	}
	return out
}

// want checks one receipt.
func (c *permChain) want(r *pb.Receipt, status pb.TxStatus, msg string) {
	c.t.Helper()
	if r.Status != status || !strings.Contains(r.Message, msg) {
		c.t.Fatalf("receipt %v %q, want %v containing %q", r.Status, r.Message, status, msg)
	}
}

func (c *permChain) addr(name string) types.Address {
	k, err := c.ks.Get(name)
	if err != nil {
		c.t.Fatal(err)
	}
	return k.Address
}

func (c *permChain) balance(name string) uint64 {
	b, err := token.Balance(c.n.store.State(), c.addr(name))
	if err != nil {
		c.t.Fatal(err)
	}
	return b
}

// endorse makes name's endorsement of proposal p.
func (c *permChain) endorse(name string, p *identity.Proposal) []byte {
	c.t.Helper()
	k, _ := c.ks.Get(name)
	der, _ := c.ks.Cert(name)
	ref := identity.Ref{Cert: der}
	if der == nil {
		ref = identity.Ref{Scheme: k.Scheme, PublicKey: k.Private.Public().Bytes()}
	}
	e, err := identity.Endorse(k.Private, ref, p, c.n.hash)
	if err != nil {
		c.t.Fatal(err)
	}
	return identity.EncodeEndorsements([]identity.Endorsement{e})
}

func (c *permChain) proposal(id uint64) *governance.Proposal {
	p, err := governance.GetProposal(c.n.store.State(), id)
	if err != nil || p == nil {
		c.t.Fatalf("proposal %d: %v %v", id, p, err)
	}
	return p
}

var (
	ok      = pb.TxStatus_TX_STATUS_OK
	failed  = pb.TxStatus_TX_STATUS_FAILED
	invalid = pb.TxStatus_TX_STATUS_INVALID
)

// TestFourOrgsAddAFifth is the consortium story of the identity issue on
// one node: four organisations; minting is a policy; three admins approve
// adding a fifth organisation online; its client can then transact; a
// revoked client is refused at admission and at execution.
func TestFourOrgsAddAFifth(t *testing.T) {
	c := newPermChain(t, 4, crypto.SM2, "cert")

	// Minting is org1's admins' by policy; org2's admin may not.
	mint := c.sign("org1-admin", token.Name, token.MethodMint, tokencall.Mint(c.addr("org1-client"), 100))
	if err := c.admit(mint); err != nil {
		t.Fatalf("admission of org1's mint: %v", err)
	}
	bad := c.sign("org2-admin", token.Name, token.MethodMint, tokencall.Mint(c.addr("org2-admin"), 100))
	if err := c.admit(bad); !errors.Is(err, identity.ErrPolicy) {
		t.Fatalf("org2's mint at admission: %v, want ErrPolicy", err)
	}
	rs := c.block(mint, bad)
	c.want(rs[0], ok, "")
	c.want(rs[1], failed, "policy not satisfied")
	if b := c.balance("org1-client"); b != 100 {
		t.Fatalf("org1-client balance %d after mint", b)
	}

	// org5 is not a member yet: its client is refused.
	ca5, err := identity.NewCA("org5", crypto.SM2, time.Now().Add(-time.Hour), CAValidity, nil)
	if err != nil {
		t.Fatal(err)
	}
	k5, err := c.ks.New("org5-client", crypto.SM2)
	if err != nil {
		t.Fatal(err)
	}
	der5, err := ca5.Issue("shop", identity.Client, k5.Private.Public(), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), big.NewInt(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ks.PutCert("org5-client", der5); err != nil {
		t.Fatal(err)
	}
	early := c.sign("org5-client", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-client"), 1))
	if err := c.admit(early); !errors.Is(err, identity.ErrUnknownOrg) {
		t.Fatalf("org5 before it joins: %v, want ErrUnknownOrg", err)
	}
	c.want(c.block(early)[0], invalid, "unknown organisation")
	c.nonces["org5-client"] = 0 // nothing moved

	// Online: org1 proposes, org1, org2 and org3 vote; org2 twice.
	change := (&governance.Change{Kind: governance.KindAddOrg, Org: "org5", Scheme: "sm2", CAPEM: string(ca5.Cert.PEM())}).Encode()
	deadline := c.time + 3_600_000
	prop := c.sign("org1-admin", governance.Name, governance.MethodPropose, govcall.Args(govcall.ProposeArgs{Change: change, Deadline: deadline}))
	if err := c.admit(prop); err != nil {
		t.Fatalf("admission of a proposal: %v", err)
	}
	c.want(c.block(prop)[0], ok, "")
	p := c.proposal(1)
	ip := p.Digest(c.res.ChainID)
	vote := func(voter, from string) *types.Tx {
		return c.sign(from, governance.Name, governance.MethodVote, govcall.Args(govcall.VoteArgs{ID: 1, Endorsements: c.endorse(voter, ip)}))
	}
	client := c.sign("org3-client", governance.Name, governance.MethodVote, govcall.Args(govcall.VoteArgs{ID: 1, Endorsements: c.endorse("org3-client", ip)}))
	rs = c.block(vote("org1-admin", "org1-admin"), vote("org2-admin", "org2-admin"), vote("org2-admin", "org2-admin"), client)
	c.want(rs[0], ok, "")
	c.want(rs[1], ok, "")
	c.want(rs[2], failed, "already voted")
	c.want(rs[3], failed, "wrong role")
	if got := c.proposal(1); got.Executed != 0 {
		t.Fatal("two of four organisations executed a MAJORITY change")
	}
	// A forged vote: org4's admin endorses another change under id 1.
	forgedP := *ip
	forgedP.Payload = (&governance.Change{Kind: governance.KindRemoveOrg, Org: "org2"}).Encode()
	forged := c.sign("org4-admin", governance.Name, governance.MethodVote, govcall.Args(govcall.VoteArgs{ID: 1, Endorsements: c.endorse("org4-admin", &forgedP)}))
	c.want(c.block(forged)[0], failed, "bad endorsement")

	// The third organisation executes it, from the next block on.
	rs = c.block(vote("org3-admin", "org4-client"))
	c.want(rs[0], ok, "")
	if got := c.proposal(1); got.Executed != c.height {
		t.Fatalf("proposal executed at %d, want %d", got.Executed, c.height)
	}
	c.want(c.block(vote("org4-admin", "org4-admin"))[0], failed, "proposal closed")

	pay := c.sign("org5-client", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-client"), 1))
	if err := c.admit(pay); err == nil || !errors.Is(err, token.ErrInsufficient) {
		t.Fatalf("org5's client after joining: %v, want only insufficient balance", err)
	}
	c.want(c.block(pay)[0], failed, "insufficient balance")

	// Revocation by org1's admin: its client is refused everywhere.
	serial := certSerial(t, c.ks, "org1-client")
	rev := c.sign("org1-admin", governance.Name, governance.MethodRevoke, govcall.Args(govcall.RevokeArgs{Org: "org1", Serial: serial}))
	other := c.sign("org2-admin", governance.Name, governance.MethodRevoke, govcall.Args(govcall.RevokeArgs{Org: "org1", Serial: serial}))
	rs = c.block(rev, other)
	c.want(rs[0], ok, "")
	c.want(rs[1], failed, "not an admin")
	gone := c.sign("org1-client", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org5-client"), 1))
	if err := c.admit(gone); !errors.Is(err, identity.ErrRevoked) {
		t.Fatalf("revoked client at admission: %v, want ErrRevoked", err)
	}
	c.want(c.block(gone)[0], invalid, "revoked")
	if b := c.balance("org1-client"); b != 100 {
		t.Fatalf("revoked client's balance moved: %d", b)
	}
}

func certSerial(t *testing.T, ks *keystore.Store, name string) string {
	der, err := ks.Cert(name)
	if err != nil || der == nil {
		t.Fatalf("certificate of %s: %v", name, err)
	}
	c, err := identity.ParseCert(der)
	if err != nil {
		t.Fatal(err)
	}
	return c.Serial
}

// TestOfflineChangeAndFreeze: endorsements collected offline apply in one
// transaction; too few, forged or replayed ones apply nothing; a frozen
// account cannot send; an expired proposal cannot be voted.
func TestOfflineChangeAndFreeze(t *testing.T) {
	c := newPermChain(t, 3, crypto.P256, "cert")
	target := c.addr("org2-client")
	change := (&governance.Change{Kind: governance.KindFreeze, Address: target.String()}).Encode()
	p := &identity.Proposal{ChainID: c.res.ChainID, ID: governance.OfflineIDBase + 7, Deadline: c.time + 600_000, Payload: change}
	es := func(names ...string) []byte {
		var all []identity.Endorsement
		for _, n := range names {
			e, err := identity.DecodeEndorsements(c.endorse(n, p))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, e...)
		}
		return identity.EncodeEndorsements(all)
	}
	submit := func(from string, id uint64, e []byte) *types.Tx {
		return c.sign(from, governance.Name, governance.MethodSubmit, govcall.Args(govcall.SubmitArgs{Change: change, ID: id, Deadline: p.Deadline, Endorsements: e}))
	}
	// Two admins of one organisation count once: 1 of 3.
	k, _ := c.ks.New("org1-admin2", crypto.P256)
	if err := IssueCert(OrgDir(filepath.Dir(c.res.Nodes[0].Home), 1), c.ks, k.Name, "second admin", identity.Admin, time.Now()); err != nil {
		t.Fatal(err)
	}
	rs := c.block(
		submit("org1-admin", p.ID, es("org1-admin", "org1-admin2")),
		submit("org1-admin", p.ID+1, es("org1-admin", "org2-admin")), // endorsed under another id
		submit("org1-admin", p.ID, es("org1-admin", "org3-admin")),
	)
	c.want(rs[0], failed, "1 of 3 organisations endorsed")
	c.want(rs[1], failed, "bad endorsement")
	c.want(rs[2], ok, "")
	c.want(c.block(submit("org3-admin", p.ID, es("org1-admin", "org3-admin")))[0], failed, "already used")

	frozen := c.sign("org2-client", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-client"), 1))
	if err := c.admit(frozen); !errors.Is(err, identity.ErrFrozen) {
		t.Fatalf("frozen sender at admission: %v, want ErrFrozen", err)
	}
	c.want(c.block(frozen)[0], invalid, "frozen")

	// Online, past the deadline.
	prop := c.sign("org1-admin", governance.Name, governance.MethodPropose, govcall.Args(govcall.ProposeArgs{
		Change: (&governance.Change{Kind: governance.KindUnfreeze, Address: target.String()}).Encode(), Deadline: c.time + 1500}))
	c.want(c.block(prop)[0], ok, "")
	ip := c.proposal(1).Digest(c.res.ChainID)
	c.block()
	late := c.sign("org1-admin", governance.Name, governance.MethodVote, govcall.Args(govcall.VoteArgs{ID: 1, Endorsements: c.endorse("org1-admin", ip)}))
	c.want(c.block(late)[0], failed, "proposal expired")
	if got := c.proposal(1).Status(c.time); got != "expired" {
		t.Fatalf("status %s, want expired", got)
	}
}

// TestCertificateHashSigner: a registered certificate lets transactions
// name their signer by hash.
func TestCertificateHashSigner(t *testing.T) {
	c := newPermChain(t, 1, crypto.SM2, "cert")
	der, _ := c.ks.Cert("org1-client")
	h := types.Hash(c.n.hash.Sum(der))
	reg := c.sign("org1-client", governance.Name, governance.MethodRegisterCert, govcall.Args(govcall.RegisterCertArgs{Cert: der}))
	c.want(c.block(reg)[0], ok, "")
	k, _ := c.ks.Get("org1-client")
	tx, err := types.SignTxCert(&pb.TxPayload{ChainId: c.res.ChainID, Nonce: c.nonces["org1-client"], ExpiresAt: 1 << 62,
		Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(c.addr("org1-admin"), 1)}, k.Private, nil, h, c.n.hash)
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Raw) >= len(der) {
		t.Fatalf("a hash-signed transaction is %d bytes, no smaller than the certificate", len(tx.Raw))
	}
	if err := c.admit(tx); !errors.Is(err, token.ErrInsufficient) {
		t.Fatalf("hash signer at admission: %v, want only insufficient balance", err)
	}
	c.want(c.block(tx)[0], failed, "insufficient balance")
	// A plain key is the wrong mode on a certificate chain.
	plain, _ := types.SignTx(&pb.TxPayload{ChainId: c.res.ChainID, ExpiresAt: 1 << 62, Contract: token.Name, Method: token.MethodTransfer,
		Args: tokencall.Transfer(c.addr("org1-admin"), 1)}, k.Private, c.n.hash)
	if err := c.admit(plain); !errors.Is(err, identity.ErrWrongMode) {
		t.Fatalf("key signer on a cert chain: %v, want ErrWrongMode", err)
	}
}

// TestKeyMode: admins registered at genesis register members' keys.
func TestKeyMode(t *testing.T) {
	c := newPermChain(t, 2, crypto.P256, "key")
	k, _ := c.ks.New("shop", crypto.Ed25519)
	early := c.sign("shop", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-admin"), 1))
	if err := c.admit(early); !errors.Is(err, identity.ErrUnknownMember) {
		t.Fatalf("unregistered key: %v, want ErrUnknownMember", err)
	}
	c.nonces["shop"] = 0
	args := govcall.Args(govcall.KeyArgs{Org: "org2", Role: "client", Name: "shop", Scheme: "ed25519", PublicKey: hexKey(k)})
	rs := c.block(c.sign("org1-admin", governance.Name, governance.MethodRegisterKey, args), c.sign("org2-admin", governance.Name, governance.MethodRegisterKey, args))
	c.want(rs[0], failed, "not an admin")
	c.want(rs[1], ok, "")
	pay := c.sign("shop", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-admin"), 1))
	if err := c.admit(pay); !errors.Is(err, token.ErrInsufficient) {
		t.Fatalf("registered key: %v, want only insufficient balance", err)
	}
}

func hexKey(k *keystore.Key) string { return hex.EncodeToString(k.Private.Public().Bytes()) }
