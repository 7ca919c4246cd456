//go:build !linux

package memhint

// Start does nothing here: huge pages are asked for on Linux only.
func Start() (stop func()) { return func() {} }

// Advise does nothing here and returns 0.
func Advise() int { return 0 }
