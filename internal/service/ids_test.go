package service

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

// An event takes the engine's own strings for its partner and member ids,
// also after the member and the partner were written again: the engine's
// lookups by them then find the key equal at its pointer.
func TestEventsTakeTheEnginesStringsForTheirIds(t *testing.T) {
	s, path := setup(t)
	ctx := context.Background()
	fresh := func(id string) string { return strings.Clone(id) }
	if _, err := s.PutMember(ctx, rung.Member{ID: fresh("m1"), Partner: fresh("p1"), Name: "Ann B."}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPartner(ctx, rung.Partner{ID: fresh("p1"), Name: "Partner one, renamed"}); err != nil {
		t.Fatal(err)
	}
	in := win("w1", fresh("p1"), fresh("m1"), 100)
	res, err := s.Ingest(ctx, []*Incoming{in})
	if err != nil || res[0].Status != "accepted" {
		t.Fatalf("ingest: %v %+v", err, res)
	}
	sameStrings(t, s, in)
	// After a restart the engine's keys are the strings of the first
	// versions it loaded; the index takes them.
	s = restart(t, s, path)
	in = win("w2", fresh("p1"), fresh("m1"), 100)
	if res, err := s.Ingest(ctx, []*Incoming{in}); err != nil || res[0].Status != "accepted" {
		t.Fatalf("ingest after a restart: %v %+v", err, res)
	}
	sameStrings(t, s, in)
}

func sameStrings(t *testing.T, s *Service, in *Incoming) {
	t.Helper()
	key := func(ids []string, id string) string {
		i := slices.Index(ids, id)
		if i < 0 {
			t.Fatalf("%s is not in the engine", id)
		}
		return ids[i]
	}
	s.Read(func(e *engine.Engine) error {
		for _, c := range []struct{ name, got, key string }{
			{"partner", in.Event.Partner, key(e.PartnerIDs(), in.Event.Partner)},
			{"member", in.Event.Member, key(e.MemberIDs(""), in.Event.Member)},
		} {
			if unsafe.StringData(c.got) != unsafe.StringData(c.key) {
				t.Errorf("the event's %s id %q is not the engine's string for it", c.name, c.got)
			}
		}
		return nil
	})
}

// A retraction prepared in the same group as its event stores the event's
// body: the group's pending event points at its record, not a copy.
func TestRetractionInTheEventsGroupStoresItsBody(t *testing.T) {
	s, _ := setup(t)
	in := win("x", "p1", "m1", 2500)
	// Prepared on the writer, which owns the index, with nothing in flight.
	var g *prepared
	res := s.do(context.Background(), &request{kind: kindCustom, custom: func() error {
		g = s.prepareGroup([]*request{
			{kind: kindEvents, events: []*Incoming{in, win("y", "p1", "m1", 700)}},
			{kind: kindRetract, id: "x", by: "t"},
			{kind: kindRetract, id: "x", by: "t"},
		}, nil)
		return nil
	}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(g.b.Records) != 3 {
		t.Fatalf("%d records prepared, want the two events and one retraction", len(g.b.Records))
	}
	if err := g.group[2].out.err; rung.ErrorCode(err) != rung.ECONFLICT {
		t.Fatalf("a second retraction in the group: %v, want a conflict", err)
	}
	rec := g.b.Records[2]
	if !rec.Retracted || rec.Version != 2 || rec.Event.ID != "x" || rec.Event.Attrs["amount"] != 2500.0 || rec.Event.Member != "m1" {
		t.Fatalf("the retraction's record: %+v", rec)
	}
	if p := g.pd.events["x"]; p == nil || !p.retracted || p.ev != &rec.Event {
		t.Fatalf("the pending event after the retraction: %+v", p)
	}
}
