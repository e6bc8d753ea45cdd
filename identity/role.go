package identity

import (
	"fmt"
	"strconv"
	"strings"
)

// Role is what a member may do. Its numeric value is part of the
// configuration encoding and is never reused; its name is the Subject OU of
// the member's certificate.
type Role uint8

const (
	// Admin manages its organisation: issues and revokes certificates,
	// registers keys and endorses configuration changes.
	Admin Role = 1
	// Client sends transactions.
	Client Role = 2
	// Consensus runs a validator.
	Consensus Role = 3
	// Light reads the chain and verifies proofs; it sends nothing.
	Light Role = 4
)

var roleNames = [...]string{Admin: "admin", Client: "client", Consensus: "consensus", Light: "light"}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r >= Admin && r <= Light }

// String returns the lower-case name used in certificates and files.
func (r Role) String() string {
	if r.Valid() {
		return roleNames[r]
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// ParseRole returns the role named s, ignoring case.
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if n != "" && strings.EqualFold(s, n) {
			return Role(r), nil
		}
	}
	return 0, fmt.Errorf("%w: %q (want admin, client, consensus or light)", ErrBadRole, s)
}
