package web

import (
	"bytes"
	"net/http"
	"slices"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/registration"
	"github.com/rung-dev/rung/internal/store"
)

// regMetricsData is the console's page of the seven registration metrics.
type regMetricsData struct {
	Period       string   // a quarter label, or "" for all time
	Quarters     []string // the pickable quarters, newest first
	Segment      string   // "" (by partner), type, region or size
	Segments     []regSegment
	SegmentLabel string
	Overall      registration.Metrics
	Groups       []regMetricsGroup
	Currency     string
}

// regSegment is a way to group partners, named in the viewer's language.
type regSegment struct{ Key, Label string }

func regSegments(l *Locale) []regSegment {
	return []regSegment{{"type", l.T("Partner type")}, {"region", l.T("Region")}, {"size", l.T("Size")}}
}

type regMetricsGroup struct {
	Key string
	M   registration.Metrics
}

// regPeriod reads ?period= (a quarter label of the program) and returns
// its bounds, and the last four quarters for a picker.
func (h *Handler) regPeriod(r *http.Request) (label string, from, to time.Time, quarters []string, err error) {
	var cal *program.Calendar
	h.svc.Read(func(e *engine.Engine) error { cal = e.Calendar(); return nil })
	// Each quarter from the one before the start of the last (three
	// months back from 31 December is 1 October, the same quarter).
	t := h.svc.Now()
	for range 4 {
		q := cal.QuarterLabel(t)
		quarters = append(quarters, q)
		start, _, _ := cal.ParseQuarter(q)
		t = start.Add(-time.Hour)
	}
	label = r.URL.Query().Get("period")
	if label == "" {
		return "", time.Time{}, time.Time{}, quarters, nil
	}
	if from, to, err = cal.ParseQuarter(label); err != nil {
		return "", from, to, quarters, rung.Errorf(rung.EINVALID, "period=%q is not a quarter such as 2026-Q4", label)
	}
	return label, from, to, quarters, nil
}

// visibleRegistrations keeps the registrations of partners the viewer may
// see: a manager sees the partners it manages.
func visibleRegistrations(v *viewer, rs []store.Registration) []store.Registration {
	out := rs[:0]
	for _, x := range rs {
		if v.seesPartner(x.Partner) {
			out = append(out, x)
		}
	}
	return out
}

// registrationMetrics shows the seven registration metrics of a period,
// overall and by partner or segment.
func (h *Handler) registrationMetrics(w http.ResponseWriter, r *http.Request) {
	label, from, to, quarters, err := h.regPeriod(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rs, err := h.desk.Submitted(r.Context(), "", from, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rs = visibleRegistrations(viewerFrom(r), rs)
	now := h.svc.Now()
	d := &regMetricsData{Period: label, Quarters: quarters, Segment: r.URL.Query().Get("segment"),
		Overall: registration.Measure(rs, now)}
	by, err := registration.MeasureBy(rs, now, d.Segment, func(id string) rung.Partner { p, _ := h.desk.Partner(id); return p })
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for k, m := range by {
		d.Groups = append(d.Groups, regMetricsGroup{k, m})
	}
	// The busiest first; ties by name.
	slices.SortFunc(d.Groups, func(a, b regMetricsGroup) int {
		if a.M.Registrations != b.M.Registrations {
			return b.M.Registrations - a.M.Registrations
		}
		if a.Key < b.Key {
			return -1
		}
		return 1
	})
	p := h.newPage(w, r, "Registration metrics", "registrations", d)
	if p.L.prog != nil {
		d.Currency = p.L.prog.Currency
	}
	d.Segments = regSegments(p.L)
	for _, sg := range d.Segments {
		if sg.Key == d.Segment {
			d.SegmentLabel = sg.Label
		}
	}
	h.render(w, http.StatusOK, "regmetrics", p)
}

// attributionCSV downloads sourced and influenced partners per won deal
// of the period, for commission runs.
func (h *Handler) attributionCSV(w http.ResponseWriter, r *http.Request) {
	_, from, to, _, err := h.regPeriod(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rs, err := h.desk.Submitted(r.Context(), "", from, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	as, err := h.desk.Attributions(r.Context(), visibleRegistrations(viewerFrom(r), rs))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	registration.WriteAttributionCSV(&buf, as)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="registration-attribution.csv"`)
	w.Write(buf.Bytes())
}

// Hours formats a duration in hours, as the registration metrics give it.
func (l *Locale) Hours(h float64) string { return l.Tf("%s h", l.Num(h)) }
