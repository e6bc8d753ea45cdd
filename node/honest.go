//go:build !byzantine

package node

import (
	"errors"

	"github.com/accord-chain/accord/consensus/bft"
)

// wrapBFT is the identity in a normal build: only a build with -tags
// byzantine can make a validator misbehave.
func wrapBFT(mode string, tr bft.Transport, _ bft.Config) (bft.Transport, error) {
	if mode != "" {
		return nil, errors.New("--byzantine needs a binary built with -tags byzantine")
	}
	return tr, nil
}
