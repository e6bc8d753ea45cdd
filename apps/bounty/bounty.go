// Command bounty is 揭榜挂帅 as an Accord contract: a company posts a
// challenge with a reward held in the contract's escrow, university teams
// enrol and submit sealed solutions, named judges accept one, and the
// reward is paid to its team by shares (or refunded when none is
// accepted in time). docs/apps.md walks through it.
//
// Methods (JSON arguments; times are unix milliseconds of block time):
//
//	post    {"id", "title", "spec_hash", "reward", "submit_by", "judge_by", "judges", "quorum"}
//	enroll  {"id", "team": [{"address", "share"}...]}
//	submit  {"id", "commitment"}
//	reveal  {"id", "solution_hash", "salt"}
//	judge   {"id", "team", "accept"}
//	refund  {"id"}
//	get     {"id"}
//	list    {"state", "after", "limit"}
//
// Invariant: the contract's token balance equals the sum of the rewards
// of open bounties.
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/accord-chain/accord/sdk/contract"
)

func main() {}

func init() {
	contract.Warm(PostArgs{}, EnrollArgs{}, SubmitArgs{}, RevealArgs{}, JudgeArgs{}, IDArg{}, ListArgs{},
		Bounty{}, Team{}, Vote{}, Outcome{}, ListView{}, Summary{})
}

// State layout (keys built with contract.Key):
//
//	b/<id>          the Bounty record (JSON)
//	s/<state>/<id>  index for list (empty value)
const (
	prefBounty = "b"
	prefState  = "s"
)

// Bounty is the stored record of one challenge.
type Bounty struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	SpecHash string   `json:"spec_hash"`
	Reward   uint64   `json:"reward"`
	SubmitBy uint64   `json:"submit_by"`
	JudgeBy  uint64   `json:"judge_by"`
	Judges   []string `json:"judges"`
	Quorum   int      `json:"quorum"`
	Poster   string   `json:"poster"`
	State    string   `json:"state"`
	Teams    []Team   `json:"teams"`
	// Winner is the accepted team's number once the bounty is awarded.
	Winner  *int     `json:"winner,omitempty"`
	Payouts []Payout `json:"payouts,omitempty"`
	// Phase is computed for get from the block time: enrolling (before
	// submit_by), judging (before judge_by), expired, or closed.
	Phase string `json:"phase,omitempty"`
}

// Team is one enrolled team and where its solution stands.
type Team struct {
	Members      []Member `json:"members"`
	Commitment   string   `json:"commitment,omitempty"`
	SolutionHash string   `json:"solution_hash,omitempty"`
	Salt         string   `json:"salt,omitempty"`
	Votes        []Vote   `json:"votes,omitempty"`
}

// Vote is one judge's verdict on a team.
type Vote struct {
	Judge  string `json:"judge"`
	Accept bool   `json:"accept"`
	Height uint64 `json:"height"`
	Time   uint64 `json:"time"`
}

// Outcome is what a method that changes a bounty returns.
type Outcome struct {
	ID      string   `json:"id"`
	State   string   `json:"state"`
	Team    *int     `json:"team,omitempty"`
	Accepts int      `json:"accepts,omitempty"`
	Payouts []Payout `json:"payouts,omitempty"`
}

func bountyKey(id string) string { return contract.Key(prefBounty, id) }

func load(ctx contract.Context, id string) (*Bounty, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	b, ok := ctx.Get(bountyKey(id))
	if !ok {
		return nil, fmt.Errorf("%w: %s (post it first)", ErrNoBounty, id)
	}
	var r Bounty
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("bounty %s: stored record is corrupt: %w", id, err)
	}
	return &r, nil
}

// save writes r, keeps the state index in step, and emits the change as
// an event named after the method.
func save(ctx contract.Context, r *Bounty, old, method string) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	ctx.Put(bountyKey(r.ID), b)
	if old != r.State {
		if old != "" {
			ctx.Delete(contract.Key(prefState, old, r.ID))
		}
		ctx.Put(contract.Key(prefState, r.State, r.ID), nil)
	}
	ev, err := json.Marshal(struct {
		ID     string `json:"id"`
		State  string `json:"state"`
		Caller string `json:"caller"`
	}{r.ID, r.State, ctx.Caller()})
	if err != nil {
		return err
	}
	ctx.Emit("bounty."+method, ev)
	return nil
}

func requireOpen(r *Bounty, method string) error {
	if r.State != Open {
		return fmt.Errorf("%w: bounty %s is %s; %s needs it open", ErrWrongState, r.ID, r.State, method)
	}
	return nil
}

// teamOf is the number of the team the address is in, or -1.
func (r *Bounty) teamOf(addr string) int {
	for i, t := range r.Teams {
		for _, m := range t.Members {
			if m.Address == addr {
				return i
			}
		}
	}
	return -1
}

func (r *Bounty) isJudge(addr string) bool {
	for _, j := range r.Judges {
		if j == addr {
			return true
		}
	}
	return false
}

// PostArgs are post's arguments.
type PostArgs struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	SpecHash string   `json:"spec_hash"`
	Reward   uint64   `json:"reward"`
	SubmitBy uint64   `json:"submit_by"`
	JudgeBy  uint64   `json:"judge_by"`
	Judges   []string `json:"judges"`
	Quorum   int      `json:"quorum"`
}

// Post opens a challenge and moves reward of the poster's native tokens
// into the contract's escrow.
func Post(ctx contract.Context) (any, error) {
	var a PostArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	if err := checkID(a.ID); err != nil {
		return nil, err
	}
	if a.Title == "" || len(a.Title) > maxText {
		return nil, fmt.Errorf("%w: \"title\" must be 1 to %d bytes", ErrBadArgs, maxText)
	}
	spec, err := decodeHex("spec_hash", a.SpecHash, 32, 32)
	if err != nil {
		return nil, err
	}
	if a.Reward == 0 {
		return nil, fmt.Errorf("%w: \"reward\" must be at least 1", ErrBadArgs)
	}
	if now := ctx.Time(); a.SubmitBy <= now {
		return nil, fmt.Errorf("%w: submit_by %d is not after the block time %d", ErrPastDeadline, a.SubmitBy, now)
	}
	if a.JudgeBy <= a.SubmitBy {
		return nil, fmt.Errorf("%w: judge_by %d must be after submit_by %d", ErrBadArgs, a.JudgeBy, a.SubmitBy)
	}
	if len(a.Judges) == 0 || len(a.Judges) > maxJudges {
		return nil, fmt.Errorf("%w: name 1 to %d judges", ErrBadArgs, maxJudges)
	}
	r := &Bounty{ID: a.ID, Title: a.Title, SpecHash: hex.EncodeToString(spec), Reward: a.Reward,
		SubmitBy: a.SubmitBy, JudgeBy: a.JudgeBy, Quorum: a.Quorum, Poster: ctx.Caller(), State: Open, Teams: []Team{}}
	for i, j := range a.Judges {
		addr, err := normAddress(fmt.Sprintf("judges[%d]", i), j)
		if err != nil {
			return nil, err
		}
		if r.isJudge(addr) {
			return nil, fmt.Errorf("%w: judge %s is named twice", ErrBadArgs, addr)
		}
		r.Judges = append(r.Judges, addr)
	}
	if a.Quorum < 1 || a.Quorum > len(r.Judges) {
		return nil, fmt.Errorf("%w: quorum %d (want 1 to the %d judges)", ErrBadArgs, a.Quorum, len(r.Judges))
	}
	if old, err := load(ctx, a.ID); err == nil {
		return nil, fmt.Errorf("%w: bounty %s already exists and is %s; post a new id", ErrWrongState, a.ID, old.State)
	}
	if err := ctx.Collect(a.Reward); err != nil {
		return nil, fmt.Errorf("escrowing the reward of %d: %w", a.Reward, err)
	}
	if err := save(ctx, r, "", "post"); err != nil {
		return nil, err
	}
	return Outcome{ID: r.ID, State: r.State}, nil
}

// EnrollArgs are enroll's arguments.
type EnrollArgs struct {
	ID   string   `json:"id"`
	Team []Member `json:"team"`
}

// Enroll signs a team up before submit_by. The caller must be a member;
// nobody may be in two teams, and the poster and judges in none.
func Enroll(ctx contract.Context) (any, error) {
	var a EnrollArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	r, err := load(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	team, err := checkTeam(a.Team)
	if err != nil {
		return nil, err
	}
	if err := requireOpen(r, "enroll"); err != nil {
		return nil, err
	}
	if ctx.Time() >= r.SubmitBy {
		return nil, fmt.Errorf("%w: enrolment in bounty %s closed at submit_by %d", ErrPastDeadline, r.ID, r.SubmitBy)
	}
	member := false
	for _, m := range team {
		member = member || m.Address == ctx.Caller()
		switch {
		case r.teamOf(m.Address) >= 0:
			return nil, fmt.Errorf("%w: %s is already in team %d", ErrNotAllowed, m.Address, r.teamOf(m.Address))
		case r.isJudge(m.Address) || m.Address == r.Poster:
			return nil, fmt.Errorf("%w: %s posted or judges bounty %s and may not compete", ErrNotAllowed, m.Address, r.ID)
		}
	}
	if !member {
		return nil, fmt.Errorf("%w: the caller must be a member of the team it enrols", ErrNotAllowed)
	}
	if len(r.Teams) == maxTeams {
		return nil, fmt.Errorf("%w: bounty %s has the most teams it takes (%d)", ErrWrongState, r.ID, maxTeams)
	}
	r.Teams = append(r.Teams, Team{Members: team})
	if err := save(ctx, r, r.State, "enroll"); err != nil {
		return nil, err
	}
	n := len(r.Teams) - 1
	return Outcome{ID: r.ID, State: r.State, Team: &n}, nil
}

// SubmitArgs are submit's arguments.
type SubmitArgs struct {
	ID         string `json:"id"`
	Commitment string `json:"commitment"`
}

// Submit records the caller's team's sealed solution before submit_by; a
// later submit before the deadline replaces it.
func Submit(ctx contract.Context) (any, error) {
	var a SubmitArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	r, err := load(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	c, err := decodeHex("commitment", a.Commitment, 32, 32)
	if err != nil {
		return nil, err
	}
	if err := requireOpen(r, "submit"); err != nil {
		return nil, err
	}
	n := r.teamOf(ctx.Caller())
	if n < 0 {
		return nil, fmt.Errorf("%w: %s is in no team of bounty %s; enrol first", ErrNotAllowed, ctx.Caller(), r.ID)
	}
	if ctx.Time() >= r.SubmitBy {
		return nil, fmt.Errorf("%w: submissions to bounty %s closed at submit_by %d", ErrPastDeadline, r.ID, r.SubmitBy)
	}
	r.Teams[n].Commitment = hex.EncodeToString(c)
	if err := save(ctx, r, r.State, "submit"); err != nil {
		return nil, err
	}
	return Outcome{ID: r.ID, State: r.State, Team: &n}, nil
}

// RevealArgs are reveal's arguments.
type RevealArgs struct {
	ID           string `json:"id"`
	SolutionHash string `json:"solution_hash"`
	Salt         string `json:"salt"`
}

// Reveal opens the caller's team's commitment, after submit_by and before
// judge_by; it is refused unless SHA-256(solution_hash ‖ salt) is the
// commitment.
func Reveal(ctx contract.Context) (any, error) {
	var a RevealArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	r, err := load(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	sol, err := decodeHex("solution_hash", a.SolutionHash, 32, 32)
	if err != nil {
		return nil, err
	}
	salt, err := decodeHex("salt", a.Salt, 1, maxSalt)
	if err != nil {
		return nil, err
	}
	if err := requireOpen(r, "reveal"); err != nil {
		return nil, err
	}
	n := r.teamOf(ctx.Caller())
	if n < 0 {
		return nil, fmt.Errorf("%w: %s is in no team of bounty %s", ErrNotAllowed, ctx.Caller(), r.ID)
	}
	t := &r.Teams[n]
	switch {
	case ctx.Time() < r.SubmitBy:
		return nil, fmt.Errorf("%w: reveals open at submit_by %d, so that no solution can be copied", ErrWrongState, r.SubmitBy)
	case ctx.Time() >= r.JudgeBy:
		return nil, fmt.Errorf("%w: reveals to bounty %s closed at judge_by %d", ErrPastDeadline, r.ID, r.JudgeBy)
	case t.Commitment == "":
		return nil, fmt.Errorf("%w: team %d submitted nothing before submit_by", ErrWrongState, n)
	case t.SolutionHash != "":
		return nil, fmt.Errorf("%w: team %d has already revealed", ErrWrongState, n)
	}
	if c := Commitment(sol, salt); hex.EncodeToString(c[:]) != t.Commitment {
		return nil, fmt.Errorf("%w: SHA-256(solution_hash ‖ salt) is %x, team %d committed to %s", ErrNoMatch, c, n, t.Commitment)
	}
	t.SolutionHash, t.Salt = hex.EncodeToString(sol), hex.EncodeToString(salt)
	if err := save(ctx, r, r.State, "reveal"); err != nil {
		return nil, err
	}
	return Outcome{ID: r.ID, State: r.State, Team: &n}, nil
}

// JudgeArgs are judge's arguments.
type JudgeArgs struct {
	ID     string `json:"id"`
	Team   int    `json:"team"`
	Accept bool   `json:"accept"`
}

// Judge records a named judge's verdict on a revealed solution, once per
// judge and team, before judge_by. When quorum judges have accepted one
// team, the reward is paid to its members by their shares and the bounty
// closes as awarded.
func Judge(ctx contract.Context) (any, error) {
	var a JudgeArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	r, err := load(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if err := requireOpen(r, "judge"); err != nil {
		return nil, err
	}
	if !r.isJudge(ctx.Caller()) {
		return nil, fmt.Errorf("%w: only the judges named in bounty %s may judge", ErrNotAllowed, r.ID)
	}
	if a.Team < 0 || a.Team >= len(r.Teams) {
		return nil, fmt.Errorf("%w: team %d (bounty %s has teams 0 to %d)", ErrBadArgs, a.Team, r.ID, len(r.Teams)-1)
	}
	if ctx.Time() >= r.JudgeBy {
		return nil, fmt.Errorf("%w: judging of bounty %s closed at judge_by %d", ErrPastDeadline, r.ID, r.JudgeBy)
	}
	t := &r.Teams[a.Team]
	if t.SolutionHash == "" {
		return nil, fmt.Errorf("%w: team %d has not revealed a solution", ErrWrongState, a.Team)
	}
	accepts := 0
	for _, v := range t.Votes {
		if v.Judge == ctx.Caller() {
			return nil, fmt.Errorf("%w: %s already judged team %d", ErrAlreadyJudged, v.Judge, a.Team)
		}
		if v.Accept {
			accepts++
		}
	}
	t.Votes = append(t.Votes, Vote{Judge: ctx.Caller(), Accept: a.Accept, Height: ctx.Height(), Time: ctx.Time()})
	out := Outcome{ID: r.ID, Team: &a.Team}
	if a.Accept {
		accepts++
	}
	out.Accepts = accepts
	method := "judge"
	if accepts >= r.Quorum {
		pay := Split(r.Reward, t.Members)
		for _, p := range pay {
			if p.Amount == 0 {
				continue
			}
			if err := ctx.Transfer(p.Address, p.Amount); err != nil {
				return nil, fmt.Errorf("paying %d to %s: %w", p.Amount, p.Address, err)
			}
		}
		r.State, r.Winner, r.Payouts = Awarded, &a.Team, pay
		out.Payouts, method = pay, "award"
	}
	if err := save(ctx, r, Open, method); err != nil {
		return nil, err
	}
	out.State = r.State
	return out, nil
}

// IDArg is the argument of refund and get.
type IDArg struct {
	ID string `json:"id"`
}

// Refund returns the escrow to the poster once judge_by has passed with no
// solution accepted. Anyone may call it: the tokens go only to the poster.
func Refund(ctx contract.Context) (any, error) {
	var a IDArg
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	r, err := load(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if err := requireOpen(r, "refund"); err != nil {
		return nil, err
	}
	if ctx.Time() < r.JudgeBy {
		return nil, fmt.Errorf("%w: bounty %s can be judged until judge_by %d; refund after it", ErrWrongState, r.ID, r.JudgeBy)
	}
	if err := ctx.Transfer(r.Poster, r.Reward); err != nil {
		return nil, fmt.Errorf("refunding %d to %s: %w", r.Reward, r.Poster, err)
	}
	r.State, r.Payouts = Refunded, []Payout{{Address: r.Poster, Amount: r.Reward}}
	if err := save(ctx, r, Open, "refund"); err != nil {
		return nil, err
	}
	return Outcome{ID: r.ID, State: r.State, Payouts: r.Payouts}, nil
}

// Get returns a bounty with its teams, votes and, computed from the block
// time, its phase.
func Get(ctx contract.Context) (any, error) {
	var a IDArg
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	r, err := load(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	switch now := ctx.Time(); {
	case r.State != Open:
		r.Phase = "closed"
	case now < r.SubmitBy:
		r.Phase = "enrolling"
	case now < r.JudgeBy:
		r.Phase = "judging"
	default:
		r.Phase = "expired"
	}
	return r, nil
}

// ListArgs are list's arguments: a state, and optionally the id to
// continue after and how many to return (default 100, at most 1000).
type ListArgs struct {
	State string `json:"state"`
	After string `json:"after,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// Summary is one bounty in a list.
type Summary struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Reward uint64 `json:"reward"`
}

// ListView is what list returns; More says that bounties follow the last.
type ListView struct {
	State    string    `json:"state"`
	Bounties []Summary `json:"bounties"`
	More     bool      `json:"more"`
}

// List returns the bounties in a state, in id order.
func List(ctx contract.Context) (any, error) {
	var a ListArgs
	if err := contract.Decode(ctx, &a); err != nil {
		return nil, err
	}
	known := false
	for _, s := range states {
		known = known || s == a.State
	}
	if !known {
		return nil, fmt.Errorf("%w: state %q (want one of %v)", ErrBadArgs, a.State, states)
	}
	if a.Limit < 0 || a.Limit > 1000 {
		return nil, fmt.Errorf("%w: limit %d (want 1 to 1000)", ErrBadArgs, a.Limit)
	}
	if a.Limit == 0 {
		a.Limit = 100
	}
	prefix := contract.Key(prefState, a.State)
	start := prefix
	if a.After != "" {
		if err := checkID(a.After); err != nil {
			return nil, err
		}
		start = contract.Key(prefState, a.State, a.After) + "\x00"
	}
	out := ListView{State: a.State, Bounties: []Summary{}}
	var bad error
	// prefix ends in a zero byte: prefix[:n-1]+"\x01" is the first key above it.
	contract.Scan(ctx, start, prefix[:len(prefix)-1]+"\x01", func(k string, _ []byte) bool {
		if len(out.Bounties) == a.Limit {
			out.More = true
			return false
		}
		parts, err := contract.SplitKey(k)
		if err != nil || len(parts) != 3 {
			bad = fmt.Errorf("malformed index key %q", k)
			return false
		}
		var r *Bounty
		if r, bad = load(ctx, parts[2]); bad != nil {
			return false
		}
		out.Bounties = append(out.Bounties, Summary{ID: r.ID, Title: r.Title, Reward: r.Reward})
		return true
	})
	return out, bad
}
