package web

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
)

// TestConsoleCountsEveryQuestCompletion: the console's "N completed" of a
// quest counts every subject that completed it, not those of the first
// 1,000 rows of its standings (it read one page of 1,000 and counted
// there).
func TestConsoleCountsEveryQuestCompletion(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	now := e.clock.Now()
	var in []*service.Incoming
	for i := range 1010 {
		p := e.data.Partners[i%len(e.data.Partners)]
		id := fmt.Sprintf("seller-%04d", i)
		m := rung.Member{ID: id, Partner: p.ID, Name: "Sam Seller", Role: "sales", JoinedAt: now.AddDate(0, 0, -30)}
		if _, err := e.svc.PutMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		at := now.AddDate(0, 0, -20)
		for j, attrs := range []map[string]any{
			{"course": "cloud-fundamentals", "score": 90},
			{"course": "selling-acme-cloud", "score": 90},
			{"cert": "sales"},
		} {
			typ := "training.completed"
			if j == 2 {
				typ = "certification.earned"
			}
			in = append(in, &service.Incoming{Event: rung.Event{ID: fmt.Sprintf("lms:%s:%d", id, j), Type: typ, Partner: p.ID, Member: id,
				OccurredAt: at.Add(time.Duration(j) * time.Hour), Attrs: attrs}})
		}
	}
	if _, err := e.svc.Ingest(ctx, in); err != nil {
		t.Fatal(err)
	}
	want := 0
	e.svc.Read(func(en *engine.Engine) error {
		for off := 0; ; off += 1000 {
			cs, err := en.Challenge("field-ready", engine.ChallengeQuery{Limit: 1000, Offset: off, AsOf: now})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range cs.Entries {
				if !x.CompletedAt.IsZero() {
					want++
				}
			}
			if off+len(cs.Entries) >= cs.Total || len(cs.Entries) == 0 {
				return nil
			}
		}
	})
	if want <= 1000 {
		t.Fatalf("only %d completed the quest: the test needs more than one page", want)
	}
	admin := e.staff(adminEmail, adminPassword)
	_, body := admin.get("/admin/challenges")
	m := regexp.MustCompile(`(?s)<tr id="row-field-ready">.*?([0-9,]+) completed`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no completions shown for field-ready")
	}
	if got, w := m[1], (&Locale{Lang: "en"}).Num(want); got != w {
		t.Errorf("field-ready: %s completed shown, want %s", got, w)
	}
}
