package service

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/rung-dev/rung"
)

func keys(m map[string]struct{}) []string { return slices.Sorted(maps.Keys(m)) }

// The applier notes ids with repeats; Take makes them sets, and what a
// step puts back is taken again.
func TestTouchTrackerTakesEachSubjectOnce(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	k := s.TrackTouched()
	if got := k.Take(); !got.All {
		t.Fatalf("a new tracker takes %+v, want All", got)
	}
	if got := k.Take(); !got.Empty() {
		t.Fatalf("nothing written since the last take, took %+v", got)
	}
	if _, err := s.PutMember(ctx, rung.Member{ID: "m2", Partner: "p2", Name: "Bo"}); err != nil {
		t.Fatal(err)
	}
	var in []*Incoming
	for i := range 40 {
		m, p := "m1", "p1"
		if i%3 == 0 {
			m, p = "m2", "p2"
		}
		in = append(in, win(fmt.Sprintf("w%d", i), p, m, 100))
	}
	in = append(in, win("w-partner", "p2", "", 100))
	if _, err := s.Ingest(ctx, in); err != nil {
		t.Fatal(err)
	}
	s.drain()
	got := k.Take()
	if got.All || !slices.Equal(keys(got.Members), []string{"m1", "m2"}) || !slices.Equal(keys(got.Partners), []string{"p1", "p2"}) {
		t.Fatalf("took members %v, partners %v (all %v); want m1, m2 and p1, p2", keys(got.Members), keys(got.Partners), got.All)
	}
	if again := k.Take(); !again.Empty() {
		t.Fatalf("a second take gave %+v, want nothing", again)
	}
	// A step that failed puts what it took back; writes meanwhile add to it.
	k.Put(got)
	if _, err := s.Ingest(ctx, []*Incoming{win("w-late", "p1", "m1", 100)}); err != nil {
		t.Fatal(err)
	}
	s.drain()
	back := k.Take()
	if !slices.Equal(keys(back.Members), []string{"m1", "m2"}) || !slices.Equal(keys(back.Partners), []string{"p1", "p2"}) {
		t.Fatalf("after a put back, took members %v, partners %v", keys(back.Members), keys(back.Partners))
	}
	// A program applied touches everything.
	if _, err := s.ApplyProgram(ctx, []byte(testProgram), now, "test"); err != nil {
		t.Fatal(err)
	}
	s.drain()
	if all := k.Take(); !all.All {
		t.Fatalf("after a program was applied, took %+v, want All", all)
	}
}

// A producer that lags lets the noted ids pile up: past maxNoted they are
// sorted into sets where the applier notes them, none lost; past
// maxTouched distinct subjects the tracker says All.
func TestTouchTrackerBoundsWhatItNotes(t *testing.T) {
	k := &TouchTracker{}
	note := func(n, distinct int) {
		for i := range n {
			k.member(fmt.Sprintf("m%d", i%distinct))
			if i%100 == 0 {
				k.partner(fmt.Sprintf("p%d", i%7))
			}
		}
		k.cap()
	}
	note(maxNoted+10, 1000)
	if len(k.members)+len(k.partners) > maxNoted {
		t.Fatalf("%d ids noted after a cap, want at most %d", len(k.members)+len(k.partners), maxNoted)
	}
	note(50, 2000) // ids after the fold: some new, some in the sets already
	got := k.Take()
	if got.All || len(got.Members) != 1000 || len(got.Partners) != 7 {
		t.Fatalf("took %d members and %d partners (all %v), want 1,000 and 7", len(got.Members), len(got.Partners), got.All)
	}
	for i := range 1000 {
		if _, ok := got.Members[fmt.Sprintf("m%d", i)]; !ok {
			t.Fatalf("m%d was lost", i)
		}
	}
	note(maxNoted+1, maxTouched+1)
	if got := k.Take(); !got.All {
		t.Fatalf("%d distinct members noted, took %d, want All", maxTouched+1, len(got.Members))
	}
	// Under the bound on what is noted, Take alone says All past maxTouched.
	k.Take()
	note(maxTouched+1, maxTouched+1)
	if got := k.Take(); !got.All {
		t.Fatalf("%d distinct members noted, took %d, want All", maxTouched+1, len(got.Members))
	}
	if got := k.Take(); !got.Empty() {
		t.Fatalf("after an All take, took %+v", got)
	}
}
