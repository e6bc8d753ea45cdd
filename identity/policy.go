package identity

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	idpb "github.com/accord-chain/accord/identity/pb"
)

// Rule says how many organisations a policy needs.
type Rule uint8

const (
	// Any needs one organisation.
	Any Rule = 1
	// Majority needs more than half of all organisations.
	Majority Rule = 2
	// All needs every organisation.
	All Rule = 3
	// Set needs Threshold of the named organisations, or all of them.
	Set Rule = 4
)

var ruleNames = [...]string{Any: "ANY", Majority: "MAJORITY", All: "ALL", Set: "SET"}

func (r Rule) String() string {
	if r >= Any && r <= Set {
		return ruleNames[r]
	}
	return "rule(" + strconv.Itoa(int(r)) + ")"
}

// ParseRule returns the rule named s (ANY, MAJORITY, ALL or SET), ignoring
// case.
func ParseRule(s string) (Rule, error) {
	for r, n := range ruleNames {
		if n != "" && strings.EqualFold(s, n) {
			return Rule(r), nil
		}
	}
	return 0, fmt.Errorf("%w: rule %q (want ANY, MAJORITY, ALL or SET)", ErrBadPolicy, s)
}

// Policy says whose endorsements (or, for a method, whose calls) are
// enough. Organisations count once however many of their members endorse.
type Policy struct {
	Rule Rule
	// Orgs names the organisations of a Set policy; empty for other rules.
	Orgs []string
	// Threshold is how many of Orgs a Set policy needs; 0 means all of
	// them. Zero for other rules.
	Threshold int
	// Roles are the roles whose endorsements count. Empty means Admin.
	Roles []Role
}

// String writes the policy as in configuration files, e.g.
// "MAJORITY(admin)" or "SET(2 of org1,org2,org3; admin,client)".
func (p Policy) String() string {
	var roles []string
	for _, r := range p.roles() {
		roles = append(roles, r.String())
	}
	rs := strings.Join(roles, ",")
	if p.Rule != Set {
		return p.Rule.String() + "(" + rs + ")"
	}
	k := "all"
	if p.Threshold > 0 {
		k = strconv.Itoa(p.Threshold)
	}
	return "SET(" + k + " of " + strings.Join(p.Orgs, ",") + "; " + rs + ")"
}

func (p Policy) roles() []Role {
	if len(p.Roles) == 0 {
		return []Role{Admin}
	}
	return p.Roles
}

// Counts reports whether endorsements by members of role count.
func (p Policy) Counts(role Role) bool { return slices.Contains(p.roles(), role) }

// Validate checks p against the configuration's organisation ids.
func (p Policy) Validate(orgs []string) error {
	if err := p.validate(orgs); err != nil {
		return fmt.Errorf("%w: %w", ErrBadPolicy, err)
	}
	return nil
}

func (p Policy) validate(orgs []string) error {
	if p.Rule < Any || p.Rule > Set {
		return fmt.Errorf("%w: rule %s (a zero policy needs EnsureDefaults)", ErrBadPolicy, p.Rule)
	}
	seen := map[Role]bool{}
	for _, r := range p.Roles {
		if !r.Valid() || seen[r] {
			return fmt.Errorf("%w: role %s is not a role or is listed twice", ErrBadPolicy, r)
		}
		seen[r] = true
	}
	if p.Rule != Set {
		if len(p.Orgs) != 0 || p.Threshold != 0 {
			return fmt.Errorf("%w: only SET names organisations and a threshold", ErrBadPolicy)
		}
		return nil
	}
	if len(p.Orgs) == 0 {
		return fmt.Errorf("%w: SET names no organisation", ErrBadPolicy)
	}
	named := map[string]bool{}
	for _, o := range p.Orgs {
		if _, ok := slices.BinarySearch(orgs, o); !ok {
			return fmt.Errorf("%w: SET names %w %q", ErrBadPolicy, ErrUnknownOrg, o)
		}
		if named[o] {
			return fmt.Errorf("%w: SET names %s twice", ErrBadPolicy, o)
		}
		named[o] = true
	}
	if p.Threshold < 0 || p.Threshold > len(p.Orgs) {
		return fmt.Errorf("%w: SET threshold %d is not between 0 (all) and %d", ErrBadPolicy, p.Threshold, len(p.Orgs))
	}
	return nil
}

func (p Policy) canonical() Policy {
	q := Policy{Rule: p.Rule, Threshold: p.Threshold, Orgs: slices.Clone(p.Orgs), Roles: slices.Clone(p.Roles)}
	slices.Sort(q.Orgs)
	slices.Sort(q.Roles)
	return q
}

func (p Policy) proto() *idpb.Policy {
	m := &idpb.Policy{Rule: idpb.Rule(p.Rule), Orgs: p.Orgs, Threshold: uint32(p.Threshold)}
	for _, r := range p.Roles {
		m.Roles = append(m.Roles, idpb.Role(r))
	}
	return m
}

// policyOf converts a decoded policy; numbers out of range become invalid
// values that validate refuses.
func policyOf(m *idpb.Policy) Policy {
	p := Policy{Orgs: m.GetOrgs(), Threshold: int(m.GetThreshold())}
	if r := m.GetRule(); r > 0 && r <= 255 {
		p.Rule = Rule(r)
	}
	for _, r := range m.GetRoles() {
		p.Roles = append(p.Roles, roleOf(r))
	}
	return p
}

// Check reports whether the organisations in endorsed (each counted once)
// satisfy p among all, the configuration's organisation ids. The caller
// has already dropped endorsements of roles p does not count. The error
// wraps ErrPolicy and says how many more are needed, and from whom.
func (p Policy) Check(endorsed, all []string) error {
	have := map[string]bool{}
	for _, o := range endorsed {
		have[o] = true
	}
	pool := all
	if p.Rule == Set {
		pool = p.Orgs
	}
	need := 0
	switch p.Rule {
	case Any:
		need = 1
	case Majority:
		need = len(all)/2 + 1
	case All:
		need = len(all)
	case Set:
		need = p.Threshold
		if need == 0 {
			need = len(p.Orgs)
		}
	default:
		return fmt.Errorf("%w: rule %s", ErrBadPolicy, p.Rule)
	}
	got := 0
	var missing []string
	for _, o := range pool {
		if have[o] {
			got++
		} else {
			missing = append(missing, o)
		}
	}
	if got >= need {
		return nil
	}
	slices.Sort(missing)
	of := "organisations"
	if p.Rule == Set {
		of = "named organisations"
	}
	return fmt.Errorf("%w: %d of %d %s endorsed, %s needs %d (not yet endorsed: %s)",
		ErrPolicy, got, len(pool), of, p, need, strings.Join(missing, ", "))
}

// ParsePolicy reads a policy as String writes it: "ANY", "MAJORITY(admin)",
// "ALL(admin,client)", "SET(2 of org1,org2,org3; admin)" or "SET(all of
// org1,org2)". Roles default to admin. It checks the shape only; Validate
// checks the organisations against a configuration.
func ParsePolicy(s string) (Policy, error) {
	s = strings.TrimSpace(s)
	name, inner := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return Policy{}, fmt.Errorf("%w: %q: missing ')'", ErrBadPolicy, s)
		}
		name, inner = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	rule, err := ParseRule(name)
	if err != nil {
		return Policy{}, err
	}
	p := Policy{Rule: rule}
	roles := inner
	if rule == Set {
		sets, rs, _ := strings.Cut(inner, ";")
		roles = rs
		k, orgs, ok := strings.Cut(strings.TrimSpace(sets), " of ")
		if !ok {
			return Policy{}, fmt.Errorf("%w: %q: SET needs \"K of org1,org2\" or \"all of org1,org2\"", ErrBadPolicy, s)
		}
		if k = strings.TrimSpace(k); !strings.EqualFold(k, "all") {
			n, err := strconv.Atoi(k)
			if err != nil || n < 1 {
				return Policy{}, fmt.Errorf("%w: %q: threshold %q is not a positive number or all", ErrBadPolicy, s, k)
			}
			p.Threshold = n
		}
		for _, o := range strings.Split(orgs, ",") {
			p.Orgs = append(p.Orgs, strings.TrimSpace(o))
		}
	}
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		role, err := ParseRole(r)
		if err != nil {
			return Policy{}, fmt.Errorf("%w: %q: %w", ErrBadPolicy, s, err)
		}
		p.Roles = append(p.Roles, role)
	}
	if slices.Equal(p.Roles, []Role{Admin}) {
		p.Roles = nil
	}
	return p.canonical(), nil
}
