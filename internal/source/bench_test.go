package source

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// BenchmarkParseHubSpot measures reading a full HubSpot batch: 100
// property changes of 25 deals.
func BenchmarkParseHubSpot(b *testing.B) {
	var parts []string
	for i := range 100 {
		parts = append(parts, fmt.Sprintf(`{"eventId":%d,"subscriptionId":1,"portalId":62515,"appId":1,"occurredAt":%d,"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":%d,"propertyName":"p%d","propertyValue":"v%d","changeSource":"CRM"}`,
			i, 1794994200000+int64(i), 1000+i%25, i%4, i))
	}
	body := []byte("[" + strings.Join(parts, ",") + "]")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseHubSpot(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportHubSpotCSV measures a 1,000-row HubSpot deals export
// imported end to end on SQLite: parse, record state, mapping, ingest.
// Each iteration imports new records.
func BenchmarkImportHubSpotCSV(b *testing.B) {
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
	if _, err := svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "bench"); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", JoinedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	x := New(svc, slog.New(slog.DiscardHandler), Secrets{})
	const rows = 1000
	n := 0
	for b.Loop() {
		var sb strings.Builder
		sb.WriteString("Record ID,Deal Name,Deal Stage,Amount,partner_id,Close Date\n")
		for range rows {
			n++
			fmt.Fprintf(&sb, "%d,Deal %d,closedwon,%d,p1,2026-11-18\n", n, n, 1000+n%5000)
		}
		res, err := x.Receive(ctx, Request{Kind: KindHubSpotCSV, Body: []byte(sb.String())})
		if err != nil || res.Status != "applied" || len(res.Events) != rows {
			b.Fatalf("import: %v %s %d", err, res.Reason, len(res.Events))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
