package sdk

import (
	"time"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// SignOffline builds and signs a transaction without asking a node: info
// names the chain (its id and hash function; Issuer is not needed) and
// nonce is the sender's next nonce, which a node reports as an account's
// next_nonce. It is what Client.Sign does once it has both, for keys kept
// on a machine that cannot reach the network. call.Nonce is ignored.
func SignOffline(info Info, key crypto.PrivateKey, nonce uint64, call Call) (*types.Tx, error) {
	exp := call.ExpiresAt
	if exp == 0 {
		exp = uint64(time.Now().Add(DefaultTTL).UnixMilli())
	}
	body := &pb.TxPayload{
		ChainId:   info.ChainID,
		Nonce:     nonce,
		ExpiresAt: exp,
		Contract:  call.Contract,
		Method:    call.Method,
		Args:      call.Args,
		GasLimit:  call.GasLimit,
	}
	if call.Cert != nil || !call.CertHash.IsZero() {
		return types.SignTxCert(body, key, call.Cert, call.CertHash, info.Hash)
	}
	return types.SignTx(body, key, info.Hash)
}
