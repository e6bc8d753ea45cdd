package node

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/accord-chain/accord/api"
	"github.com/accord-chain/accord/clock"
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/contracts/governance/govcall"
	"github.com/accord-chain/accord/contracts/token"
	"github.com/accord-chain/accord/contracts/token/tokencall"
	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/genesis"
	"github.com/accord-chain/accord/identity"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// orgCA loads the CA that init made for organisation i.
func (c *permChain) orgCA(i int) (*identity.CA, string) {
	c.t.Helper()
	dir := OrgDir(filepath.Dir(c.res.Nodes[0].Home), i)
	cp, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		c.t.Fatal(err)
	}
	kp, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		c.t.Fatal(err)
	}
	ca, err := identity.LoadCA(cp, kp)
	if err != nil {
		c.t.Fatal(err)
	}
	return ca, dir
}

// issueBy makes key name and a certificate for it from ca, valid from nb
// to na, under the next serial of the organisation folder dir.
func (c *permChain) issueBy(ca *identity.CA, dir, name string, role identity.Role, nb, na time.Time) {
	c.t.Helper()
	k, err := c.ks.New(name, ca.Cert.Scheme)
	if err != nil {
		c.t.Fatal(err)
	}
	serial, err := NextSerial(dir)
	if err != nil {
		c.t.Fatal(err)
	}
	der, err := ca.Issue(name, role, k.Private.Public(), nb.Truncate(time.Second), na.Truncate(time.Second), serial, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ks.PutCert(name, der); err != nil {
		c.t.Fatal(err)
	}
}

// issue makes a member of organisation org (1-based) with the CA init made.
func (c *permChain) issue(org int, name string, role identity.Role, nb, na time.Time) {
	c.t.Helper()
	ca, dir := c.orgCA(org)
	c.issueBy(ca, dir, name, role, nb, na)
}

// refuse checks that admission refuses tx with the API reason want.
func (c *permChain) refuse(tx *types.Tx, want string) {
	c.t.Helper()
	err := c.admit(tx)
	if err == nil {
		c.t.Fatalf("%s.%s admitted, want it refused with %s", tx.Body.Contract, tx.Body.Method, want)
	}
	if _, reason := api.Classify(err); reason != want {
		c.t.Fatalf("%s.%s refused with reason %s (%v), want %s", tx.Body.Contract, tx.Body.Method, reason, err, want)
	}
}

// nonce is the committed nonce of key name's account.
func (c *permChain) nonce(name string) uint64 {
	c.t.Helper()
	n, err := execution.Nonce(c.n.store.State(), c.addr(name))
	if err != nil {
		c.t.Fatal(err)
	}
	return n
}

// invalid checks that tx, fed in a block, is INVALID with a message
// containing msg and moved nothing, not even its sender's nonce; the test's
// nonce for the sender goes back.
func (c *permChain) invalid(name string, tx *types.Tx, msg string) {
	c.t.Helper()
	before, balance := c.nonce(name), c.balance(name)
	c.want(c.block(tx)[0], invalid, msg)
	if c.nonce(name) != before || c.balance(name) != balance {
		c.t.Fatalf("an INVALID transaction of %s moved its nonce or balance", name)
	}
	c.nonces[name]--
}

// TestCertificateValidityPeriod: a certificate outside its validity, expired
// or not yet valid, is refused at admission (cert_expired) and makes its
// transaction INVALID at execution.
func TestCertificateValidityPeriod(t *testing.T) {
	c := newPermChain(t, 1, crypto.P256, "cert")
	now := time.Now()
	c.issue(1, "old", identity.Client, now.Add(-2*time.Hour), now.Add(-time.Hour))
	c.issue(1, "early", identity.Client, now.Add(time.Hour), now.Add(2*time.Hour))
	for _, name := range []string{"old", "early"} {
		tx := c.sign(name, token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-admin"), 1))
		c.refuse(tx, "cert_expired")
		msg := "expired at"
		if name == "early" {
			msg = "is valid from"
		}
		c.invalid(name, tx, msg)
	}
}

// TestAdmissionJudgesCertificatesOnTheNodesClock: admission judges a
// certificate's validity at the time of the clock the node was given: the
// same certificate admits before the clock passes its expiry and is
// refused (cert_expired) after, with no real time passing.
func TestAdmissionJudgesCertificatesOnTheNodesClock(t *testing.T) {
	now := time.Now()
	fake := clock.NewFake(now)
	c := newPermChainClock(t, 1, crypto.P256, "cert", nil, fake)
	c.issue(1, "brief", identity.Admin, now.Add(-time.Hour), now.Add(time.Hour))
	mint := func() *types.Tx {
		return c.sign("brief", token.Name, token.MethodMint, tokencall.Mint(c.addr("brief"), 1))
	}
	if err := c.admit(mint()); err != nil {
		t.Fatalf("within its validity on the node's clock: %v", err)
	}
	fake.Advance(2 * time.Hour)
	c.refuse(mint(), "cert_expired")
}

// TestUnknownCA: a certificate that claims an organisation of the chain
// but was signed by a CA the configuration does not list is refused
// (unknown_ca) and INVALID; so is one of a CA that governance removed.
func TestUnknownCA(t *testing.T) {
	c := newPermChain(t, 3, crypto.SM2, "cert")
	now := time.Now()
	rogue, err := identity.NewCA("org1", crypto.SM2, now.Add(-time.Hour), CAValidity, nil)
	if err != nil {
		t.Fatal(err)
	}
	rogueDir := t.TempDir()
	c.issueBy(rogue, rogueDir, "rogue", identity.Admin, now.Add(-time.Hour), now.Add(time.Hour))
	tx := c.sign("rogue", token.Name, token.MethodMint, tokencall.Mint(c.addr("rogue"), 1000))
	c.refuse(tx, "unknown_ca")
	c.invalid("rogue", tx, "no CA of org1 signed it")

	// org1 rotates to a new CA: members of the old one are no longer trusted.
	next, err := identity.NewCA("org1", crypto.SM2, now.Add(-time.Hour), CAValidity, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := c.orgCA(1)
	for _, ch := range []governance.Change{
		{Kind: governance.KindAddCA, Org: "org1", CAPEM: string(next.Cert.PEM())},
		{Kind: governance.KindRemoveCA, Org: "org1", CAPEM: string(old.Cert.PEM())},
	} {
		c.offline(ch, "org1-admin", "org2-admin")
	}
	pay := c.sign("org1-client", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-admin"), 1))
	c.refuse(pay, "unknown_ca")
	c.invalid("org1-client", pay, "no CA of org1 signed it")
}

// offline applies ch through "submit" with the endorsements of the named
// admins, as the next block.
func (c *permChain) offline(ch governance.Change, admins ...string) {
	c.t.Helper()
	b := ch.Encode()
	c.offlineID++
	p := &identity.Proposal{ChainID: c.res.ChainID, ID: governance.OfflineIDBase + c.offlineID, Payload: b}
	var es []identity.Endorsement
	for _, a := range admins {
		e, err := identity.DecodeEndorsements(c.endorse(a, p))
		if err != nil {
			c.t.Fatal(err)
		}
		es = append(es, e...)
	}
	tx := c.sign(admins[0], governance.Name, governance.MethodSubmit, govcall.Args(govcall.SubmitArgs{
		Change: b, ID: p.ID, Endorsements: identity.EncodeEndorsements(es)}))
	c.want(c.block(tx)[0], ok, "")
}

// TestWrongRole: a light member may not send at all (INVALID); a
// consensus member may not call what has no policy, and a client may not
// call a method whose policy counts admins only, nor an admin's gov
// method (FAILED: the nonce moves, nothing else).
func TestWrongRole(t *testing.T) {
	c := newPermChain(t, 2, crypto.P256, "cert")
	now := time.Now()
	c.issue(1, "reader", identity.Light, now.Add(-time.Hour), now.Add(time.Hour))
	c.issue(1, "validator", identity.Consensus, now.Add(-time.Hour), now.Add(time.Hour))

	light := c.sign("reader", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-admin"), 1))
	c.refuse(light, "wrong_role")
	c.invalid("reader", light, "light member")

	fail := func(name string, tx *types.Tx, reason, msg string) {
		t.Helper()
		c.refuse(tx, reason)
		before := c.nonce(name)
		c.want(c.block(tx)[0], failed, msg)
		if c.nonce(name) != before+1 {
			t.Fatalf("a FAILED transaction of %s did not move its nonce", name)
		}
	}
	fail("validator", c.sign("validator", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-admin"), 1)),
		"wrong_role", "only admins and clients may")
	fail("org1-client", c.sign("org1-client", token.Name, token.MethodMint, tokencall.Mint(c.addr("org1-client"), 1000)),
		"wrong_role", "whose policy is SET(1 of org1; admin)")
	serial := certSerial(t, c.ks, "org1-admin")
	fail("org1-client", c.sign("org1-client", governance.Name, governance.MethodRevoke, govcall.Args(govcall.RevokeArgs{Org: "org1", Serial: serial})),
		"not_admin", "not an admin")
	if b := c.balance("org1-client"); b != 0 {
		t.Fatalf("a client minted %d", b)
	}
	// The admin's certificate was not revoked: it still mints.
	c.want(c.block(c.sign("org1-admin", token.Name, token.MethodMint, tokencall.Mint(c.addr("org1-admin"), 1)))[0], ok, "")
}

// TestRemoveKey: in key mode an admin removes a member's key, after which
// the member is refused (not_registered) and INVALID; another
// organisation's admin or a client may not remove it.
func TestRemoveKey(t *testing.T) {
	c := newPermChain(t, 2, crypto.SM2, "key")
	k, err := c.ks.Get("org1-client")
	if err != nil {
		t.Fatal(err)
	}
	args := govcall.Args(govcall.KeyArgs{Scheme: k.Scheme.String(), PublicKey: hexKey(k)})
	other := c.sign("org2-admin", governance.Name, governance.MethodRemoveKey, args)
	c.refuse(other, "not_admin")
	self := c.sign("org1-client", governance.Name, governance.MethodRemoveKey, args)
	c.refuse(self, "not_admin")
	rs := c.block(other, self)
	c.want(rs[0], failed, "not an admin")
	c.want(rs[1], failed, "not an admin")

	pay := c.sign("org1-client", token.Name, token.MethodTransfer, tokencall.Transfer(c.addr("org1-admin"), 1))
	c.refuse(pay, "insufficient_balance") // a member still: only its balance is short
	c.want(c.block(c.sign("org1-admin", governance.Name, governance.MethodRemoveKey, args))[0], ok, "")
	c.refuse(pay, "not_registered")
	c.invalid("org1-client", pay, "is not registered")
	again := c.sign("org1-admin", governance.Name, governance.MethodRemoveKey, args)
	c.refuse(again, "not_registered")
	c.want(c.block(again)[0], failed, "is not registered")
}

// TestRegisterCertByAdmin: an admin registers another member of its
// organisation's certificate, which then signs by hash; a client may not
// register someone else's, nor another organisation's admin.
func TestRegisterCertByAdmin(t *testing.T) {
	c := newPermChain(t, 2, crypto.SM2, "cert")
	der, err := c.ks.Cert("org1-client")
	if err != nil || der == nil {
		t.Fatal(err)
	}
	args := govcall.Args(govcall.RegisterCertArgs{Cert: der})
	byOther := c.sign("org2-admin", governance.Name, governance.MethodRegisterCert, args)
	c.refuse(byOther, "not_admin")
	byClient := c.sign("org2-client", governance.Name, governance.MethodRegisterCert, args)
	c.refuse(byClient, "not_admin")
	rs := c.block(byOther, byClient)
	c.want(rs[0], failed, "may register only its own certificate")
	c.want(rs[1], failed, "may register only its own certificate")
	h := types.Hash(c.n.hash.Sum(der))
	if got, _ := governance.RegisteredCert(c.n.store.State(), h); got != nil {
		t.Fatal("a refused registration registered the certificate")
	}

	byAdmin := c.sign("org1-admin", governance.Name, governance.MethodRegisterCert, args)
	if err := c.admit(byAdmin); err != nil {
		t.Fatalf("org1's admin registering its client's certificate: %v", err)
	}
	mint := c.sign("org1-admin", token.Name, token.MethodMint, tokencall.Mint(c.addr("org1-client"), 10))
	rs = c.block(byAdmin, mint)
	c.want(rs[0], ok, "")
	c.want(rs[1], ok, "")
	c.want(c.block(c.sign("org1-admin", governance.Name, governance.MethodRegisterCert, args))[0], failed, "already registered")

	k, _ := c.ks.Get("org1-client")
	pay, err := types.SignTxCert(&pb.TxPayload{ChainId: c.res.ChainID, Nonce: c.nonces["org1-client"], ExpiresAt: 1 << 62,
		Contract: token.Name, Method: token.MethodTransfer, Args: tokencall.Transfer(c.addr("org2-client"), 4)}, k.Private, nil, h, c.n.hash)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.admit(pay); err != nil {
		t.Fatalf("a transfer signed by the registered certificate's hash: %v", err)
	}
	c.want(c.block(pay)[0], ok, "")
	if a, b := c.balance("org1-client"), c.balance("org2-client"); a != 6 || b != 4 {
		t.Fatalf("balances %d and %d after a hash-signed transfer of 4 from 10, want 6 and 4", a, b)
	}
}

// TestGovernanceBlockLimits: set_params lowers the block size to 2
// transactions, and the engine cuts the blocks after it by that limit.
func TestGovernanceBlockLimits(t *testing.T) {
	c := newPermChain(t, 2, crypto.P256, "cert")
	c.offline(governance.Change{Kind: governance.KindSetParams, Params: &governance.Params{MaxBlockTxs: 2}}, "org1-admin", "org2-admin")
	if p, err := governance.ReadParams(c.n.store.State()); err != nil || p.MaxBlockTxs != 2 {
		t.Fatalf("params after set_params: %+v %v", p, err)
	}
	start := c.n.store.Tip().Height
	var ids []types.Hash
	for range 5 {
		tx := c.sign("org1-admin", token.Name, token.MethodMint, tokencall.Mint(c.addr("org1-client"), 1))
		if err := c.admit(tx); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tx.ID)
	}
	// Five ready transactions: without the limit they would fit one block.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.n.engine.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, _, err := c.n.store.TxLocation(ids[len(ids)-1]); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the five transactions did not commit within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var sizes []int
	for h := start + 1; h <= c.n.store.Tip().Height; h++ {
		rs, err := c.n.store.Receipts(h)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(rs))
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) {
		t.Fatalf("blocks after max_block_txs 2 hold %v transactions, want [2 2 1]", sizes)
	}
}

// TestPermissionedChainWithoutIssuer: a permissioned genesis may leave
// token.issuer out; the mint policy alone decides who mints.
func TestPermissionedChainWithoutIssuer(t *testing.T) {
	c := newPermChainWith(t, 2, crypto.SM2, "cert", func(g *genesis.Doc) { g.Token.Issuer = "" })
	if _, has, err := token.Issuer(c.n.store.State()); has || err != nil {
		t.Fatalf("a genesis without token.issuer gave the token an issuer (%v, %v)", has, err)
	}
	mint := c.sign("org1-admin", token.Name, token.MethodMint, tokencall.Mint(c.addr("org2-client"), 7))
	if err := c.admit(mint); err != nil {
		t.Fatalf("a mint the policy allows: %v", err)
	}
	bad := c.sign("org2-admin", token.Name, token.MethodMint, tokencall.Mint(c.addr("org2-client"), 7))
	c.refuse(bad, "policy")
	rs := c.block(mint, bad)
	c.want(rs[0], ok, "")
	c.want(rs[1], failed, "policy not satisfied")
	if b := c.balance("org2-client"); b != 7 {
		t.Fatalf("balance %d after one mint of 7", b)
	}
}
