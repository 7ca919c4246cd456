package cputime

import (
	"runtime"
	"testing"
)

func TestProcessGrowsWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("CPU time is not read on " + runtime.GOOS)
	}
	start := Process()
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	if d := Since(start); d <= 0 {
		t.Errorf("CPU time did not grow over a busy loop (%d): %v", x, d)
	}
}
