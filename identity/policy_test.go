package identity

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/accord-chain/accord/crypto"
)

func TestPolicyCheck(t *testing.T) {
	all := []string{"org1", "org2", "org3", "org4"}
	set := Policy{Rule: Set, Orgs: []string{"org1", "org2", "org3"}, Threshold: 2}
	setAll := Policy{Rule: Set, Orgs: []string{"org2", "org4"}}
	cases := []struct {
		p        Policy
		endorsed []string
		ok       bool
		msg      string
	}{
		{Policy{Rule: Any}, nil, false, "0 of 4 organisations endorsed, ANY(admin) needs 1"},
		{Policy{Rule: Any}, []string{"org3"}, true, ""},
		{Policy{Rule: Majority}, []string{"org1", "org2"}, false, "2 of 4 organisations endorsed, MAJORITY(admin) needs 3 (not yet endorsed: org3, org4)"},
		{Policy{Rule: Majority}, []string{"org1", "org1", "org2"}, false, "2 of 4"},
		{Policy{Rule: Majority}, []string{"org1", "org2", "org4"}, true, ""},
		{Policy{Rule: All}, []string{"org1", "org2", "org3"}, false, "ALL(admin) needs 4 (not yet endorsed: org4)"},
		{Policy{Rule: All}, all, true, ""},
		{set, []string{"org1", "org4"}, false, "1 of 3 named organisations endorsed, SET(2 of org1,org2,org3; admin) needs 2"},
		{set, []string{"org3", "org2"}, true, ""},
		{setAll, []string{"org2"}, false, "SET(all of org2,org4; admin) needs 2"},
		{setAll, []string{"org4", "org2"}, true, ""},
	}
	for _, c := range cases {
		err := c.p.Check(c.endorsed, all)
		if c.ok != (err == nil) || (err != nil && (!errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), c.msg))) {
			t.Errorf("%s with %v: %v, want ok=%v containing %q", c.p, c.endorsed, err, c.ok, c.msg)
		}
	}
	// MAJORITY of 3 needs 2, of 5 needs 3.
	for n, need := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3} {
		orgs := all[:min(n, 4)]
		if n == 5 {
			orgs = append(all[:4:4], "org5")
		}
		if err := (Policy{Rule: Majority}).Check(orgs[:need], orgs); err != nil {
			t.Errorf("MAJORITY of %d with %d: %v", n, need, err)
		}
		if err := (Policy{Rule: Majority}).Check(orgs[:need-1], orgs); err == nil {
			t.Errorf("MAJORITY of %d with %d passed", n, need-1)
		}
	}
	bad := []Policy{
		{},
		{Rule: 9},
		{Rule: Any, Orgs: []string{"org1"}},
		{Rule: Set},
		{Rule: Set, Orgs: []string{"org9"}},
		{Rule: Set, Orgs: []string{"org1", "org1"}},
		{Rule: Set, Orgs: []string{"org1"}, Threshold: 2},
		{Rule: Any, Roles: []Role{Admin, Admin}},
		{Rule: Any, Roles: []Role{0}},
	}
	for _, p := range bad {
		if err := p.Validate(all); !errors.Is(err, ErrBadPolicy) {
			t.Errorf("Validate(%+v) = %v, want ErrBadPolicy", p, err)
		}
	}
}

func TestEndorsements(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			w := newWorld(t, s, 4)
			admins := map[string]member{}
			for _, id := range w.ids {
				admins[id] = w.issue(id, "admin-"+id, Admin)
			}
			second := w.issue("org1", "admin2-org1", Admin)
			client := w.issue("org2", "client-org2", Client)
			revoked := w.issue("org3", "old-admin-org3", Admin)
			edAdmin := w.issueAt("org4", "ed-admin-org4", Admin, crypto.Ed25519, t0, t0.Add(24*time.Hour))
			cfg := w.config(CertMode)
			cfg.Revoked = []Revocation{{Org: "org3", Serial: revoked.serial}}
			r, err := NewRegistry(cfg, crypto.SM3, NewCache(64))
			if err != nil {
				t.Fatal(err)
			}
			at := ms(t0.Add(time.Hour))
			prop := &Proposal{ChainID: "city", ID: 7, Deadline: ms(t0.Add(2 * time.Hour)), Payload: []byte("freeze 0xabc")}
			end := func(m member, p *Proposal) Endorsement {
				e, err := Endorse(m.key, m.ref(), p, crypto.SM3)
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
			other := *prop
			other.Payload = []byte("freeze 0xdef")
			otherChain := *prop
			otherChain.ChainID = "town"
			otherID := *prop
			otherID.ID = 8
			forged := end(admins["org3"], prop)
			forged.Signature[5] ^= 1
			// org1 with a rogue CA: unknown signer.
			rogue, _ := NewCA("org1", s, t0, 24*time.Hour, w.rnd)
			rk := w.key(s)
			rder, _ := rogue.Issue("ghost", Admin, rk.Public(), t0, t0.Add(time.Hour*2), w.bigSerial(), nil)
			ghost := member{key: rk, der: rder}

			maj := Policy{Rule: Majority}
			cases := []struct {
				name string
				p    Policy
				es   []Endorsement
				at   uint64
				want error
			}{
				{"3 of 4", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop), end(admins["org3"], prop)}, at, nil},
				{"ed25519 admin counts", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop), end(edAdmin, prop)}, at, nil},
				{"2 of 4", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop)}, at, ErrPolicy},
				{"one org twice counts once", maj, []Endorsement{end(admins["org1"], prop), end(second, prop), end(admins["org2"], prop)}, at, ErrPolicy},
				{"same endorsement twice counts once", maj, []Endorsement{end(admins["org1"], prop), end(admins["org1"], prop), end(admins["org2"], prop)}, at, ErrPolicy},
				{"replayed from another payload", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop), end(admins["org3"], &other)}, at, ErrBadEndorsement},
				{"replayed from another chain", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop), end(admins["org3"], &otherChain)}, at, ErrBadEndorsement},
				{"replayed from another proposal", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop), end(admins["org3"], &otherID)}, at, ErrBadEndorsement},
				{"forged", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop), forged}, at, ErrBadEndorsement},
				{"wrong role", maj, []Endorsement{end(admins["org1"], prop), end(client, prop), end(admins["org3"], prop)}, at, ErrWrongRole},
				{"client counts when the policy says so", Policy{Rule: Majority, Roles: []Role{Admin, Client}}, []Endorsement{end(admins["org1"], prop), end(client, prop), end(admins["org3"], prop)}, at, nil},
				{"revoked signer", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop), end(revoked, prop)}, at, ErrRevoked},
				{"unknown CA", maj, []Endorsement{end(ghost, prop), end(admins["org2"], prop), end(admins["org3"], prop)}, at, ErrUnknownCA},
				{"proposal expired", maj, []Endorsement{end(admins["org1"], prop), end(admins["org2"], prop), end(admins["org3"], prop)}, prop.Deadline + 1, ErrProposalExpired},
			}
			for _, c := range cases {
				err := r.Endorsed(c.p, prop, c.es, c.at)
				if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
					t.Errorf("%s: Endorsed = %v, want %v", c.name, err, c.want)
				}
				// Endorsements survive their wire encoding.
				back, derr := DecodeEndorsements(EncodeEndorsements(c.es))
				if derr != nil || len(back) != len(c.es) {
					t.Fatalf("%s: DecodeEndorsements: %v", c.name, derr)
				}
				if err2 := r.Endorsed(c.p, prop, back, c.at); (err2 == nil) != (err == nil) {
					t.Errorf("%s: after the wire: %v, before: %v", c.name, err2, err)
				}
			}
			noDeadline := *prop
			noDeadline.Deadline = 0
			late := ms(t0.Add(25 * time.Hour))
			if err := r.Endorsed(maj, &noDeadline, []Endorsement{end(admins["org1"], &noDeadline), end(admins["org2"], &noDeadline), end(admins["org3"], &noDeadline)}, late); !errors.Is(err, ErrExpired) {
				t.Errorf("endorsers whose certificates expired: %v, want ErrExpired", err)
			}
			// Registered certificates endorse by hash.
			if _, err := r.RegisterCert(admins["org4"].der, at); err != nil {
				t.Fatal(err)
			}
			byHash := end(admins["org4"], prop)
			byHash.Signer = Ref{CertHash: admins["org4"].hash(crypto.SM3)}
			if m, err := r.Endorser(byHash, prop, at); err != nil || m.Org != "org4" {
				t.Errorf("endorsement by certificate hash: %+v, %v", m, err)
			}
		})
	}
}

func (w *world) bigSerial() *big.Int {
	w.serial++
	return big.NewInt(w.serial + 5000)
}

func (m member) hash(h crypto.Hash) [32]byte { return h.Sum(m.der) }

func TestChangeConfig(t *testing.T) {
	for _, s := range caSchemes {
		t.Run(s.String(), func(t *testing.T) {
			w := newWorld(t, s, 4)
			r := w.registry(CertMode, nil)
			var admins []member
			for _, id := range w.ids {
				admins = append(admins, w.issue(id, "admin", Admin))
			}
			next := w.config(CertMode)
			victim := w.issue("org2", "shop", Client)
			vm, err := r.Resolve(victim.ref(), ms(t0))
			if err != nil {
				t.Fatal(err)
			}
			next.Frozen = append(next.Frozen, vm.Address)
			payload, err := next.Encode()
			if err != nil {
				t.Fatal(err)
			}
			prop := &Proposal{ChainID: "city", ID: 1, Payload: payload}
			var es []Endorsement
			for _, a := range admins[:3] {
				e, err := Endorse(a.key, a.ref(), prop, crypto.SM3)
				if err != nil {
					t.Fatal(err)
				}
				es = append(es, e)
			}
			if _, err := r.ChangeConfig(prop, es[:2], ms(t0)); !errors.Is(err, ErrPolicy) {
				t.Fatalf("2 of 4: %v, want ErrPolicy", err)
			}
			if r.Frozen(vm.Address) {
				t.Fatal("a refused change was applied")
			}
			cfg, err := r.ChangeConfig(prop, es, ms(t0))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.SetConfig(cfg); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Sender(victim.ref(), ms(t0)); !errors.Is(err, ErrFrozen) {
				t.Fatalf("after the change: %v, want ErrFrozen", err)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	for _, s := range []string{"ANY(admin)", "MAJORITY(admin)", "ALL(admin,client)", "SET(2 of org1,org2,org3; admin)", "SET(all of org1,org2; admin,client)"} {
		p, err := ParsePolicy(s)
		if err != nil {
			t.Fatalf("ParsePolicy(%q): %v", s, err)
		}
		if got := p.String(); got != s {
			t.Errorf("ParsePolicy(%q).String() = %q", s, got)
		}
	}
	if p, err := ParsePolicy("majority"); err != nil || p.Rule != Majority || len(p.Roles) != 0 {
		t.Errorf("bare rule: %+v, %v", p, err)
	}
	for _, s := range []string{"", "SOME(admin)", "ANY(admin", "SET(org1)", "SET(0 of org1)", "ANY(boss)"} {
		if _, err := ParsePolicy(s); !errors.Is(err, ErrBadPolicy) {
			t.Errorf("ParsePolicy(%q) = %v, want ErrBadPolicy", s, err)
		}
	}
}
