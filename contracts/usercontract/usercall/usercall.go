// Package usercall builds calls of the user-contract registry (the native
// contract "contracts") for clients, without linking the executor or the
// WebAssembly runtime.
package usercall

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Name is the registry's contract name.
const Name = "contracts"

// Methods of the registry.
const (
	MethodUpload    = "upload"     // fields: hash, offset u64, total u64, data
	MethodInstall   = "install"    // fields: name, hash, init args
	MethodUpgrade   = "upgrade"    // fields: name, hash, upgrade args
	MethodFreeze    = "freeze"     // fields: name
	MethodUnfreeze  = "unfreeze"   // fields: name
	MethodRevoke    = "revoke"     // fields: name
	MethodSetParams = "set_params" // fields: the encoded parameters
	MethodApply     = "apply"      // governance only: method, its fields
)

// ChunkSize is the most code one upload carries, so that an upload fits a
// transaction's arguments (types.MaxArgsLen).
const ChunkSize = 16000

// ErrBadEncoding is returned (wrapped) for arguments that do not decode.
var ErrBadEncoding = errors.New("malformed contract registry encoding")

// EncodeFields frames byte strings as the registry's arguments: each a u32
// big-endian length and the bytes.
func EncodeFields(fields ...[]byte) []byte {
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// DecodeFields reads exactly n fields written by EncodeFields.
func DecodeFields(b []byte, n int) ([][]byte, error) {
	if n < 0 || n > 16 {
		return nil, fmt.Errorf("%w: %d fields asked for", ErrBadEncoding, n)
	}
	out := make([][]byte, 0, n)
	for len(b) > 0 {
		if len(out) == n {
			return nil, fmt.Errorf("%w: more than %d fields", ErrBadEncoding, n)
		}
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: truncated length", ErrBadEncoding)
		}
		l := binary.BigEndian.Uint32(b)
		if uint64(l) > uint64(len(b)-4) {
			return nil, fmt.Errorf("%w: field of %d bytes past the end", ErrBadEncoding, l)
		}
		out = append(out, b[4:4+l])
		b = b[4+l:]
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: %d fields, want %d", ErrBadEncoding, len(out), n)
	}
	return out, nil
}

// CodeHash is the hash that pins a module: SHA-256.
func CodeHash(code []byte) [32]byte { return sha256.Sum256(code) }

// Upload returns the code's hash and the arguments of its uploads,
// ChunkSize each, to send (in any order) before install or upgrade.
func Upload(code []byte) (hash [32]byte, args [][]byte) {
	hash = CodeHash(code)
	for off := 0; off < len(code); off += ChunkSize {
		end := min(off+ChunkSize, len(code))
		args = append(args, EncodeFields(hash[:], binary.BigEndian.AppendUint64(nil, uint64(off)),
			binary.BigEndian.AppendUint64(nil, uint64(len(code))), code[off:end]))
	}
	return hash, args
}

// InstallArgs are the arguments of install and upgrade: the contract's
// name, the code hash and the arguments of its init (upgrade) export.
func InstallArgs(name string, hash [32]byte, args []byte) []byte {
	return EncodeFields([]byte(name), hash[:], args)
}

// NameArgs are the arguments of freeze, unfreeze and revoke.
func NameArgs(name string) []byte { return EncodeFields([]byte(name)) }
