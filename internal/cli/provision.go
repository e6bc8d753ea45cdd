package cli

import (
	"errors"
	"fmt"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/internal/provision"
)

// The flag of init and testnet, and of node add, that sets each field of
// provision's options, for restating its errors to the user who typed it.
var (
	initFlags = map[string]string{
		"Options.Home":      "--home",
		"Options.ChainID":   "--chain-id",
		"Options.Crypto":    "--crypto",
		"Options.Nodes":     "--nodes",
		"Options.BasePort":  "--base-port",
		"Options.Orgs":      "--orgs",
		"Options.Identity":  "--identity",
		"Options.Consensus": "--consensus",
	}
	joinFlags = map[string]string{
		"JoinOptions.Network": "--network",
		"JoinOptions.ID":      "--id",
		"JoinOptions.API":     "--api",
		"JoinOptions.P2P":     "--p2p",
	}
)

// flagError is a *provision.FieldError restated with the flag's name.
type flagError struct {
	flag string
	err  *provision.FieldError
}

func (e *flagError) Error() string { return e.flag + " " + e.err.Msg }
func (e *flagError) Unwrap() error { return e.err }

// withFlag restates err in terms of flags when it is a
// *provision.FieldError about a field one of them sets.
func withFlag(err error, flags map[string]string) error {
	var fe *provision.FieldError
	if errors.As(err, &fe) {
		if f, ok := flags[fe.Field]; ok {
			return &flagError{flag: f, err: fe}
		}
	}
	return err
}

// initNetwork makes a network folder for init and testnet, its errors in
// terms of their flags.
func initNetwork(o provision.Options) (*provision.Result, error) {
	if o.Orgs > 0 && o.Crypto != crypto.SM2 && o.Crypto != crypto.P256 {
		// One message naming both flags, rather than the one field.
		return nil, fmt.Errorf("--orgs needs --crypto sm2 or p256 for the organisations' CAs, not %s", o.Crypto)
	}
	res, err := provision.Init(o)
	return res, withFlag(err, initFlags)
}
