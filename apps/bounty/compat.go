package main

import "github.com/accord-chain/accord/sdk/contract"

// Context is what bounty needs of the host.
type Context interface {
	contract.Context
	Collect(amount uint64) error
	Transfer(to string, amount uint64) error
}
