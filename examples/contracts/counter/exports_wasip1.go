//go:build wasip1

package main

import "github.com/accord-chain/accord/sdk/contract"

//go:wasmexport increment
func increment() { contract.Run(Increment) }

//go:wasmexport get
func get() { contract.Run(Get) }
