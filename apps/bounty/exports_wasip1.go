//go:build wasip1

package main

import "github.com/accord-chain/accord/sdk/contract"

//go:wasmexport post
func post() { contract.Run(Post) }

//go:wasmexport enroll
func enroll() { contract.Run(Enroll) }

//go:wasmexport submit
func submit() { contract.Run(Submit) }

//go:wasmexport reveal
func reveal() { contract.Run(Reveal) }

//go:wasmexport judge
func judge() { contract.Run(Judge) }

//go:wasmexport refund
func refund() { contract.Run(Refund) }

//go:wasmexport get
func get() { contract.Run(Get) }

//go:wasmexport list
func list() { contract.Run(List) }
