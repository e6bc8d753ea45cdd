package types

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/crypto"
	"github.com/accord-chain/accord/types/pb"
)

// PayloadVersion is the only transaction payload format this code accepts.
const PayloadVersion = 1

// Limits on transaction fields. They bound the work a malformed or hostile
// transaction can cause before its signature is checked.
const (
	MaxChainIDLen = 64
	MaxNameLen    = 64 // contract and method names
	MaxArgsLen    = 16 << 10
	// MaxCertLen is the largest signer certificate (DER) a transaction
	// may carry; package identity parses no larger one either.
	MaxCertLen     = 4096
	DefaultMaxSize = 32 << 10 // default limit on an encoded transaction
	MaxSize        = 1 << 20  // no configuration may allow more
)

var (
	ErrMalformed     = errors.New("malformed transaction")
	ErrTooLarge      = errors.New("transaction too large")
	ErrVersion       = errors.New("unsupported transaction version")
	ErrWrongChain    = errors.New("wrong chain id")
	ErrUnknownScheme = errors.New("unknown signature scheme")
	ErrBadSignature  = errors.New("invalid signature")
	ErrExpired       = errors.New("transaction expired")
	ErrNoSigner      = errors.New("transaction has no signer public key")
	// ErrUnbound is returned by Verify for a transaction whose signer is
	// named by certificate and whose key the chain's identity
	// configuration has not resolved: an open chain (no identity section
	// in genesis) accepts only public-key signers.
	ErrUnbound = errors.New("transaction signer not resolved")
	ErrWeakKey = errors.New("signer key is a small-order point, for which signatures can be forged")
)

// Tx is a decoded signed transaction. Raw is the encoded pb.Tx exactly as
// received; PayloadBytes and Signature alias it, so decoding copies no
// transaction bytes. Callers must not modify Raw after decoding.
type Tx struct {
	Raw          []byte
	PayloadBytes []byte
	Signature    []byte
	Body         *pb.TxPayload
	ID           Hash // chain hash of PayloadBytes
	Sender       Address
	Scheme       crypto.Scheme
	// PublicKey is the signer's key. For a signer named by certificate or
	// certificate hash it is nil until Bind sets it from the resolved
	// certificate, and Sender is zero until then.
	PublicKey []byte
	// Cert is the signer's DER certificate and CertHash the hash of a
	// certificate registered on chain; at most one is set, and neither for
	// a public-key signer.
	Cert     []byte
	CertHash Hash
	// Received is when this node admitted the transaction (unix ns), for
	// latency metrics. Local only: never encoded, never used in consensus.
	Received int64
}

// DecodeTx decodes and checks the shape of an encoded transaction: the
// envelope has exactly a payload and a signature, the payload has no unknown
// fields, a known version, a signer of a known scheme named by a correctly
// sized public key, a certificate of at most MaxCertLen bytes or a
// certificate hash, and a correctly sized signature. It does not verify the
// signature, the chain id or the expiry: see Check and Verify. A signer
// named by certificate is left unbound (see Bind).
func DecodeTx(raw []byte, h crypto.Hash) (*Tx, error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(raw))
	}
	payload, sig, err := splitEnvelope(raw)
	if err != nil {
		return nil, err
	}
	body := new(pb.TxPayload)
	if err := proto.Unmarshal(payload, body); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if len(body.ProtoReflect().GetUnknown()) > 0 {
		return nil, fmt.Errorf("%w: payload has unknown fields", ErrMalformed)
	}
	if body.Version != PayloadVersion {
		return nil, fmt.Errorf("%w: %d (this node knows %d)", ErrVersion, body.Version, PayloadVersion)
	}
	if len(body.ChainId) == 0 || len(body.ChainId) > MaxChainIDLen {
		return nil, fmt.Errorf("%w: chain id must be 1 to %d bytes", ErrMalformed, MaxChainIDLen)
	}
	if len(body.Contract) == 0 || len(body.Contract) > MaxNameLen || len(body.Method) == 0 || len(body.Method) > MaxNameLen {
		return nil, fmt.Errorf("%w: contract and method must be 1 to %d bytes", ErrMalformed, MaxNameLen)
	}
	if len(body.Args) > MaxArgsLen {
		return nil, fmt.Errorf("%w: args of %d bytes exceed %d", ErrTooLarge, len(body.Args), MaxArgsLen)
	}
	signer := body.Signer
	if signer == nil {
		return nil, ErrNoSigner
	}
	scheme := crypto.Scheme(signer.Scheme)
	if !scheme.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownScheme, signer.Scheme)
	}
	if len(sig) != scheme.SignatureSize() {
		return nil, fmt.Errorf("%w: %s signature of %d bytes, want %d", ErrMalformed, scheme, len(sig), scheme.SignatureSize())
	}
	tx := &Tx{
		Raw:          raw,
		PayloadBytes: payload,
		Signature:    sig,
		Body:         body,
		ID:           Hash(h.Sum(payload)),
		Scheme:       scheme,
	}
	switch id := signer.Identity.(type) {
	case *pb.Signer_PublicKey:
		if err := tx.Bind(id.PublicKey); err != nil {
			return nil, err
		}
	case *pb.Signer_Certificate:
		if len(id.Certificate) == 0 || len(id.Certificate) > MaxCertLen {
			return nil, fmt.Errorf("%w: signer certificate of %d bytes, want 1 to %d", ErrMalformed, len(id.Certificate), MaxCertLen)
		}
		tx.Cert = id.Certificate
	case *pb.Signer_CertificateHash:
		if len(id.CertificateHash) != len(tx.CertHash) {
			return nil, fmt.Errorf("%w: signer certificate hash of %d bytes, want %d", ErrMalformed, len(id.CertificateHash), len(tx.CertHash))
		}
		tx.CertHash = Hash(id.CertificateHash)
		if tx.CertHash.IsZero() {
			return nil, fmt.Errorf("%w: signer certificate hash is zero", ErrMalformed)
		}
	default:
		return nil, ErrNoSigner
	}
	return tx, nil
}

// Bound reports whether the signer's public key is known: always for a
// public-key signer, after Bind for one named by certificate.
func (tx *Tx) Bound() bool { return tx.PublicKey != nil }

// Bind sets the signer's public key, and with it Sender. DecodeTx binds a
// public-key signer; the chain's identity configuration binds one named by
// certificate or certificate hash to the key its certificate certifies,
// before the signature is verified. Binding a bound transaction again to
// the same key changes nothing; to another key is an error. A transaction
// must be bound before other goroutines see it.
func (tx *Tx) Bind(pub []byte) error {
	if tx.PublicKey != nil {
		if !bytes.Equal(tx.PublicKey, pub) {
			return fmt.Errorf("%w: signer is already bound to another key", ErrMalformed)
		}
		return nil
	}
	if len(pub) != tx.Scheme.PublicKeySize() {
		return fmt.Errorf("%w: %s public key of %d bytes, want %d", ErrMalformed, tx.Scheme, len(pub), tx.Scheme.PublicKeySize())
	}
	if crypto.WeakPublicKey(tx.Scheme, pub) {
		return ErrWeakKey
	}
	tx.PublicKey = pub
	tx.Sender = AddressOf(tx.Scheme, pub)
	return nil
}

// splitEnvelope parses pb.Tx by hand so that payload and signature alias raw.
// Fields must appear once each, in order, with nothing else: one encoding per
// transaction.
func splitEnvelope(raw []byte) (payload, sig []byte, err error) {
	b := raw
	for want := protowire.Number(1); want <= 2; want++ {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num != want || typ != protowire.BytesType {
			return nil, nil, fmt.Errorf("%w: envelope field %d missing or out of order", ErrMalformed, want)
		}
		b = b[n:]
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return nil, nil, fmt.Errorf("%w: envelope field %d truncated", ErrMalformed, want)
		}
		b = b[m:]
		if want == 1 {
			payload = v
		} else {
			sig = v
		}
	}
	if len(b) != 0 {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes after signature", ErrMalformed, len(b))
	}
	if len(raw) != envelopeSize(len(payload), len(sig)) {
		return nil, nil, fmt.Errorf("%w: envelope is not minimally encoded", ErrMalformed)
	}
	return payload, sig, nil
}

// Check applies the checks that need the chain's context: the chain id and,
// when now is not zero, the expiry (unix ms).
func (tx *Tx) Check(chainID string, nowMillis uint64) error {
	if tx.Body.ChainId != chainID {
		return fmt.Errorf("%w: %q, this chain is %q", ErrWrongChain, tx.Body.ChainId, chainID)
	}
	if nowMillis != 0 && tx.Expired(nowMillis) {
		return fmt.Errorf("%w: expired at %d, now %d", ErrExpired, tx.Body.ExpiresAt, nowMillis)
	}
	return nil
}

// Expired reports whether the transaction is no longer valid at time t (unix ms).
func (tx *Tx) Expired(t uint64) bool { return tx.Body.ExpiresAt < t }

// Verify checks the signature over the payload bytes.
func (tx *Tx) Verify() error {
	if !tx.Bound() {
		return fmt.Errorf("%w: bind the certificate's key first", ErrUnbound)
	}
	if err := crypto.Verify(tx.Scheme, tx.PublicKey, tx.PayloadBytes, tx.Signature); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// Nonce is the payload's nonce.
func (tx *Tx) Nonce() uint64 { return tx.Body.Nonce }

// EncodeTx builds the envelope for a payload and its signature.
func EncodeTx(payload, sig []byte) []byte {
	b := make([]byte, 0, envelopeSize(len(payload), len(sig)))
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, payload)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, sig)
	return b
}

// SignTx encodes body, signs it with key and returns the decoded transaction.
// The signer field is filled from key.
func SignTx(body *pb.TxPayload, key crypto.PrivateKey, h crypto.Hash) (*Tx, error) {
	if body.Version == 0 {
		body.Version = PayloadVersion
	}
	body.Signer = &pb.Signer{
		Scheme:   pb.Scheme(key.Scheme()),
		Identity: &pb.Signer_PublicKey{PublicKey: key.Public().Bytes()},
	}
	return signTx(body, key, h)
}

// SignTxCert is SignTx naming the signer by its DER certificate cert or,
// when cert is nil, by certHash, the hash of its certificate registered on
// chain. The returned transaction is bound to key's public key; a node
// binds it from the certificate instead.
func SignTxCert(body *pb.TxPayload, key crypto.PrivateKey, cert []byte, certHash Hash, h crypto.Hash) (*Tx, error) {
	if body.Version == 0 {
		body.Version = PayloadVersion
	}
	s := &pb.Signer{Scheme: pb.Scheme(key.Scheme())}
	if cert != nil {
		s.Identity = &pb.Signer_Certificate{Certificate: cert}
	} else {
		s.Identity = &pb.Signer_CertificateHash{CertificateHash: certHash[:]}
	}
	body.Signer = s
	tx, err := signTx(body, key, h)
	if err != nil {
		return nil, err
	}
	if err := tx.Bind(key.Public().Bytes()); err != nil {
		return nil, err
	}
	return tx, nil
}

func signTx(body *pb.TxPayload, key crypto.PrivateKey, h crypto.Hash) (*Tx, error) {
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(body)
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(payload)
	if err != nil {
		return nil, err
	}
	return DecodeTx(EncodeTx(payload, sig), h)
}

func envelopeSize(payload, sig int) int {
	return protowire.SizeTag(1) + protowire.SizeBytes(payload) + protowire.SizeTag(2) + protowire.SizeBytes(sig)
}
