//go:build byzantine

package node

import "github.com/accord-chain/accord/consensus/bft"

// wrapBFT makes this validator misbehave as config.Node.Byzantine says (a
// build with -tags byzantine only, for tests).
func wrapBFT(mode string, tr bft.Transport, cfg bft.Config) (bft.Transport, error) {
	if mode == "" {
		return tr, nil
	}
	return bft.ByzantineTransport(mode, tr, cfg)
}
