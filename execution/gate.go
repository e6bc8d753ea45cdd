package execution

import (
	"fmt"

	"github.com/accord-chain/accord/types"
)

// Gate decides who may send what on a permissioned chain (see package
// contracts/governance); an open chain has none. Execute asks it once per
// block, before any transaction runs, with the state as of the previous
// block and the block's time, so that its verdicts depend on neither the
// order nor the lanes in which the block's transactions run: a change of
// who may send takes effect from the next block.
type Gate interface {
	Block(state StateReader, height, time uint64) (BlockGate, error)
}

// BlockGate gives one block's verdicts. Its methods are called from one
// goroutine, in block order, and must be deterministic; their error texts
// become receipt messages.
type BlockGate interface {
	// Signer binds the transaction's signer if it is named by certificate
	// (types.Tx.Bind) and checks that it may send at the block time.
	// refused makes the transaction INVALID: nothing changes, not even
	// its nonce. abort means state could not be read and stops the block.
	// signer is what the contract sees as Context.Signer.
	Signer(tx *types.Tx) (signer any, refused, abort error)
	// Call checks that signer may call the transaction's contract method.
	// refused makes the transaction FAILED: its nonce moves, the contract
	// is not called.
	Call(signer any, tx *types.Tx) (refused error)
}

// verdict is a Gate's judgement of one transaction.
type verdict struct {
	signer          any
	invalid, failed string
}

// verdicts are a block's, one per transaction; nil when the chain has no
// Gate.
type verdicts []verdict

func (v verdicts) at(i int) *verdict {
	if v == nil {
		return nil
	}
	return &v[i]
}

// judge asks the Gate about every transaction of the block.
func (e *Executor) judge(state StateReader, in *BlockInput) (verdicts, error) {
	if e.cfg.Gate == nil {
		return nil, nil
	}
	g := in.Gate
	if g == nil {
		var err error
		if g, err = e.cfg.Gate.Block(state, in.Height, in.Time); err != nil {
			return nil, fmt.Errorf("execution: block %d: identity: %w", in.Height, err)
		}
	}
	v := make(verdicts, len(in.Txs))
	for i, tx := range in.Txs {
		if tx == nil || tx.Body == nil {
			return nil, notDecoded(in.Height, i)
		}
		signer, refused, abort := g.Signer(tx)
		if abort != nil {
			return nil, fmt.Errorf("execution: block %d, transaction %d: identity: %w", in.Height, i, abort)
		}
		if refused != nil {
			v[i].invalid = refused.Error()
			continue
		}
		v[i].signer = signer
		if refused := g.Call(signer, tx); refused != nil {
			v[i].failed = refused.Error()
		}
	}
	return v, nil
}
