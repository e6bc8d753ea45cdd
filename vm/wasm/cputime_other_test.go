//go:build !unix

package wasm

// processCPU is unknown here; the benchmarks then report 0 cpu-ns/gas.
func processCPU() int64 { return 0 }
