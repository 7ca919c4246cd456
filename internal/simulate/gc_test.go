package simulate

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestPauseGCBoundsTheHeap: a simulation pauses the collector under a
// memory limit (package gcpause has the sharing), and with no limit and no
// size to set one by it leaves the collector running.
func TestPauseGCBoundsTheHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	a := pauseGC(1000)
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("GC percent during a simulation = %d, want -1 (paused)", p)
	}
	if l := debug.SetMemoryLimit(-1); l == math.MaxInt64 {
		t.Fatal("no memory limit while the collector is paused")
	}
	a()
	if p := debug.SetGCPercent(150); p != 150 {
		t.Fatalf("GC percent after = %d, want 150", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Fatalf("memory limit after = %d, want none", l)
	}

	d := pauseGC(0)
	if p := debug.SetGCPercent(150); p != 150 {
		t.Fatalf("GC percent with nothing to bound the heap = %d, want 150 (running)", p)
	}
	d()
}
