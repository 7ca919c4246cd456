package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
)

// TestBoardOffersEveryCohort: the leaderboard's cohort picker lists every
// cohort ranked on the board, also one whose partners all rank below the
// first 1,000 rows (the picker read only those).
func TestBoardOffersEveryCohort(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	now := e.clock.Now()
	var in []*service.Incoming
	add := func(id, size string, score float64) {
		p := rung.Partner{ID: id, Name: "Partner " + id, Size: size, JoinedAt: now.AddDate(-1, 0, 0)}
		if _, err := e.svc.PutPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
		in = append(in, &service.Incoming{Event: rung.Event{ID: "survey:" + id, Type: "survey.csat", Partner: id,
			OccurredAt: now.Add(-time.Hour), Attrs: map[string]any{"score": score}}})
	}
	for i := range 1001 {
		add(fmt.Sprintf("bulk-%04d", i), "bulk", 5)
	}
	add("rare-one", "rare", 1)
	if _, err := e.svc.Ingest(ctx, in); err != nil {
		t.Fatal(err)
	}
	admin := e.staff(adminEmail, adminPassword)
	_, body := admin.get("/admin/leaderboards/partner-points-quarter")
	if !strings.Contains(body, `<option value="bulk"`) || !strings.Contains(body, "1,007 ranked") {
		t.Fatalf("the board does not rank the test's partners")
	}
	if !strings.Contains(body, `<option value="rare"`) {
		t.Errorf("the picker lacks the cohort ranked below row 1,000")
	}
}
