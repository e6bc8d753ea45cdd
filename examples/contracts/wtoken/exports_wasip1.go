//go:build wasip1

package main

import "github.com/accord-chain/accord/sdk/contract"

//go:wasmexport init
func initExport() { contract.Run(Init) }

//go:wasmexport mint
func mint() { contract.Run(Mint) }

//go:wasmexport transfer
func transfer() { contract.Run(Transfer) }

//go:wasmexport balance
func balance() { contract.Run(BalanceOf) }
