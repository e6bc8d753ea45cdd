package types_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

func newKey(t testing.TB, s crypto.Scheme) crypto.PrivateKey {
	t.Helper()
	k, err := crypto.GenerateKey(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signed(t testing.TB, k crypto.PrivateKey, nonce uint64) *types.Tx {
	t.Helper()
	tx, err := types.SignTx(&pb.TxPayload{
		ChainId: "test", Nonce: nonce, ExpiresAt: 1 << 62, Contract: "token", Method: "transfer", Args: []byte{1, 2, 3},
	}, k, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func TestSignDecodeVerifyEachScheme(t *testing.T) {
	for _, s := range []crypto.Scheme{crypto.Ed25519, crypto.SM2, crypto.P256} {
		t.Run(s.String(), func(t *testing.T) {
			k := newKey(t, s)
			tx := signed(t, k, 7)
			got, err := types.DecodeTx(tx.Raw, crypto.SHA256)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.ID != tx.ID || got.Sender != types.AddressOf(s, k.Public().Bytes()) || got.Nonce() != 7 {
				t.Fatalf("decoded tx differs: id %s sender %s nonce %d", got.ID, got.Sender, got.Nonce())
			}
			if err := got.Verify(); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if err := got.Check("test", 1000); err != nil {
				t.Fatalf("check: %v", err)
			}
			// Payload and signature alias the raw bytes: no copies.
			if &got.PayloadBytes[0] != &tx.Raw[2] && !bytes.Contains(tx.Raw, got.PayloadBytes) {
				t.Fatal("payload is not a sub-slice of raw")
			}
			bad := bytes.Clone(tx.Raw)
			bad[len(bad)-1] ^= 1
			bt, err := types.DecodeTx(bad, crypto.SHA256)
			if err != nil {
				t.Fatalf("decode of tampered signature: %v", err)
			}
			if err := bt.Verify(); !errors.Is(err, types.ErrBadSignature) {
				t.Fatalf("tampered signature: got %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestTxIDIsChainHashOfPayload(t *testing.T) {
	k := newKey(t, crypto.Ed25519)
	tx := signed(t, k, 0)
	if tx.ID != types.Hash(crypto.SHA256.Sum(tx.PayloadBytes)) {
		t.Fatal("tx id is not sha256(payload)")
	}
	sm, err := types.DecodeTx(tx.Raw, crypto.SM3)
	if err != nil {
		t.Fatal(err)
	}
	if sm.ID != types.Hash(crypto.SM3.Sum(tx.PayloadBytes)) || sm.ID == tx.ID {
		t.Fatal("tx id must follow the chain hash")
	}
	id, err := types.TxID(tx.Raw, crypto.SHA256)
	if err != nil || id != tx.ID {
		t.Fatalf("TxID = %s, %v; want %s", id, err, tx.ID)
	}
}

func TestDecodeTxRejects(t *testing.T) {
	k := newKey(t, crypto.Ed25519)
	good := signed(t, k, 1)
	payload := func(mut func(p *pb.TxPayload)) []byte {
		p := proto.Clone(good.Body).(*pb.TxPayload)
		mut(p)
		b, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return types.EncodeTx(b, good.Signature)
	}
	unknownField := protowire.AppendTag(bytes.Clone(good.PayloadBytes), 99, protowire.VarintType)
	unknownField = protowire.AppendVarint(unknownField, 1)
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty", nil, types.ErrMalformed},
		{"garbage", []byte("not a transaction"), types.ErrMalformed},
		{"trailing bytes", append(bytes.Clone(good.Raw), 0), types.ErrMalformed},
		{"signature first", func() []byte {
			b := protowire.AppendTag(nil, 2, protowire.BytesType)
			b = protowire.AppendBytes(b, good.Signature)
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			return protowire.AppendBytes(b, good.PayloadBytes)
		}(), types.ErrMalformed},
		{"overlong length", func() []byte {
			b := protowire.AppendTag(nil, 1, protowire.BytesType)
			b = append(b, byte(len(good.PayloadBytes))|0x80, 0x80, 0x00)
			b = append(b, good.PayloadBytes...)
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			return protowire.AppendBytes(b, good.Signature)
		}(), types.ErrMalformed},
		{"oversize", make([]byte, types.MaxSize+1), types.ErrTooLarge},
		{"unknown payload field", types.EncodeTx(unknownField, good.Signature), types.ErrMalformed},
		{"version 2", payload(func(p *pb.TxPayload) { p.Version = 2 }), types.ErrVersion},
		{"no chain id", payload(func(p *pb.TxPayload) { p.ChainId = "" }), types.ErrMalformed},
		{"no contract", payload(func(p *pb.TxPayload) { p.Contract = "" }), types.ErrMalformed},
		{"long method", payload(func(p *pb.TxPayload) { p.Method = strings.Repeat("m", 65) }), types.ErrMalformed},
		{"huge args", payload(func(p *pb.TxPayload) { p.Args = make([]byte, types.MaxArgsLen+1) }), types.ErrTooLarge},
		{"unknown scheme", payload(func(p *pb.TxPayload) { p.Signer.Scheme = 9 }), types.ErrUnknownScheme},
		{"no signer", payload(func(p *pb.TxPayload) { p.Signer = nil }), types.ErrNoSigner},
		{"empty certificate", payload(func(p *pb.TxPayload) {
			p.Signer.Identity = &pb.Signer_Certificate{Certificate: []byte{}}
		}), types.ErrMalformed},
		{"oversize certificate", payload(func(p *pb.TxPayload) {
			p.Signer.Identity = &pb.Signer_Certificate{Certificate: make([]byte, types.MaxCertLen+1)}
		}), types.ErrMalformed},
		{"short certificate hash", payload(func(p *pb.TxPayload) {
			p.Signer.Identity = &pb.Signer_CertificateHash{CertificateHash: make([]byte, 31)}
		}), types.ErrMalformed},
		{"zero certificate hash", payload(func(p *pb.TxPayload) {
			p.Signer.Identity = &pb.Signer_CertificateHash{CertificateHash: make([]byte, 32)}
		}), types.ErrMalformed},
		{"no identity", payload(func(p *pb.TxPayload) { p.Signer.Identity = nil }), types.ErrNoSigner},
		{"short key", payload(func(p *pb.TxPayload) {
			p.Signer.Identity = &pb.Signer_PublicKey{PublicKey: []byte{1, 2}}
		}), types.ErrMalformed},
		{"small-order ed25519 key", payload(func(p *pb.TxPayload) {
			p.Signer.Identity = &pb.Signer_PublicKey{PublicKey: append([]byte{1}, make([]byte, 31)...)}
		}), types.ErrWeakKey},
		{"short signature", types.EncodeTx(good.PayloadBytes, good.Signature[:10]), types.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := types.DecodeTx(c.raw, crypto.SHA256)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tx := signed(t, newKey(t, crypto.Ed25519), 0)
	if err := tx.Check("other", 0); !errors.Is(err, types.ErrWrongChain) {
		t.Fatalf("wrong chain: got %v", err)
	}
	tx.Body.ExpiresAt = 100
	if err := tx.Check("test", 101); !errors.Is(err, types.ErrExpired) {
		t.Fatalf("expired: got %v", err)
	}
	if err := tx.Check("test", 100); err != nil {
		t.Fatalf("valid until and including expires_at: got %v", err)
	}
}

func TestBlockRoundTrip(t *testing.T) {
	k := newKey(t, crypto.Ed25519)
	txs := []*types.Tx{signed(t, k, 0), signed(t, k, 1), signed(t, k, 2)}
	ids := []types.Hash{txs[0].ID, txs[1].ID, txs[2].ID}
	hdr := &pb.Header{Version: types.HeaderVersion, ChainId: "test", Height: 5, Time: 99, TxCount: 3,
		TxRoot: func() []byte { r := types.MerkleRoot(crypto.SHA256, ids); return r[:] }()}
	hash, hb, err := types.HeaderHash(crypto.SHA256, hdr)
	if err != nil {
		t.Fatal(err)
	}
	raw := types.EncodeBlock(hb, txs)
	blk, err := types.DecodeBlock(raw, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if blk.Hash != hash || blk.Header.Height != 5 || len(blk.Txs) != 3 {
		t.Fatalf("round trip: hash %s height %d txs %d", blk.Hash, blk.Header.Height, len(blk.Txs))
	}
	for i := range txs {
		if blk.Txs[i].ID != txs[i].ID {
			t.Fatalf("tx %d id differs", i)
		}
	}
	// It is also a valid pb.Block for any protobuf reader.
	var pbb pb.Block
	if err := proto.Unmarshal(raw, &pbb); err != nil || len(pbb.Txs) != 3 || pbb.Header.Height != 5 {
		t.Fatalf("pb.Block decode: %v", err)
	}
	hdr.TxCount = 4
	_, hb2, _ := types.HeaderHash(crypto.SHA256, hdr)
	if _, err := types.DecodeBlock(types.EncodeBlock(hb2, txs), crypto.SHA256); !errors.Is(err, types.ErrBadBlock) {
		t.Fatalf("tx count mismatch: got %v", err)
	}
	if _, err := types.DecodeBlock(raw[:len(raw)-3], crypto.SHA256); !errors.Is(err, types.ErrBadBlock) {
		t.Fatalf("truncated block: got %v", err)
	}
}

func TestMerkleRoot(t *testing.T) {
	h := crypto.SHA256
	if types.MerkleRoot(h, nil) != (types.Hash{}) {
		t.Fatal("empty root must be zero")
	}
	a, b, c := types.Hash{1}, types.Hash{2}, types.Hash{3}
	la, lb, lc := h.Sum([]byte{0}, a[:]), h.Sum([]byte{0}, b[:]), h.Sum([]byte{0}, c[:])
	ab := h.Sum([]byte{1}, la[:], lb[:])
	want := h.Sum([]byte{1}, ab[:], lc[:])
	if got := types.MerkleRoot(h, []types.Hash{a, b, c}); got != types.Hash(want) {
		t.Fatalf("root of 3 = %s, want %s", got, types.Hash(want))
	}
	if types.MerkleRoot(h, []types.Hash{a, b}) == types.MerkleRoot(h, []types.Hash{b, a}) {
		t.Fatal("root must depend on order")
	}
}

func TestParseAddressAndHash(t *testing.T) {
	a, err := types.ParseAddress("0x00112233445566778899aabbccddeeff00112233")
	if err != nil || a.String() != "00112233445566778899aabbccddeeff00112233" {
		t.Fatalf("ParseAddress: %v %s", err, a)
	}
	for _, bad := range []string{"", "xyz", "0011", strings.Repeat("g", 40), strings.Repeat("0", 41)} {
		if _, err := types.ParseAddress(bad); !errors.Is(err, types.ErrBadAddress) {
			t.Errorf("ParseAddress(%q) = %v, want ErrBadAddress", bad, err)
		}
	}
	if _, err := types.ParseHash(strings.Repeat("ab", 32)); err != nil {
		t.Fatal(err)
	}
	if _, err := types.ParseHash("abc"); !errors.Is(err, types.ErrBadHash) {
		t.Fatal("short hash accepted")
	}
}

// A signer named by certificate or certificate hash decodes unbound: its
// key comes from the chain's identity configuration, and until Bind sets
// it, Verify refuses rather than guessing.
func TestCertificateSignerBinding(t *testing.T) {
	k := newKey(t, crypto.SM2)
	body := func() *pb.TxPayload {
		return &pb.TxPayload{ChainId: "test", ExpiresAt: 1 << 62, Contract: "token", Method: "transfer"}
	}
	byCert, err := types.SignTxCert(body(), k, []byte("DER bytes"), types.Hash{}, crypto.SM3)
	if err != nil {
		t.Fatal(err)
	}
	h := types.Hash{1, 2, 3}
	byHash, err := types.SignTxCert(body(), k, nil, h, crypto.SM3)
	if err != nil {
		t.Fatal(err)
	}
	for name, tx := range map[string]*types.Tx{"certificate": byCert, "hash": byHash} {
		t.Run(name, func(t *testing.T) {
			d, err := types.DecodeTx(tx.Raw, crypto.SM3)
			if err != nil {
				t.Fatal(err)
			}
			if d.Bound() || d.Sender != (types.Address{}) {
				t.Fatal("a certificate signer decoded bound")
			}
			if err := d.Verify(); !errors.Is(err, types.ErrUnbound) {
				t.Fatalf("Verify of an unbound tx: got %v, want ErrUnbound", err)
			}
			if name == "certificate" && string(d.Cert) != "DER bytes" {
				t.Fatalf("Cert = %q", d.Cert)
			}
			if name == "hash" && d.CertHash != h {
				t.Fatalf("CertHash = %s", d.CertHash)
			}
			if err := d.Bind(k.Public().Bytes()); err != nil {
				t.Fatal(err)
			}
			if d.Sender != types.AddressOf(crypto.SM2, k.Public().Bytes()) {
				t.Fatal("sender is not the bound key's address")
			}
			if err := d.Verify(); err != nil {
				t.Fatalf("bound tx does not verify: %v", err)
			}
			if err := d.Bind(newKey(t, crypto.SM2).Public().Bytes()); !errors.Is(err, types.ErrMalformed) {
				t.Fatalf("rebinding to another key: got %v", err)
			}
		})
	}
}
