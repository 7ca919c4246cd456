package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/opsmetrics"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// BenchmarkLeaderboardHandler measures one leaderboard read through the
// whole handler (rung serve's request middleware with its log line, auth,
// engine read, JSON), without the network: top 100 and a rank of one, on a
// board of 20,000 members, and /healthz for the middleware alone.
func BenchmarkLeaderboardHandler(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "rung.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	svc, err := service.Open(ctx, st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "b")
	svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "P"})
	var in []*service.Incoming
	for i := 0; i < 20000; i++ {
		in = append(in, &service.Incoming{Event: rung.Event{ID: fmt.Sprint("e", i), Type: "deal.won", Partner: "p1",
			Member: fmt.Sprint("m", i), OccurredAt: now.Add(-time.Duration(i) * time.Second), Attrs: map[string]any{"amount": float64(i%5000) * 10}}})
		if len(in) == 5000 {
			svc.Ingest(ctx, in)
			in = nil
		}
	}
	_, key, _ := svc.CreateAPIKey(ctx, "b", rung.ScopeRead, "b")
	log := slog.New(opsmetrics.WithRequestID(opsmetrics.NewTextHandler(io.Discard)))
	h := opsmetrics.Middleware(New(svc, log), log)
	for _, c := range []struct{ name, path string }{
		{"top100", "/api/v1/leaderboards/q?limit=100"},
		{"around", "/api/v1/leaderboards/q?around=m777&limit=1"},
		{"healthz", "/healthz"},
	} {
		path := c.path
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatal(w.Code, w.Body.String())
					}
				}
			})
		})
	}
}
