package api

import (
	"github.com/accord-chain/accord/contracts/governance"
	"github.com/accord-chain/accord/types"
)

// bindSender binds a transaction signed by certificate (or certificate
// hash) to its member's key, so that readers see its sender's address
// rather than none: blocks store such transactions unbound. The member is
// resolved in the chain's configuration as of now, at time at (the
// transaction's block time); one that no longer resolves (its CA since
// removed, say) is left unbound.
func (s *Server) bindSender(tx *types.Tx, at uint64) {
	if tx.Bound() {
		return
	}
	s.loaderOnce.Do(func() { s.loader = governance.NewLoader(s.d.Hash) })
	v := s.d.Store.View()
	defer v.Close()
	reg, err := s.loader.Registry(v.State())
	if err != nil {
		return
	}
	m, err := reg.Resolve(governance.Ref(tx), at)
	if err != nil || m.Scheme != tx.Scheme {
		return
	}
	_ = tx.Bind(m.PublicKey)
}
