// Package tokencall builds calls to the native token contract: its name,
// its methods and their encoded arguments. It is what clients (the SDK,
// the CLI, the bench) need to pay and mint, and it imports no part of the
// executor, so a client links none. The contract itself (package token)
// decodes what this package encodes.
package tokencall

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/accord-chain/accord/types"
	"github.com/accord-chain/accord/types/pb"
)

// Name is the contract's name in transactions.
const Name = "token"

// Methods.
const (
	MethodMint     = "mint"
	MethodBurn     = "burn"
	MethodTransfer = "transfer"
)

// Mint encodes the arguments of "mint": amount new units to to.
func Mint(to types.Address, amount uint64) []byte {
	return marshal(&pb.MintArgs{To: to[:], Amount: amount})
}

// Transfer encodes the arguments of "transfer": amount units from the
// sender to to.
func Transfer(to types.Address, amount uint64) []byte {
	return marshal(&pb.TransferArgs{To: to[:], Amount: amount})
}

// Burn encodes the arguments of "burn": amount units of the sender's own.
func Burn(amount uint64) []byte {
	return marshal(&pb.BurnArgs{Amount: amount})
}

func marshal(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("tokencall: encoding %T cannot fail: %v", m, err))
	}
	return b
}
