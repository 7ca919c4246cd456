package service

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

func digestOf(s *Service) string {
	var d string
	s.Read(func(e *engine.Engine) error { d = e.Digest(now); return nil })
	return d
}

// TestStartFromSnapshotEqualsReplay writes a snapshot, writes more (new
// events, a correction, a retraction, a partner and member changed, an
// adjustment), restarts: the state loaded from the snapshot and caught up
// equals a full replay, and the writer's index knows every event.
func TestStartFromSnapshotEqualsReplay(t *testing.T) {
	s, path := setup(t)
	ctx := context.Background()
	if _, err := s.Ingest(ctx, []*Incoming{win("w1", "p1", "m1", 1000), win("w2", "p1", "m1", 2000), win("w3", "p2", "", 3000)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Adjust(ctx, rung.Adjustment{Partner: "p1", Member: "m1", Points: 7, Reason: "r", OccurredAt: now.Add(-time.Hour)}, "test"); err != nil {
		t.Fatal(err)
	}
	info, _, err := s.WriteSnapshot(ctx)
	if err != nil || info.Size == 0 {
		t.Fatalf("snapshot: %+v, %v", info, err)
	}
	if _, err := s.Ingest(ctx, []*Incoming{win("w1", "p1", "m1", 1500), win("w4", "p2", "", 500)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retract(ctx, "w2", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPartner(ctx, rung.Partner{ID: "p2", Name: "Partner two"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutMember(ctx, rung.Member{ID: "m2", Partner: "p2", Name: "Bo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Adjust(ctx, rung.Adjustment{Partner: "p2", Points: -3, Reason: "r", OccurredAt: now.Add(-time.Hour)}, "test"); err != nil {
		t.Fatal(err)
	}
	want := digestOf(s)
	s.Close()
	s.Store().Close()

	r := open(t, path)
	if r.fromSnapshot.ID != info.ID {
		t.Fatalf("start-up did not use the snapshot (%+v)", r.fromSnapshot)
	}
	if got := digestOf(r); got != want {
		t.Fatalf("loaded from the snapshot and caught up differs from the state before the restart")
	}
	if e, _ := r.idx.events.get("w2"); !e.retracted || e.version != 2 {
		t.Errorf("w2 in the index: %+v", e)
	}
	if e, _ := r.idx.events.get("w1"); e.version != 2 {
		t.Errorf("w1 in the index: %+v", e)
	}
	if !r.idx.adjustments[findAdjustment(t, r, "p1")] {
		t.Errorf("the index lacks the adjustment from before the snapshot")
	}
	// The same event again is a duplicate; a full replay gives the same.
	res, err := r.Ingest(ctx, []*Incoming{win("w4", "p2", "", 500)})
	if err != nil || res[0].Status != string(engine.StatusDuplicate) {
		t.Fatalf("w4 again: %+v, %v", res, err)
	}
	if _, _, err := r.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if got := digestOf(r); got != want {
		t.Fatalf("a full replay differs from the state loaded from the snapshot")
	}
}

func findAdjustment(t *testing.T, s *Service, partner string) string {
	as, err := s.Store().Adjustments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Partner == partner {
			return a.ID
		}
	}
	t.Fatal("no adjustment")
	return ""
}

// TestSnapshotThatDoesNotFitIsReplayed: damaged bytes, or a program
// applied after the snapshot, make start-up replay the log.
func TestSnapshotThatDoesNotFitIsReplayed(t *testing.T) {
	s, path := setup(t)
	ctx := context.Background()
	if _, err := s.Ingest(ctx, []*Incoming{win("w1", "p1", "m1", 1000)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.WriteSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	want := digestOf(s)
	latest, err := s.Store().LatestSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Damaged bytes under a row that fits.
	bad := latest
	if _, err := s.Store().PutSnapshot(ctx, bad, stringsReader("RUNGSNAP\x01\x00\x00\x00garbage")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Store().Close()
	r := open(t, path)
	if r.fromSnapshot.ID != 0 || digestOf(r) != want {
		t.Fatalf("a damaged snapshot was used, or the replay differs")
	}
	// A snapshot, then a new program: replayed.
	if _, _, err := r.WriteSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplyProgram(ctx, []byte(testProgram+"\n"), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	want = digestOf(r)
	r.Close()
	r.Store().Close()
	r2 := open(t, path)
	if r2.fromSnapshot.ID != 0 || digestOf(r2) != want {
		t.Fatalf("a snapshot of other program versions was used, or the replay differs")
	}
}

type byteReader struct {
	b []byte
}

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func stringsReader(s string) io.Reader { return &byteReader{b: []byte(s)} }
