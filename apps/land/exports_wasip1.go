//go:build wasip1

package main

import "github.com/accord-chain/accord/sdk/contract"

//go:wasmexport plan
func plan() { contract.Run(Plan) }

//go:wasmexport allocate
func allocate() { contract.Run(Allocate) }

//go:wasmexport report_built
func reportBuilt() { contract.Run(ReportBuilt) }

//go:wasmexport start_production
func startProduction() { contract.Run(StartProduction) }

//go:wasmexport audit
func audit() { contract.Run(Audit) }

//go:wasmexport reclaim
func reclaim() { contract.Run(Reclaim) }

//go:wasmexport get
func get() { contract.Run(Get) }

//go:wasmexport history
func history() { contract.Run(History) }

//go:wasmexport list
func list() { contract.Run(List) }
