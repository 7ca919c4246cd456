package service

import (
	"context"
	"maps"
	"runtime/debug"
	"testing"
)

// TestLoadIndexAgreesWithEngine checks that the writer's index of events
// built while the log is replayed at start-up (eventIndexer) is the one
// read from the engine after it: new versions and retractions included.
func TestLoadIndexAgreesWithEngine(t *testing.T) {
	s, path := setup(t)
	ctx := context.Background()
	for _, in := range [][]*Incoming{
		{win("w1", "p1", "m1", 1000), win("w2", "p1", "m1", 2000), win("w3", "p2", "", 3000)},
		{win("w1", "p1", "m1", 1500)}, // a new version
	} {
		if _, err := s.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Retract(ctx, "w2", "test"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Store().Close()

	r := open(t, path)
	if r.base.events == nil {
		t.Fatal("load built no index of events")
	}
	fromEngine := newIndex(r.eng, loaded{adjustments: map[string]bool{}}).events
	if loaded, read := r.idx.events.toMap(), fromEngine.toMap(); len(read) != 3 || !maps.Equal(loaded, read) {
		t.Errorf("index built while loading:\n%v\nread from the engine:\n%v", loaded, read)
	}
	if e, _ := r.idx.events.get("w2"); !e.retracted || e.version != 2 {
		t.Errorf("w2 in the index: %+v, want retracted at version 2", e)
	}
	if e, _ := r.idx.events.get("w1"); e.version != 2 {
		t.Errorf("w1 in the index: %+v, want version 2", e)
	}
}

// TestPauseGCNests checks that overlapping loads resume the collector when
// the last one ends, with the setting from before the first.
func TestPauseGCNests(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	a := pauseGC()
	b := pauseGC()
	a()
	a() // a second call changes nothing
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("after one of two loads ended: GC percent %d, want -1 (off)", got)
	}
	b()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("after both loads ended: GC percent %d, want 150", got)
	}
}
