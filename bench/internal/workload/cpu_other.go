//go:build !unix

package workload

// ProcessCPU is not measured on this system.
func ProcessCPU() float64 { return 0 }
