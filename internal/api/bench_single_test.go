package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/opsmetrics"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// BenchmarkSingleEventHandler posts one event per request through rung
// serve's middleware and the ingest handler, without the network, one
// request at a time: each waits for its own durable commit, so the time is
// mostly the commit's; the figures to read are B/op and allocs/op, the
// garbage a single-event request leaves.
func BenchmarkSingleEventHandler(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "rung.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc, err := service.Open(ctx, st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "b")
	svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "P"})
	_, key, _ := svc.CreateAPIKey(ctx, "b", rung.ScopeAdmin, "b")
	log := slog.New(opsmetrics.WithRequestID(slog.NewTextHandler(io.Discard, nil)))
	h := opsmetrics.Middleware(New(svc, log), log)
	now := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	b.ReportAllocs()
	for i := range b.N {
		body := fmt.Sprintf(`{"id":"e%d","type":"deal.won","partner":"p1","member":"m%d","occurred_at":"%s","attrs":{"amount":1000}}`, i, i%100, now)
		req := httptest.NewRequest("POST", "/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
