package api

import (
	"io"
	"net/http"
	"sync"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/analytics"
	"github.com/rung-dev/rung/internal/analytics/collect"
)

// The analytics endpoints (docs/analytics.md): GET
// /api/v1/analytics/{engagement,points,outcomes,rewards,tiers,indicators}
// with from, to and cohort; JSON, or CSV with format=csv.

// analyticsState is the API's analytics collector, made on first use
// unless UseAnalytics shared the console's.
type analyticsState struct {
	once sync.Once
	c    *collect.Collector
}

func (h *Handler) analyticsRoutes() {
	for name, fn := range map[string]func(*analytics.Snapshot, analytics.Query, collect.Sources) report{
		"engagement": func(s *analytics.Snapshot, q analytics.Query, _ collect.Sources) report {
			return analytics.EngagementOf(s, q)
		},
		"points": func(s *analytics.Snapshot, q analytics.Query, _ collect.Sources) report {
			return analytics.PointsOf(s, q)
		},
		"outcomes": func(s *analytics.Snapshot, q analytics.Query, src collect.Sources) report {
			return analytics.OutcomesOf(s, q, src.Challenges)
		},
		"rewards": func(s *analytics.Snapshot, q analytics.Query, src collect.Sources) report {
			return analytics.RewardsOf(s, q, src.Rewards)
		},
		"tiers": func(s *analytics.Snapshot, q analytics.Query, src collect.Sources) report {
			return analytics.TiersOf(s, q, src.Tiers)
		},
		"indicators": func(s *analytics.Snapshot, q analytics.Query, _ collect.Sources) report {
			return analytics.IndicatorsOf(s, q)
		},
	} {
		h.mux.Handle("GET /api/v1/analytics/"+name, h.auth(rung.ScopeRead, h.analyticsReport(name, fn)))
	}
}

// report is any of the analytics reports.
type report interface{ WriteCSV(io.Writer) error }

// UseAnalytics makes the API read its analytics from c (shared with the
// console) instead of a collector of its own.
// Call it before serving.
func (h *Handler) UseAnalytics(c *collect.Collector) { h.an.once.Do(func() { h.an.c = c }) }

func (h *Handler) analytics() *collect.Collector {
	h.an.once.Do(func() { h.an.c = collect.New(h.svc, h.log) })
	return h.an.c
}

func (h *Handler) analyticsReport(name string, fn func(*analytics.Snapshot, analytics.Query, collect.Sources) report) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		format := r.URL.Query().Get("format")
		if format != "" && format != "json" && format != "csv" {
			writeError(w, rung.Errorf(rung.EINVALID, "format=%q: use json (the default) or csv", format))
			return
		}
		c := h.analytics()
		s, err := c.Snapshot(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		qv := r.URL.Query()
		q, err := analytics.ParseQuery(qv.Get("from"), qv.Get("to"), qv.Get("cohort"), h.svc.Now(), s.Loc)
		if err != nil {
			writeError(w, err)
			return
		}
		rep := fn(s, q, c.Sources)
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="rung-`+name+`-`+q.From.Format("2006-01-02")+`.csv"`)
			if err := rep.WriteCSV(w); err != nil {
				h.log.Warn("api: writing analytics CSV", "report", name, "err", err)
			}
			return
		}
		writeJSON(w, http.StatusOK, rep)
	}
}
