//go:build unix

package intent_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time the test process has used (user and
// system, all threads), so a benchmark can report CPU per operation, which
// a machine shared with other work does not inflate the way it inflates
// wall time.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
