package wasm

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadApprovals is returned (wrapped) by DecodeApprovals.
var ErrBadApprovals = errors.New("malformed approvals")

// MaxApprovals bounds how many approvals one policy check takes.
const MaxApprovals = 1024

// EncodeApprovals writes approvals as policy_satisfied reads them: per
// approval u32 organisation length, organisation, u32 role length, role
// (little-endian).
func EncodeApprovals(approvals []Approval) []byte {
	var b []byte
	for _, a := range approvals {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(a.Org)))
		b = append(b, a.Org...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(a.Role)))
		b = append(b, a.Role...)
	}
	return b
}

// DecodeApprovals reads what EncodeApprovals writes. The bytes come from a
// contract, so every length is checked.
func DecodeApprovals(b []byte) ([]Approval, error) {
	var out []Approval
	next := func() (string, error) {
		if len(b) < 4 {
			return "", fmt.Errorf("%w: truncated length", ErrBadApprovals)
		}
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return "", fmt.Errorf("%w: length %d past the end", ErrBadApprovals, n)
		}
		v := string(b[4 : 4+n])
		b = b[4+n:]
		return v, nil
	}
	for len(b) > 0 {
		if len(out) == MaxApprovals {
			return nil, fmt.Errorf("%w: more than %d approvals", ErrBadApprovals, MaxApprovals)
		}
		org, err := next()
		if err != nil {
			return nil, err
		}
		role, err := next()
		if err != nil {
			return nil, err
		}
		out = append(out, Approval{Org: org, Role: role})
	}
	return out, nil
}
