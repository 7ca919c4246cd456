// Package cputime reads the CPU time the process has used, for benchmarks
// that report CPU per operation: on a machine shared with other work the
// wall-clock rate of a benchmark varies from run to run, the CPU an
// operation costs much less.
package cputime

import "time"

// Since returns the process CPU time used since start (a Process value).
func Since(start time.Duration) time.Duration { return Process() - start }
