package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

var tierTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"TierRecordsAddIsIdempotent", testTierRecordsAddIsIdempotent},
	{"TierRecordUpdateChecksState", testTierRecordUpdateChecksState},
}

func testTierRecordsAddIsIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2027, 1, 11, 0, 0, 0, 0, time.UTC)
	recs := []store.TierRecord{
		{ID: "decision:2026-Q4:p2", Kind: store.TierDecision, Partner: "p2", Quarter: "2026-Q4", At: at, Body: []byte(`{"to":"Select"}`)},
		{ID: "decision:2026-Q4:p1", Kind: store.TierDecision, Partner: "p1", Quarter: "2026-Q4", At: at, Body: []byte(`{"to":"Elite"}`)},
		{ID: "nudge:p1:Elite:2026-Q4", Kind: store.TierNudge, Partner: "p1", Quarter: "2026-Q4", At: at.Add(-time.Hour), Body: []byte(`{}`)},
	}
	before, _ := s.LastChange(ctx)
	n, err := s.AddTierRecords(ctx, recs)
	if err != nil || n != 3 {
		t.Fatalf("add = %d, %v; want 3 new", n, err)
	}
	after, _ := s.LastChange(ctx)
	if after <= before {
		t.Fatalf("adding tier records recorded no change (%d → %d)", before, after)
	}
	// Again, with one changed body: nothing changes.
	again := append([]store.TierRecord(nil), recs...)
	again[0].Body = []byte(`{"to":"Registered"}`)
	if n, err := s.AddTierRecords(ctx, again); err != nil || n != 0 {
		t.Fatalf("second add = %d, %v; want 0", n, err)
	}
	if last, _ := s.LastChange(ctx); last != after {
		t.Fatalf("an add that changed nothing recorded a change")
	}
	all, err := s.TierRecords(ctx, "")
	if err != nil || len(all) != 3 {
		t.Fatalf("all = %+v, %v", all, err)
	}
	if all[0].Kind != store.TierNudge || all[1].ID != "decision:2026-Q4:p1" || all[2].ID != "decision:2026-Q4:p2" {
		t.Fatalf("order (by at, then id) = %s, %s, %s", all[0].ID, all[1].ID, all[2].ID)
	}
	if string(all[2].Body) != `{"to":"Select"}` || !all[2].At.Equal(at) || all[2].Partner != "p2" || all[2].Quarter != "2026-Q4" {
		t.Fatalf("round trip = %+v", all[2])
	}
	ds, err := s.TierRecords(ctx, store.TierDecision)
	if err != nil || len(ds) != 2 {
		t.Fatalf("decisions = %d, %v", len(ds), err)
	}
	if _, err := s.AddTierRecords(ctx, []store.TierRecord{{ID: "x", Kind: store.TierNudge, At: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}}); rung.ErrorCode(err) != rung.EINVALID {
		t.Fatalf("out of range time: %v", err)
	}
}

func testTierRecordUpdateChecksState(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2027, 1, 20, 9, 0, 0, 0, time.UTC)
	a := store.TierRecord{ID: "appeal-1", Kind: store.TierAppeal, Partner: "p1", Quarter: "2026-Q4", State: "open", At: at, Body: []byte(`{"text":"x"}`)}
	if _, err := s.AddTierRecords(ctx, []store.TierRecord{a}); err != nil {
		t.Fatal(err)
	}
	a.State, a.Body, a.At = "overturned", []byte(`{"tier":"Select"}`), at.Add(time.Hour)
	if err := s.UpdateTierRecord(ctx, "open", a); err != nil {
		t.Fatalf("decide: %v", err)
	}
	if err := s.UpdateTierRecord(ctx, "open", a); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Fatalf("decide again: %v, want ECONFLICT", err)
	}
	a.ID = "appeal-missing"
	if err := s.UpdateTierRecord(ctx, "open", a); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Fatalf("unknown appeal: %v, want ENOTFOUND", err)
	}
	got, _ := s.TierRecords(ctx, store.TierAppeal)
	if len(got) != 1 || got[0].State != "overturned" || string(got[0].Body) != `{"tier":"Select"}` || !got[0].At.Equal(at.Add(time.Hour)) {
		t.Fatalf("after update = %+v", got)
	}
}
