package types_test

import (
	"bytes"
	"testing"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// FuzzDecodeTx feeds arbitrary bytes to the transaction decoder: it must
// never panic, and whatever it accepts must re-encode to the same bytes (one
// encoding per transaction) with an id that depends only on the payload.
func FuzzDecodeTx(f *testing.F) {
	for _, s := range []crypto.Scheme{crypto.Ed25519, crypto.SM2, crypto.P256} {
		f.Add(signed(f, newKey(f, s), 3).Raw)
	}
	k := newKey(f, crypto.P256)
	for _, c := range []struct {
		der  []byte
		hash types.Hash
	}{{der: []byte{0x30, 0x03, 1, 2, 3}}, {hash: types.Hash{9}}} {
		tx, err := types.SignTxCert(&pb.TxPayload{ChainId: "test", Contract: "token", Method: "transfer"}, k, c.der, c.hash, crypto.SHA256)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tx.Raw)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := types.DecodeTx(raw, crypto.SHA256)
		if err != nil {
			return
		}
		if !tx.Bound() {
			if len(tx.Cert) == 0 == tx.CertHash.IsZero() || len(tx.Cert) > types.MaxCertLen {
				t.Fatal("an unbound signer must carry exactly one of certificate and hash")
			}
			if tx.Sender != (types.Address{}) {
				t.Fatal("unbound signer has a sender")
			}
			return
		}
		if !bytes.Equal(types.EncodeTx(tx.PayloadBytes, tx.Signature), raw) {
			t.Fatal("accepted bytes do not re-encode identically")
		}
		if tx.ID != types.Hash(crypto.SHA256.Sum(tx.PayloadBytes)) {
			t.Fatal("id is not the hash of the payload")
		}
		if tx.Sender != types.AddressOf(tx.Scheme, tx.PublicKey) {
			t.Fatal("sender does not match the public key")
		}
		_ = tx.Verify() // must not panic on any accepted shape
	})
}

// FuzzDecodeBlock feeds arbitrary bytes to the block decoder: it must never
// panic, and an accepted block must re-encode to the same bytes.
func FuzzDecodeBlock(f *testing.F) {
	k := newKey(f, crypto.Ed25519)
	txs := []*types.Tx{signed(f, k, 0), signed(f, k, 1)}
	_, hb, err := types.HeaderHash(crypto.SHA256, &pb.Header{Version: 1, ChainId: "test", Height: 1, TxCount: 2})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(types.EncodeBlock(hb, txs))
	f.Add(types.EncodeBlock(hb, nil))
	f.Add([]byte{0x0a})
	f.Fuzz(func(t *testing.T, raw []byte) {
		blk, err := types.DecodeBlock(raw, crypto.SHA256)
		if err != nil {
			return
		}
		hb, _, err := types.SplitBlock(raw)
		if err != nil {
			t.Fatalf("DecodeBlock accepted what SplitBlock rejects: %v", err)
		}
		if !bytes.Equal(types.EncodeBlock(hb, blk.Txs), raw) {
			t.Fatal("accepted block does not re-encode identically")
		}
		if int(blk.Header.TxCount) != len(blk.Txs) {
			t.Fatal("tx count not enforced")
		}
	})
}
