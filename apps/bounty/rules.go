package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/accord-chain/accord/sdk/contract"
)

// The rules a refusal names: every refused call wraps one of these.
var (
	// ErrWrongState: the bounty (or the team) is not at a stage the method
	// acts on: closed, not yet revealing, not revealed, already revealed.
	ErrWrongState = errors.New("wrong state")
	// ErrNotAllowed: the caller is not a party that may do this.
	ErrNotAllowed = errors.New("not allowed")
	// ErrPastDeadline: submit_by or judge_by has passed.
	ErrPastDeadline = errors.New("past the deadline")
	// ErrAlreadyJudged: this judge has already judged this team.
	ErrAlreadyJudged = errors.New("already judged by this judge")
	// ErrNoMatch: a reveal does not match the team's commitment.
	ErrNoMatch = errors.New("reveal does not match the commitment")
	// ErrNoBounty: no bounty has that id.
	ErrNoBounty = errors.New("no such bounty")
	// ErrBadArgs: the arguments are malformed.
	ErrBadArgs = errors.New("bad arguments")
)

// The states of a bounty. Only an open bounty holds escrow.
const (
	Open     = "open"
	Awarded  = "awarded"
	Refunded = "refunded"
)

var states = []string{Open, Awarded, Refunded}

// Limits that keep one bounty's record, and a call over it, small.
const (
	maxID      = 64
	maxText    = 256
	maxJudges  = 21
	maxTeams   = 100
	maxMembers = 20
	maxSalt    = 64
)

func checkID(id string) error {
	if id == "" || len(id) > maxID {
		return fmt.Errorf("%w: \"id\" must be 1 to %d characters", ErrBadArgs, maxID)
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: id %q may hold only letters, digits, '.', '_' and '-'", ErrBadArgs, id)
		}
	}
	return nil
}

// decodeHex reads hex (an optional 0x prefix) of min to max bytes.
func decodeHex(what, s string, min, max int) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) < min || len(b) > max {
		if min == max {
			return nil, fmt.Errorf("%w: %q must be %d hex digits", ErrBadArgs, what, 2*min)
		}
		return nil, fmt.Errorf("%w: %q must be %d to %d hex digits", ErrBadArgs, what, 2*min, 2*max)
	}
	return b, nil
}

// normAddress checks an account address (40 hex digits, as the chain
// writes callers) and returns it in lower case.
func normAddress(what, s string) (string, error) {
	b, err := decodeHex(what, s, 20, 20)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Member is one member of a team and their share of the reward, in
// percent.
type Member struct {
	Address string `json:"address"`
	Share   uint64 `json:"share"`
}

// Payout is what one member was paid.
type Payout struct {
	Address string `json:"address"`
	Amount  uint64 `json:"amount"`
}

// Split divides reward among members by their shares (which sum to 100):
// each gets reward×share/100 rounded down, and the first member also gets
// what rounding left, so the payouts always sum to reward.
func Split(reward uint64, members []Member) []Payout {
	out := make([]Payout, len(members))
	var paid uint64
	for i, m := range members {
		hi, lo := bits.Mul64(reward, m.Share) // reward×share < 100×2^64: hi < 100
		q, _ := bits.Div64(hi, lo, 100)
		out[i] = Payout{Address: m.Address, Amount: q}
		paid += q
	}
	if len(out) > 0 {
		out[0].Amount += reward - paid
	}
	return out
}

// checkTeam validates a team and returns it with addresses normalised.
func checkTeam(team []Member) ([]Member, error) {
	if len(team) == 0 || len(team) > maxMembers {
		return nil, fmt.Errorf("%w: a team has 1 to %d members", ErrBadArgs, maxMembers)
	}
	out := make([]Member, len(team))
	var sum uint64
	for i, m := range team {
		a, err := normAddress(fmt.Sprintf("team[%d].address", i), m.Address)
		if err != nil {
			return nil, err
		}
		for _, o := range out[:i] {
			if o.Address == a {
				return nil, fmt.Errorf("%w: %s is in the team twice", ErrBadArgs, a)
			}
		}
		if m.Share == 0 || m.Share > 100 {
			return nil, fmt.Errorf("%w: team[%d].share %d (want 1 to 100)", ErrBadArgs, i, m.Share)
		}
		sum += m.Share
		out[i] = Member{Address: a, Share: m.Share}
	}
	if sum != 100 {
		return nil, fmt.Errorf("%w: the shares sum to %d; they must sum to 100", ErrBadArgs, sum)
	}
	return out, nil
}

// Commitment is what submit records: SHA-256 of the solution hash's bytes
// followed by the salt's bytes.
func Commitment(solutionHash, salt []byte) [32]byte {
	return contract.SHA256(append(append([]byte{}, solutionHash...), salt...))
}
