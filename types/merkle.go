package types

import "github.com/accord-chain/accord/crypto"

// MerkleRoot is a binary Merkle root over leaves in order, with domain
// separation (0x00 for leaves, 0x01 for inner nodes) so that a leaf can never
// be passed off as an inner node. An odd node is promoted unchanged. The
// root of no leaves is the zero hash.
func MerkleRoot(h crypto.Hash, leaves []Hash) Hash {
	if len(leaves) == 0 {
		return Hash{}
	}
	level := make([]Hash, len(leaves))
	for i := range leaves {
		level[i] = h.Sum([]byte{0}, leaves[i][:])
	}
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			next = append(next, h.Sum([]byte{1}, level[i][:], level[i+1][:]))
		}
		level = next
	}
	return level[0]
}
