package web

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/analytics"
	"github.com/rung-dev/rung/internal/analytics/collect"
	"github.com/rung-dev/rung/internal/store"
)

// The analytics pages of the console (docs/analytics.md): one page per
// section, with a period and cohort picker, charts drawn as SVG on the
// server, the figures in tables, and a CSV download of each.

// analyticsSections are the pages, in the order of the sub-navigation.
var analyticsSections = []string{"engagement", "points", "outcomes", "indicators", "rewards", "tiers"}

// sectionTitle names a section in the viewer's language.
func sectionTitle(L *Locale, s string) string {
	switch s {
	case "engagement":
		return L.T("Engagement")
	case "points":
		return L.T("Points")
	case "outcomes":
		return L.T("Engagement and outcomes")
	case "indicators":
		return L.T("Leading indicators")
	case "rewards":
		return L.T("Rewards")
	case "tiers":
		return L.T("Tiers")
	}
	return s
}

// stageLabel names a deal stage in the viewer's language.
func stageLabel(L *Locale, s string) string {
	switch s {
	case "registered":
		return L.T("Registered")
	case "qualified":
		return L.T("Qualified")
	case "first_meeting":
		return L.T("First meeting")
	case "won":
		return L.T("Won")
	}
	return s
}

// fieldLabel names a cohort field in the viewer's language.
func fieldLabel(L *Locale, f string) string {
	switch f {
	case "region":
		return L.T("Region")
	case "size":
		return L.T("Size")
	case "type":
		return L.T("Type")
	}
	return f
}

// Analytics returns the collector the pages read, for the API to share.
func (h *Handler) Analytics() *collect.Collector {
	h.an.once.Do(func() {
		h.an.c = collect.New(h.svc, h.log)
		h.an.c.Sources = collect.ServiceSources(h.svc)
	})
	return h.an.c
}

// analyticsState holds the console's analytics collector.
type analyticsState struct {
	once sync.Once
	c    *collect.Collector
}

func init() {
	// f2 shows a correlation or a rate with two decimals; "–" when it is
	// undefined.
	funcs["f2"] = func(f *float64) string {
		if f == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f", *f)
	}
	funcs["optpct"] = func(l *Locale, f *float64) string {
		if f == nil {
			return "–"
		}
		return l.Percent(*f)
	}
}

type option struct{ Value, Label string }

// analyticsView is the data of an analytics page.
type analyticsView struct {
	Section  string
	Sections []option
	Title    string
	From, To string // dates for the pickers; To is not included
	Cohort   string
	Cohorts  []option
	CSV      string
	Problem  string
	Currency string

	Charts []template.HTML

	Engagement *analytics.Engagement
	Points     *analytics.Points
	Outcomes   *analytics.Outcomes
	Indicators *analytics.Indicators
	Rewards    *analytics.Rewards
	Tiers      *analytics.Tiers
	Top        []analytics.PartnerOutcome // the most engaged partners shown
	// StageLabels names the deal stages (English; the catalog translates).
	StageLabels map[string]string
}

func (h *Handler) analyticsPage(w http.ResponseWriter, r *http.Request) {
	section := r.PathValue("section")
	if section == "" {
		section = "engagement"
	}
	csvOut := false
	if s, ok := strings.CutSuffix(section, ".csv"); ok {
		section, csvOut = s, true
	}
	if !slices.Contains(analyticsSections, section) {
		h.fail(w, r, errNotFound)
		return
	}
	c := h.Analytics()
	snap, err := c.Snapshot(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := viewerFrom(r)
	d := &analyticsView{Section: section}
	qv := r.URL.Query()
	now := h.svc.Now()
	q, err := analytics.ParseQuery(qv.Get("from"), qv.Get("to"), qv.Get("cohort"), now, snap.Loc)
	if err != nil {
		if csvOut {
			http.Error(w, rung.ErrorMessage(err), http.StatusBadRequest)
			return
		}
		d.Problem = requestLocale(r).Err(err)
		q, _ = analytics.ParseQuery("", "", "", now, snap.Loc)
	}
	if v.Account.Role == store.RoleManager {
		// a manager's figures cover their partners only (none: nothing)
		q.Partners = map[string]bool{}
		for id, ok := range v.partners {
			q.Partners[id] = ok
		}
	}
	var rep interface{ WriteCSV(io.Writer) error }
	src := c.Sources
	switch section {
	case "engagement":
		x := analytics.EngagementOf(snap, q)
		d.Engagement, rep = &x, x
	case "points":
		x := analytics.PointsOf(snap, q)
		d.Points, rep = &x, x
	case "outcomes":
		x := analytics.OutcomesOf(snap, q, src.Challenges)
		d.Outcomes, rep = &x, x
	case "indicators":
		x := analytics.IndicatorsOf(snap, q)
		d.Indicators, rep = &x, x
	case "rewards":
		x := analytics.RewardsOf(snap, q, src.Rewards)
		d.Rewards, rep = &x, x
	case "tiers":
		x := analytics.TiersOf(snap, q, src.Tiers)
		d.Tiers, rep = &x, x
	}
	if csvOut {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="rung-%s-%s.csv"`, section, q.From.In(snap.Loc).Format("2006-01-02")))
		if err := rep.WriteCSV(w); err != nil {
			h.log.Warn("web: writing analytics CSV", "section", section, "err", err)
		}
		return
	}

	p := h.newPage(w, r, "Analytics", "analytics", d)
	L := p.L
	d.Title = sectionTitle(L, section)
	d.From = q.From.In(snap.Loc).Format("2006-01-02")
	d.To = q.To.In(snap.Loc).Format("2006-01-02")
	if !q.To.Equal(q.To.In(snap.Loc).Truncate(24 * time.Hour)) {
		// a period ending now: the picker shows tomorrow, so today is in
		d.To = q.To.In(snap.Loc).AddDate(0, 0, 1).Format("2006-01-02")
	}
	d.Cohort = q.Cohort
	d.Cohorts = cohortOptions(snap, L)
	for _, s := range analyticsSections {
		d.Sections = append(d.Sections, option{Value: s, Label: sectionTitle(L, s)})
	}
	args := "?from=" + urlq(d.From) + "&to=" + urlq(d.To) + "&cohort=" + urlq(d.Cohort)
	d.CSV = "/admin/analytics/" + section + ".csv" + args
	if prog := p.L.prog; prog != nil {
		d.Currency = prog.Currency
	}
	if d.Outcomes != nil {
		d.Top = d.Outcomes.Partners[:min(25, len(d.Outcomes.Partners))]
	}
	d.StageLabels = map[string]string{}
	for _, st := range []string{"registered", "qualified", "first_meeting", "won"} {
		d.StageLabels[st] = stageLabel(L, st)
	}
	d.Charts = analyticsCharts(d, L)
	h.render(w, http.StatusOK, "analytics", p)
}

// cohortOptions lists every region, size and type of the partners.
func cohortOptions(s *analytics.Snapshot, L *Locale) []option {
	seen := map[string]bool{}
	var out []option
	add := func(field, value string) {
		if value == "" || seen[field+":"+value] {
			return
		}
		seen[field+":"+value] = true
		out = append(out, option{Value: field + ":" + value, Label: fieldLabel(L, field) + ": " + value})
	}
	for _, p := range s.Partners {
		add("region", p.Region)
		add("size", p.Size)
		add("type", p.Type)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return append([]option{{Value: "", Label: L.T("All partners")}}, out...)
}

// weekLabels gives the weeks' dates, short.
func weekLabels(L *Locale, starts []time.Time) []string {
	out := make([]string, len(starts))
	for i, t := range starts {
		out[i] = L.Date(t)
	}
	return out
}

// analyticsCharts draws the section's charts.
func analyticsCharts(d *analyticsView, L *Locale) []template.HTML {
	noData := L.T("No data for this period")
	num := func(f float64) string { return L.Num(f) }
	pct := func(f float64) string { return L.Percent(f) }
	var out []template.HTML
	switch {
	case d.Engagement != nil:
		e := d.Engagement
		var starts []time.Time
		var ap, am, share []float64
		for _, w := range e.Weeks {
			starts = append(starts, w.Start)
			ap = append(ap, float64(w.ActivePartners))
			am = append(am, float64(w.ActiveMembers))
			share = append(share, w.ShareActive)
		}
		labels := weekLabels(L, starts)
		out = append(out,
			lineChart(chart{ID: "active", Title: L.T("Active partners and members per week"), Desc: L.T("Partners and members with at least one event in each week."),
				Labels: labels, Series: []chartSeries{{L.T("Active partners"), ap}, {L.T("Active members"), am}}, Empty: noData, YFormat: num}),
			lineChart(chart{ID: "share", Title: L.T("Share of partners active each week"), Desc: L.T("Active partners divided by the partners of the cohort."),
				Labels: labels, Series: []chartSeries{{L.T("Share active"), share}}, Empty: noData, YFormat: pct}))
		var types []string
		var counts []float64
		for _, t := range e.ByType {
			types = append(types, t.Type)
			counts = append(counts, float64(t.Count))
		}
		out = append(out, barChart(chart{ID: "types", Title: L.T("Events by activity type"), Desc: L.T("Events in the period, by type, most first."),
			Labels: types, Series: []chartSeries{{L.T("Events"), counts}}, Empty: noData, YFormat: num}))
	case d.Points != nil:
		p := d.Points
		var starts []time.Time
		var is, ex, re []float64
		for _, w := range p.Weeks {
			starts = append(starts, w.Start)
			is = append(is, float64(w.Issued))
			ex = append(ex, float64(w.Expired))
			re = append(re, float64(w.Redeemed))
		}
		out = append(out, lineChart(chart{ID: "flow", Title: L.T("Points issued, expired and redeemed per week"), Desc: L.T("Points awarded, points that expired unspent, and points redeemed, each week."),
			Labels: weekLabels(L, starts), Series: []chartSeries{{L.T("Issued"), is}, {L.T("Expired"), ex}, {L.T("Redeemed"), re}}, Empty: noData, YFormat: num}))
		out = append(out, histogram("hist-partners", L.T("Points earned per partner"), L.T("How many partners earned how many points in the period."), p.Partners.Histogram, L, noData),
			histogram("hist-members", L.T("Points earned per member"), L.T("How many members earned how many points in the period."), p.Members.Histogram, L, noData))
	case d.Indicators != nil:
		ind := d.Indicators
		var stages []string
		var counts []float64
		for _, s := range ind.Stages {
			stages = append(stages, stageLabel(L, s.Stage))
			counts = append(counts, float64(s.Count))
		}
		out = append(out, barChart(chart{ID: "funnel", Title: L.T("Deal stages reached in the period"), Desc: L.T("Registrations, qualified registrations, first meetings and wins in the period."),
			Labels: stages, Series: []chartSeries{{L.T("Deals"), counts}}, Empty: noData, YFormat: num}))
		var starts []time.Time
		var tr, qu, fm, wo []float64
		for _, w := range ind.Weeks {
			starts = append(starts, w.Start)
			tr = append(tr, float64(w.Trainings))
			qu = append(qu, float64(w.Qualified))
			fm = append(fm, float64(w.FirstMeetings))
			wo = append(wo, float64(w.Won))
		}
		out = append(out, lineChart(chart{ID: "leading", Title: L.T("Leading indicators per week"), Desc: L.T("Trainings completed, qualified registrations, first meetings and wins each week."),
			Labels: weekLabels(L, starts), Series: []chartSeries{{L.T("Trainings"), tr}, {L.T("Qualified registrations"), qu}, {L.T("First meetings"), fm}, {L.T("Won"), wo}},
			Empty: noData, YFormat: num}))
	}
	return out
}

func histogram(id, title, desc string, bins []analytics.Bin, L *Locale, noData string) template.HTML {
	labels := make([]string, len(bins))
	counts := make([]float64, len(bins))
	for i, b := range bins {
		labels[i] = L.Num(b.Lo) + "–" + L.Num(b.Hi)
		counts[i] = float64(b.Count)
	}
	return histogramChart(chart{ID: id, Title: title, Desc: desc, Labels: labels, Series: []chartSeries{{title, counts}}, Empty: noData,
		YFormat: func(f float64) string { return L.Num(f) }})
}
