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
