package simulate

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestPauseGCOverlapsAndRestores: overlapping simulations pause the
// collector together, under a memory limit, and the last to resume gives
// back the settings from before the first.
func TestPauseGCOverlapsAndRestores(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	a := pauseGC(1000)
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("GC percent during a simulation = %d, want -1 (paused)", p)
	}
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		t.Fatalf("no memory limit while the collector is paused")
	}
	b := pauseGC(1000)
	a()
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("GC percent while a second simulation runs = %d, want -1", p)
	}
	if l := debug.SetMemoryLimit(-1); l != limit {
		t.Fatalf("memory limit while a second simulation runs = %d, want %d", l, limit)
	}
	b()
	if p := debug.SetGCPercent(150); p != 150 {
		t.Fatalf("GC percent after both = %d, want 150", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Fatalf("memory limit after both = %d, want none", l)
	}

	// With no limit and no size to set one by, the collector runs.
	d := pauseGC(0)
	if p := debug.SetGCPercent(150); p != 150 {
		t.Fatalf("GC percent with nothing to bound the heap = %d, want 150 (running)", p)
	}
	d()

	// A limit that applies is kept.
	debug.SetMemoryLimit(8 << 30)
	c := pauseGC(1000)
	if l := debug.SetMemoryLimit(-1); l != 8<<30 {
		t.Fatalf("memory limit during a simulation = %d, want the one set (%d)", l, 8<<30)
	}
	c()
	if p := debug.SetGCPercent(150); p != 150 {
		t.Fatalf("GC percent after = %d, want 150", p)
	}
}
