package node

import (
	"github.com/accord-chain/accord/execution"
	"github.com/accord-chain/accord/types"
)

// admissionCheck dry-runs each transaction's call against committed state
// before the pool takes it, so that a call bound to fail now (a mint by
// someone other than the issuer, a transfer beyond the sender's balance,
// malformed arguments, an unknown method) is refused with a clear error
// instead of taking space in a block. Execution still decides: a call that
// passes here can fail in its block, for example after an earlier transfer
// in the same block spent the balance.
func (n *Node) admissionCheck(tx *types.Tx) error {
	signer, err := n.checkSigner(tx)
	if err != nil {
		return err
	}
	tip := n.store.Tip()
	failure, err := n.exec.Check(stateReader{n.store}, &execution.CallInput{
		Sender:   tx.Sender,
		Signer:   signer,
		Height:   tip.Height + 1,
		Time:     tip.Time + 1,
		Contract: tx.Body.Contract,
		Method:   tx.Body.Method,
		Args:     tx.Body.Args,
	})
	if err != nil {
		return err
	}
	return failure
}
