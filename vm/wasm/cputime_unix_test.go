//go:build unix

package wasm

import "syscall"

// processCPU is the process's user and system CPU time in nanoseconds:
// on a shared machine it measures a benchmark's own work far better than
// wall time, which the other load stretches.
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
