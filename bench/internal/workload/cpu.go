package workload

import "github.com/rung-dev/rung/internal/cputime"

// ProcessCPU is the CPU time, in seconds, this process has used so far
// (user and system; 0 where it is not measured), so a script can tell the
// load generator's share of the machine from the server's and from other
// processes'.
func ProcessCPU() float64 { return cputime.Process().Seconds() }
