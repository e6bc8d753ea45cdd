//go:build !unix

package execution_test

// processCPU is unknown here; the benchmarks then report 0 cpu-ns/tx.
func processCPU() int64 { return 0 }
