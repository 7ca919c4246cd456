package gcpause

import (
	"math"
	"runtime/debug"
	"testing"
)

func percent(t *testing.T) int {
	t.Helper()
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

func limit() int64 { return debug.SetMemoryLimit(-1) }

// Overlapping pauses stop the collector together, under a memory limit
// when none was set, and the last to resume gives back the settings from
// before the first; a second call of resume changes nothing.
func TestOverlappingPausesRestoreTheSettings(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	a := Pause(1 << 30)
	if p := percent(t); p != -1 {
		t.Fatalf("GC percent during a pause = %d, want -1", p)
	}
	first := limit()
	if first == math.MaxInt64 {
		t.Fatal("no memory limit while the collector is paused with room to grow")
	}
	b := Pause(1 << 30)
	if l := limit(); l != first+1<<30 {
		t.Fatalf("memory limit with a second pause = %d, want %d (raised by its room)", l, first+1<<30)
	}
	a()
	a()
	if p := percent(t); p != -1 {
		t.Fatalf("GC percent while the second pause lasts = %d, want -1", p)
	}
	b()
	if p := percent(t); p != 150 {
		t.Fatalf("GC percent after both = %d, want 150", p)
	}
	if l := limit(); l != math.MaxInt64 {
		t.Fatalf("memory limit after both = %d, want none", l)
	}
}

// A limit in force is kept as it is, and a pause without room to grow
// sets none.
func TestPauseKeepsALimitInForce(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(8 << 30))
	c := Pause(1 << 30)
	if l := limit(); l != 8<<30 {
		t.Fatalf("memory limit during a pause = %d, want the one in force (%d)", l, 8<<30)
	}
	c()
	debug.SetMemoryLimit(math.MaxInt64)
	d := Pause(0)
	if l := limit(); l != math.MaxInt64 {
		t.Fatalf("memory limit during a pause without room = %d, want none", l)
	}
	if p := percent(t); p != -1 {
		t.Fatalf("GC percent during a pause without room = %d, want -1", p)
	}
	d()
	if p := percent(t); p != 150 {
		t.Fatalf("GC percent after = %d, want 150", p)
	}
}

// A percentage someone else sets during a pause stays after it.
func TestPauseKeepsAPercentSetMeanwhile(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	r := Pause(0)
	debug.SetGCPercent(400)
	r()
	if p := percent(t); p != 400 {
		t.Fatalf("GC percent after = %d, want 400 (set during the pause)", p)
	}
}
