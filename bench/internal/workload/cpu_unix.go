//go:build unix

package workload

import "syscall"

// ProcessCPU is the CPU time, in seconds, this process has used so far
// (user and system), so a script can tell the load generator's share of
// the machine from the server's and from other processes'.
func ProcessCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
