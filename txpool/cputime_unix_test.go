//go:build unix

package txpool

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used, garbage collection
// included. Benchmarks divide work by it to give a rate that other
// programs on a shared machine disturb far less than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
