package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/analytics"
	"github.com/rung-dev/rung/internal/analytics/collect"
	"github.com/rung-dev/rung/internal/cputime"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
)

// BenchmarkAnalyticsPage100k renders each analytics page (the handler
// alone, no network) over the demo history of 10,000 partners and 100,000
// members (three months, the default 13-week period). The snapshot is
// built once from an in-memory replay, as the collector keeps it between
// refreshes; the time is what a request costs. The target is 200 ms a page;
// cpu-ms/op is the CPU a page takes, which varies less on a shared machine.
//
//	go test ./internal/web -run '^$' -bench AnalyticsPage100k -benchtime 10x
func BenchmarkAnalyticsPage100k(b *testing.B) {
	now := time.Now().UTC().Truncate(time.Second)
	start := time.Now()
	snap := replaySnapshot(b, demo.Options{Seed: 3, Partners: 10000, Members: 100000, Months: 3, Now: now})
	b.Logf("snapshot: %d partners, %d members, %d events, %d awards; built in %v",
		len(snap.Partners), len(snap.Members), len(snap.Events), len(snap.Awards), time.Since(start).Round(time.Millisecond))
	e := newEnv(b, envOptions{})
	e.web.an.once.Do(func() { e.web.an.c = collect.Static(snap) })
	admin := e.staff(adminEmail, adminPassword)
	u, _ := url.Parse(e.srv.URL)
	cookies := admin.hc.Jar.Cookies(u)
	for _, section := range analyticsSections {
		for _, cohort := range []string{"", "region:emea"} {
			path := "/admin/analytics/" + section + "?cohort=" + url.QueryEscape(cohort)
			b.Run(section+map[string]string{"": "", "region:emea": "-emea"}[cohort], func(b *testing.B) {
				cpu := cputime.Process()
				for i := 0; i < b.N; i++ {
					req := httptest.NewRequest("GET", path, nil)
					for _, c := range cookies {
						req.AddCookie(c)
					}
					w := httptest.NewRecorder()
					e.web.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("%s: %d", path, w.Code)
					}
				}
				b.ReportMetric(float64(cputime.Since(cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// replaySnapshot generates a demo history, replays it in an engine and
// builds the analytics snapshot of it.
func replaySnapshot(tb testing.TB, o demo.Options) *analytics.Snapshot {
	tb.Helper()
	d := demo.Generate(o)
	p, err := program.Parse(demo.Program)
	if err != nil {
		tb.Fatal(err)
	}
	e := engine.New()
	e.SetVersions([]*engine.Version{{N: 1, From: time.Unix(0, 0), Program: p}}, o.Now)
	for _, pt := range d.Partners {
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: pt})
	}
	for _, m := range d.Members {
		m.Memberships = []rung.Membership{{Partner: m.Partner, JoinedAt: m.JoinedAt}}
		e.PutMember(m)
	}
	e.BeginBulk(len(d.Events))
	for i := range d.Events {
		e.Apply(&rung.Record{Seq: int64(i + 1), Version: 1, Event: d.Events[i]})
	}
	e.EndBulk(o.Now)
	return collect.FromEngine(e, d.Events)
}
