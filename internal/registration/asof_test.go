package registration

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/store"
)

// comparable is what AsOf must give back as it stood: everything but
// what a later change overwrites without keeping (notes, the amount a win
// reports, version, possible matches).
func comparable(r store.Registration) store.Registration {
	r.Notes, r.Amount, r.Version, r.Matches, r.Conflicts = "", 0, 0, nil, nil
	return r
}

// TestAsOfRewindsToEachRecordedState walks registrations through their
// states, keeps what the store held after each step, and checks that the
// final registration rewound to each step's time is exactly that.
func TestAsOfRewindsToEachRecordedState(t *testing.T) {
	f := newFixture(t, PolicyManual)
	ctx := context.Background()
	type snap struct {
		at time.Time
		r  store.Registration
	}
	var snaps []snap
	keep := func(r store.Registration) {
		snaps = append(snaps, snap{f.clock.now(), f.must(f.desk.Get(ctx, r.ID))})
		f.clock.add(3 * time.Hour)
	}
	beforeAll := f.clock.now().Add(-time.Second)
	r := f.submit(input("p1", "Initech", "initech.com"))
	keep(r)
	keep(f.must(f.desk.Decide(ctx, r.ID, "needs_info", "which product?", "admin")))
	keep(f.must(f.desk.Answer(ctx, r.ID, "Product X", "partner")))
	keep(f.must(f.desk.Decide(ctx, r.ID, "approve", "", "admin")))
	keep(f.must(f.desk.Meeting(ctx, r.ID, time.Time{}, "partner")))
	keep(f.must(f.desk.Close(ctx, r.ID, true, 75000, "", "crm")))

	final := f.must(f.desk.Get(ctx, r.ID))
	if _, ok := AsOf(final, beforeAll); ok {
		t.Fatalf("AsOf before the submission = found, want not found")
	}
	for i, s := range snaps {
		for _, at := range []time.Time{s.at, s.at.Add(time.Hour)} {
			got, ok := AsOf(final, at)
			if !ok {
				t.Fatalf("step %d: AsOf(%s) not found", i, at)
			}
			if want := comparable(s.r); !reflect.DeepEqual(comparable(got), want) {
				t.Fatalf("step %d (%s) as of %s:\n got %+v\nwant %+v", i, s.r.Status, at, comparable(got), want)
			}
		}
	}
	if got, _ := AsOf(final, time.Time{}); !reflect.DeepEqual(got, final) {
		t.Fatalf("AsOf(zero) changed the registration")
	}
}

// TestAsOfConflicts checks a conflict pair appears when the second
// registration came, and its settlement when it was settled.
func TestAsOfConflicts(t *testing.T) {
	f := newFixture(t, PolicyManual)
	ctx := context.Background()
	a := f.submit(input("p1", "Globex", "globex.com"))
	f.clock.add(time.Hour)
	tPair := f.clock.now()
	b := f.submit(input("p2", "Globex GmbH", "www.globex.com"))
	if len(b.Conflicts) != 1 {
		t.Fatalf("conflicts = %+v", b.Conflicts)
	}
	f.clock.add(time.Hour)
	tSettled := f.clock.now()
	f.must(f.desk.SettleConflict(ctx, a.ID, a.ID, "the customer confirmed Alpha", "admin"))
	final := f.must(f.desk.Get(ctx, a.ID))
	lost := f.must(f.desk.Get(ctx, b.ID))
	if len(final.Conflicts) != 1 || final.Conflicts[0].Winner != a.ID || lost.Status != store.RegDeclined {
		t.Fatalf("after settling: %+v / %s", final.Conflicts, lost.Status)
	}
	tests := []struct {
		name      string
		at        time.Time
		conflicts int
		winner    string
		bStatus   string
	}{
		{"before the second registration", tPair.Add(-time.Minute), 0, "", ""},
		{"contested", tPair.Add(time.Minute), 1, "", store.RegSubmitted},
		{"settled", tSettled.Add(time.Minute), 1, a.ID, store.RegDeclined},
	}
	for _, tc := range tests {
		got, _ := AsOf(final, tc.at)
		if len(got.Conflicts) != tc.conflicts || tc.conflicts > 0 && got.Conflicts[0].Winner != tc.winner {
			t.Errorf("%s: conflicts = %+v, want %d won by %q", tc.name, got.Conflicts, tc.conflicts, tc.winner)
		}
		gb, ok := AsOf(lost, tc.at)
		if ok != (tc.bStatus != "") || ok && gb.Status != tc.bStatus {
			t.Errorf("%s: the other registration = %v %s, want %q", tc.name, ok, gb.Status, tc.bStatus)
		}
	}
}
