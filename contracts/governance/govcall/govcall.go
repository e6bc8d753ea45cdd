// Package govcall builds calls to the governance contract ("gov") of a
// permissioned chain: its methods, the configuration changes they carry
// and their encoded arguments, which are messages of
// proto/accord/governance/v1. Clients (the SDK, the CLI) use it to propose,
// endorse and vote; the contract (package governance) decodes with it. It
// imports no part of the executor, so a client links none.
package govcall

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	govpb "github.com/accord-chain/accord/contracts/governance/pb"
	"github.com/accord-chain/accord/types"
)

// Name is the contract's name in transactions.
const Name = "gov"

// Methods.
const (
	MethodSubmit       = "submit"
	MethodPropose      = "propose"
	MethodVote         = "vote"
	MethodRevoke       = "revoke"
	MethodRegisterCert = "register_cert"
	MethodRegisterKey  = "register_key"
	MethodRemoveKey    = "remove_key"
)

// Version is the version of every message of proto/accord/governance/v1
// this package writes and reads; it only goes up.
const Version = 1

// OfflineIDBase is the first id an offline change may use; online
// proposals are numbered from 1 below it, so the two never collide.
const OfflineIDBase = 1 << 63

// MaxProposalTTL is the longest a proposal may stay open: 30 days, in ms.
const MaxProposalTTL = 30 * 24 * 3600 * 1000

// Errors of changes and arguments, wrapped with detail. The contract's
// calls fail with them too (package governance lists the same values).
var (
	ErrBadChange  = errors.New("bad change")
	ErrBadParams  = errors.New("bad chain parameters")
	ErrBadArgs    = errors.New("malformed arguments")
	ErrNoProposal = errors.New("no such proposal")
)

// SubmitArgs are the arguments of "submit": an offline change.
type SubmitArgs struct {
	Change       []byte // Change.Encode
	ID           uint64 // at least OfflineIDBase, never applied before
	Deadline     uint64 // unix ms; 0: none
	Endorsements []byte // identity.EncodeEndorsements
}

// ProposeArgs are the arguments of "propose".
type ProposeArgs struct {
	Change   []byte // Change.Encode
	Deadline uint64 // unix ms, at most MaxProposalTTL after the block time
}

// VoteArgs are the arguments of "vote": endorsements of the proposal,
// usually the sender's own.
type VoteArgs struct {
	ID           uint64
	Endorsements []byte // identity.EncodeEndorsements
}

// RevokeArgs are the arguments of "revoke".
type RevokeArgs struct {
	Org    string
	Serial string // hex
}

// RegisterCertArgs are the arguments of "register_cert".
type RegisterCertArgs struct {
	Cert []byte // DER
}

// KeyArgs are the arguments of "register_key" (every field) and
// "remove_key" (Scheme and PublicKey).
type KeyArgs struct {
	Org       string
	Role      string // admin, client, consensus or light
	Name      string
	Scheme    string // ed25519, sm2 or p256
	PublicKey string // hex
}

// Arguments are a method's arguments: SubmitArgs, ProposeArgs, VoteArgs,
// RevokeArgs, RegisterCertArgs or KeyArgs.
type Arguments interface{ message() proto.Message }

func (a SubmitArgs) message() proto.Message {
	return &govpb.SubmitArgs{Version: Version, Change: a.Change, Id: a.ID, Deadline: a.Deadline, Endorsements: a.Endorsements}
}

func (a ProposeArgs) message() proto.Message {
	return &govpb.ProposeArgs{Version: Version, Change: a.Change, Deadline: a.Deadline}
}

func (a VoteArgs) message() proto.Message {
	return &govpb.VoteArgs{Version: Version, Id: a.ID, Endorsements: a.Endorsements}
}

func (a RevokeArgs) message() proto.Message {
	return &govpb.RevokeArgs{Version: Version, Org: a.Org, Serial: a.Serial}
}

func (a RegisterCertArgs) message() proto.Message {
	return &govpb.RegisterCertArgs{Version: Version, Cert: a.Cert}
}

func (a KeyArgs) message() proto.Message {
	return &govpb.KeyArgs{Version: Version, Org: a.Org, Role: a.Role, Name: a.Name, Scheme: a.Scheme, PublicKey: a.PublicKey}
}

// Args encodes a method's arguments. Their strings must be valid UTF-8,
// as every string that came through JSON or from this package's decoders
// is; encoding any other is a caller's bug, and panics.
func Args(a Arguments) []byte { return types.EncodeCanonical(a.message()) }

// DecodeArgs decodes the arguments of a call into a, one of the
// Arguments types. It refuses another version, fields this node does not
// know and any encoding but the one Args writes; the error wraps
// ErrBadArgs.
func DecodeArgs(b []byte, a any) error {
	var err error
	switch a := a.(type) {
	case *SubmitArgs:
		var m govpb.SubmitArgs
		if err = decode(b, &m, ErrBadArgs); err == nil {
			*a = SubmitArgs{Change: m.Change, ID: m.Id, Deadline: m.Deadline, Endorsements: m.Endorsements}
		}
	case *ProposeArgs:
		var m govpb.ProposeArgs
		if err = decode(b, &m, ErrBadArgs); err == nil {
			*a = ProposeArgs{Change: m.Change, Deadline: m.Deadline}
		}
	case *VoteArgs:
		var m govpb.VoteArgs
		if err = decode(b, &m, ErrBadArgs); err == nil {
			*a = VoteArgs{ID: m.Id, Endorsements: m.Endorsements}
		}
	case *RevokeArgs:
		var m govpb.RevokeArgs
		if err = decode(b, &m, ErrBadArgs); err == nil {
			*a = RevokeArgs{Org: m.Org, Serial: m.Serial}
		}
	case *RegisterCertArgs:
		var m govpb.RegisterCertArgs
		if err = decode(b, &m, ErrBadArgs); err == nil {
			*a = RegisterCertArgs{Cert: m.Cert}
		}
	case *KeyArgs:
		var m govpb.KeyArgs
		if err = decode(b, &m, ErrBadArgs); err == nil {
			*a = KeyArgs{Org: m.Org, Role: m.Role, Name: m.Name, Scheme: m.Scheme, PublicKey: m.PublicKey}
		}
	default:
		panic(fmt.Sprintf("govcall: DecodeArgs into %T, which is not a method's arguments", a))
	}
	return err
}

// decode reads a versioned message, wrapping any error in sentinel.
func decode(b []byte, m types.Versioned, sentinel error) error {
	if err := types.DecodeVersioned(b, m, Version); err != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return nil
}
