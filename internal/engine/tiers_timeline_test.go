package engine

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// scanCandidates is the auto-upgrade candidates of a partner in [from,
// horizon) found the plain way: its live events that movesTiers.
func scanCandidates(e *Engine, p *partnerState, from, horizon int64) []int64 {
	var out []int64
	for _, h := range p.events {
		if ev := e.events.at(h); ev.live() && ev.at >= from && ev.at < horizon && e.movesTiers(ev) {
			out = append(out, ev.at)
		}
	}
	slices.Sort(out)
	return out
}

// checkTimelines checks every partner's candidates and timeline against
// the plain computation: candidates from the series equal those from the
// events, and the timeline kept incrementally equals one built from
// scratch over the scanned candidates.
func checkTimelines(t *rapid.T, e *Engine, step string) {
	if e.tierProgram() == nil || !e.tierProgram().AutoUpgrade {
		return
	}
	for _, p := range e.partnerByHandle {
		for _, r := range [][2]int64{{math.MinInt64, math.MaxInt64}, {time.Date(2026, 11, 3, 0, 0, 0, 0, berlin).UnixNano(), math.MaxInt64},
			{time.Date(2026, 9, 1, 0, 0, 0, 0, berlin).UnixNano(), time.Date(2026, 11, 4, 23, 0, 0, 0, berlin).UnixNano()}} {
			got := e.candidates(p, r[0], r[1], nil)
			// An event may feed several series the criteria read: the
			// same time then comes more than once, which the timeline
			// tests once.
			slices.Sort(got)
			got = slices.Compact(got)
			if want := slices.Compact(scanCandidates(e, p, r[0], r[1])); !slices.Equal(got, want) {
				t.Fatalf("%s: partner %s candidates in [%d, %d): from the series %v, from the events %v", step, p.id, r[0], r[1], got, want)
			}
		}
		cands := scanCandidates(e, p, math.MinInt64, math.MaxInt64)
		if cands == nil {
			cands = []int64{}
		}
		// Built with caches of its own, so that the engine's cached
		// aggregates are neither used nor mended by the check.
		tf := e.tierFacts()
		aggs, lastOf, last := tf.aggs, tf.lastAggsOf, tf.lastAggs
		tf.aggs, tf.lastAggsOf, tf.lastAggs = nil, nil, nil
		fresh := e.buildTimeline(p, nil, math.MinInt64, cands, math.MaxInt64)
		// And every candidate tested, none passed over as hopeless.
		tf.aggs, tf.lastAggsOf, tf.lastAggs = nil, nil, nil
		tierSkip = false
		plain := e.buildTimeline(p, nil, math.MinInt64, cands, math.MaxInt64)
		tierSkip = true
		tf.aggs, tf.lastAggsOf, tf.lastAggs = aggs, lastOf, last
		if !slices.Equal(fresh.segs, plain.segs) {
			t.Fatalf("%s: partner %s timeline with hopeless runs passed over %+v, with every candidate tested %+v", step, p.id, fresh.segs, plain.segs)
		}
		kept := e.tierFacts().line(p)
		var keptSegs []tseg
		if kept != nil {
			keptSegs = kept.segs
		}
		if kept == nil && len(fresh.segs) == 1 && fresh.segs[0].kind == "initial" {
			continue // not built yet: reads as its initial tier
		}
		if !slices.Equal(keptSegs, fresh.segs) {
			t.Fatalf("%s: partner %s timeline kept %+v, built from scratch %+v", step, p.id, keptSegs, fresh.segs)
		}
		if kept == nil {
			continue
		}
		// The tier at a time is the last segment's at or before it.
		probes := []int64{math.MinInt64, math.MaxInt64, 0}
		for _, sg := range keptSegs {
			probes = append(probes, sg.at, sg.at-1, sg.at+1)
		}
		for _, at := range probes {
			want, wok := "", false
			for _, sg := range keptSegs {
				if sg.at <= at {
					want, wok = sg.tier, true
				}
			}
			if got, ok := kept.at(at); got != want || ok != wok {
				t.Fatalf("%s: partner %s tier at %d is %q %v, want %q %v", step, p.id, at, got, ok, want, wok)
			}
		}
	}
}

// TestTimelineKeptEqualsTimelineFromScratch applies histories of events
// (versions, duplicates, retractions) one record at a time, in a random
// interleaving, and after every record checks each partner's timeline
// against one built from scratch, on tier programs whose criteria read
// series, a ratio, and points (then every contributing event is a
// candidate).
func TestTimelineKeptEqualsTimelineFromScratch(t *testing.T) {
	base := strings.ReplaceAll(tierProgram, "AUTO", "true")
	base = strings.ReplaceAll(base, "at_least: 100000, label", "at_least: 150000, label")
	ratio := strings.Replace(base, "  csat: {avg: survey.csat, value: event.attrs.score}\n",
		"  csat: {avg: survey.csat, value: event.attrs.score}\n  wins: {count: deal.won}\n  per_cert: {ratio: [wins, certified_people], min_sample: 1}\n", 1)
	ratio = strings.Replace(ratio, "      - {id: csat, metric: csat, at_least: 4}\n", "      - {id: pc, metric: per_cert, at_least: 2}\n", 1)
	points := strings.Replace(base, "      - {id: csat, metric: csat, at_least: 4}\n", "      - {id: pts, metric: points, at_least: 250}\n", 1)
	points = strings.Replace(points, "at_least: 1000000}", "at_least: 200000}", 1)
	// Criteria on a sum that falls (a deal below 60,000 counts
	// negative), a count, and at_most: only some of them let a run of
	// candidates be passed over as hopeless.
	falling := strings.Replace(base, "  csat: {avg: survey.csat, value: event.attrs.score}\n",
		"  csat: {avg: survey.csat, value: event.attrs.score}\n  net: {sum: deal.won, value: event.attrs.amount - 60000.0}\n  wins: {count: deal.won}\n", 1)
	falling = strings.Replace(falling, "      - {id: revenue, metric: sourced_revenue, at_least: 150000, label: Sourced revenue}\n",
		"      - {id: net, metric: net, at_least: 50000}\n      - {id: wins, metric: wins, at_least: 3}\n", 1)
	falling = strings.Replace(falling, "      - {id: csat, metric: csat, at_least: 4}\n", "      - {id: csat, metric: csat, at_most: 3}\n", 1)
	for name, src := range map[string]string{"series": base, "ratio": ratio, "points": points, "falling": falling} {
		t.Run(name, func(t *testing.T) {
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
			rapid.Check(t, func(t *rapid.T) {
				h := newHarness(t, src, now)
				if rapid.Bool().Draw(t, "retype") {
					// p1 becomes an ISV, with criteria of its own, part way.
					h.e.PutPartner(rung.PartnerVersion{Version: 2, ValidFrom: time.Date(2026, 11, 3, 12, 0, 0, 0, berlin),
						Partner: rung.Partner{ID: "p1", Name: "Partner p1", Size: "smb", Type: "isv"}})
				}
				if rapid.Bool().Draw(t, "decision") {
					h.e.PutTierDecisions([]TierDecision{{Quarter: "2026-Q3", Partner: "p3", From: "Select", To: "Registered",
						Qualified: "Registered", Outcome: OutcomeDowngrade, EffectiveAt: time.Date(2026, 10, 11, 0, 0, 0, 0, berlin)}})
				}
				n := rapid.IntRange(1, 25).Draw(t, "events")
				var histories [][]rung.Record
				for i := range n {
					id := fmt.Sprintf("e%02d", i)
					var hs []rung.Record
					for v := range rapid.IntRange(1, 3).Draw(t, "versions") {
						ev := genEvent(t, id)
						if ev.Type == "deal.won" {
							ev.Attrs["amount"] = float64(rapid.IntRange(10, 120).Draw(t, "k")) * 1000
						}
						hs = append(hs, rung.Record{Version: v + 1, Event: ev})
					}
					if rapid.IntRange(0, 4).Draw(t, "retract") == 0 {
						last := hs[len(hs)-1]
						hs = append(hs, rung.Record{Version: last.Version + 1, Retracted: true, Event: last.Event})
					}
					histories = append(histories, hs)
				}
				pos := make([]int, len(histories))
				for step := 0; ; step++ {
					var open []int
					for i, hs := range histories {
						if pos[i] < len(hs) {
							open = append(open, i)
						}
					}
					if len(open) == 0 {
						break
					}
					i := rapid.SampledFrom(open).Draw(t, "next")
					rec := histories[i][pos[i]]
					pos[i]++
					h.seq++
					rec.Seq = h.seq
					h.e.Apply(&rec)
					checkTimelines(t, h.e, fmt.Sprintf("after record %d (%s v%d)", step, rec.Event.ID, rec.Version))
				}
			})
		})
	}
}

// TestSeriesAddToEqualsWindow checks addTo, the tier criteria's way of
// aggregating a span of a series, against aggregating what window yields,
// on series long enough to be split in chunks.
func TestSeriesAddToEqualsWindow(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s series
		n := rapid.SampledFrom([]int{0, 1, 7, 300, 700, 1200}).Draw(t, "points")
		for i := range n {
			s.insert(point{at: int64(rapid.IntRange(0, 400).Draw(t, "at")), v: int64(rapid.IntRange(-3, 5).Draw(t, "v")),
				ev: uint32(i + 1), key: uint32(rapid.IntRange(0, 6).Draw(t, "key"))})
		}
		if rapid.Bool().Draw(t, "remove") && n > 0 {
			for i := range n / 3 {
				var at int64 = -1
				for p := range s.c.all() {
					if p.ev == uint32(3*i+1) {
						at = p.at
					}
				}
				if at >= 0 {
					s.remove(at, uint32(3*i+1))
				}
			}
		}
		from := int64(rapid.IntRange(-10, 410).Draw(t, "from"))
		to := int64(rapid.IntRange(-10, 410).Draw(t, "to"))
		if rapid.Bool().Draw(t, "open") {
			from, to = math.MinInt64, math.MaxInt64
		}
		for _, kind := range []program.MetricKind{program.MetricCount, program.MetricSum, program.MetricAvg, program.MetricDistinct} {
			want := aggOf(s.window(from, to), kind)
			var got agg
			s.addTo(&got, from, to, kind)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("kind %v over [%d, %d): addTo %+v, window %+v", kind, from, to, got, want)
			}
		}
	})
}

// TestTierHorizonMemoEqualsWalk checks the memo of tierHorizon against
// walking Calendar.Window for each instant, for every window kind, in
// zones with midnight DST changes, asked in random and in sorted order.
func TestTierHorizonMemoEqualsWalk(t *testing.T) {
	walk := func(c *program.Calendar, w program.Window, at int64) int64 {
		tt := unixTime(at)
		for range 16 {
			from, to := c.Window(w, tt)
			if nanos(from) > at {
				return nanos(tt)
			}
			if !to.After(tt) || !to.Before(program.MaxTime) {
				return math.MaxInt64
			}
			tt = to
		}
		return math.MaxInt64
	}
	windows := []program.Window{{Kind: program.WindowQuarter}, {Kind: program.WindowQuarters, N: 4}, {Kind: program.WindowYear},
		{Kind: program.WindowMonth}, {Kind: program.WindowWeek}, {Kind: program.WindowDays, N: 1}, {Kind: program.WindowDays, N: 10},
		{Kind: program.WindowDays, N: 90}, {Kind: program.WindowAll}}
	// In São Paulo the 4th of November 2018 began at 01:00 and the day
	// window of the 3rd ends (time.Date's midnight of the 4th) at 23:00
	// on the 3rd: an instant after that end shares the 3rd's window, and
	// one asked for first must not keep the walk from the next.
	sp, err := program.NewCalendar("America/Sao_Paulo", 1)
	if err != nil {
		t.Fatal(err)
	}
	pl := &tierPlan{cal: sp, window: program.Window{Kind: program.WindowDays, N: 1}}
	for _, at := range []time.Time{time.Date(2018, 11, 4, 2, 30, 0, 0, time.UTC), time.Date(2018, 11, 3, 15, 0, 0, 0, time.UTC)} {
		if got, want := pl.horizon(at.UnixNano()), walk(sp, pl.window, at.UnixNano()); got != want {
			t.Errorf("São Paulo day window at %v: memo %d, walk %d", at.In(sp.Loc), got, want)
		}
	}
	for _, tz := range []string{"UTC", "Europe/Berlin", "America/Sao_Paulo", "Pacific/Apia"} {
		c, err := program.NewCalendar(tz, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range windows {
			rapid.Check(t, func(t *rapid.T) {
				pl := &tierPlan{cal: c, window: w}
				base := time.Date(2018, 11, 3, 0, 0, 0, 0, time.UTC).UnixNano()
				ats := rapid.SliceOfN(rapid.Int64Range(-3*int64(time.Hour), 400*24*int64(time.Hour)), 1, 40).Draw(t, "ats")
				if rapid.Bool().Draw(t, "sorted") {
					slices.Sort(ats)
				}
				for _, d := range ats {
					at := base + d
					if rapid.IntRange(0, 20).Draw(t, "zero") == 0 {
						at = 0
					}
					if got, want := pl.horizon(at), walk(c, w, at); got != want {
						t.Fatalf("%s %+v at %v: memo %d, walk %d", tz, w, unixTime(at), got, want)
					}
				}
			})
		}
	}
}

// hopelessProgram is a tier program whose criteria and window the
// hopeless-run test fills in, with thresholds low enough that partners
// cross them, and fall back below them, within a few events.
const hopelessProgram = `
name: Hopeless runs
timezone: Europe/Berlin
fiscal_year_start: 1
currency: EUR
metrics:
  net: {sum: deal.won, value: event.attrs.amount}
  wins: {count: deal.won}
  certs: {distinct: certification.earned, value: event.member}
  csat: {avg: survey.csat, value: event.attrs.score}
  trainings: {count: training.completed}
  per_win: {ratio: [trainings, wins], min_sample: 1}
points:
  rules:
    - id: win
      on: deal.won
      award: 100
      multiplier: {Select: 1.5, Elite: 2}
tiers:
  levels: [Registered, Select, Elite]
  window: WINDOW
  auto_upgrade: true
  criteria:
    Select:
SELECT
    Elite:
ELITE
  by_type:
    isv:
      Select:
        - {id: wins, metric: wins, at_least: 1}
`

// TestHopelessRunsHideNoUpgrade checks that passing over hopeless runs of
// auto-upgrade candidates changes no timeline: for random criteria (sums
// that may or may not fall, counts, distinct counts, averages, ratios,
// points, at_least and at_most) over random windows, and random events,
// each partner's timeline built with runs passed over equals the one
// built testing every candidate, after every event applied.
func TestHopelessRunsHideNoUpgrade(t *testing.T) {
	criteria := []string{
		"{id: net, metric: net, at_least: 3}", "{id: wins, metric: wins, at_least: 2}",
		"{id: certs, metric: certs, at_least: 1}", "{id: csat, metric: csat, at_least: 4}",
		"{id: per_win, metric: per_win, at_least: 1}", "{id: points, metric: points, at_least: 250}",
		"{id: few_wins, metric: wins, at_most: 3}", "{id: low_net, metric: net, at_most: 5}",
		"{id: many_wins, metric: wins, at_least: 4}", "{id: big_net, metric: net, at_least: 8}",
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		list := func(tier string) string {
			var out []string
			for _, c := range rapid.SliceOfNDistinct(rapid.SampledFrom(criteria), 1, 3, rapid.ID[string]).Draw(t, tier) {
				out = append(out, "      - "+c)
			}
			return strings.Join(out, "\n")
		}
		src := strings.Replace(hopelessProgram, "WINDOW", rapid.SampledFrom([]string{"4q", "quarter", "year", "month", "30d"}).Draw(t, "window"), 1)
		src = strings.Replace(src, "SELECT", list("select"), 1)
		src = strings.Replace(src, "ELITE", list("elite"), 1)
		h := newHarness(t, src, now)
		if rapid.Bool().Draw(t, "retype") {
			h.e.PutPartner(rung.PartnerVersion{Version: 2, ValidFrom: time.Date(2026, 11, 3, 12, 0, 0, 0, berlin),
				Partner: rung.Partner{ID: "p1", Name: "Partner p1", Size: "smb", Type: "isv"}})
		}
		// Reviews that move the tier between candidates: a downgrade
		// leaves more tiers above to test.
		for _, q := range []string{"2026-Q2", "2026-Q3"} {
			if !rapid.Bool().Draw(t, "decision") {
				continue
			}
			to := rapid.SampledFrom([]string{"Registered", "Select", "Elite"}).Draw(t, "to")
			outcome := rapid.SampledFrom([]string{OutcomeDowngrade, OutcomeUpgrade}).Draw(t, "outcome")
			h.e.PutTierDecisions([]TierDecision{{Quarter: q, Partner: rapid.SampledFrom([]string{"p1", "p2", "p3"}).Draw(t, "partner"),
				From: "Select", To: to, Qualified: to, Outcome: outcome,
				EffectiveAt: time.Date(2026, rapid.SampledFrom([]time.Month{9, 11}).Draw(t, "month"), rapid.IntRange(1, 6).Draw(t, "day"), 15, 0, 0, 0, berlin)}})
		}
		falls := rapid.Bool().Draw(t, "falls")
		n := rapid.IntRange(1, 40).Draw(t, "events")
		for i := range n {
			ev := genEvent(t, fmt.Sprintf("e%02d", i))
			if ev.Type == "deal.won" {
				lo := 0
				if falls {
					lo = -4
				}
				ev.Attrs["amount"] = float64(rapid.IntRange(lo, 6).Draw(t, "amount"))
			}
			h.seq++
			h.e.Apply(&rung.Record{Seq: h.seq, Version: 1, Event: ev})
			checkTimelines(t, h.e, fmt.Sprintf("after event %d", i))
		}
		// A loaded dump knows which sums fell, as the engine dumped did.
		var buf bytes.Buffer
		if err := h.e.WriteDump(&buf, h.seq, 0); err != nil {
			t.Fatal(err)
		}
		got, _, err := LoadDump(&buf, h.e.versions)
		if err != nil {
			t.Fatal(err)
		}
		for slot := range h.e.metricSlots() {
			want := slot < len(h.e.negative) && h.e.negative[slot]
			if loaded := slot < len(got.negative) && got.negative[slot]; loaded != want {
				t.Fatalf("series slot %d: negative %v after a load, %v before", slot, loaded, want)
			}
		}
	})
}
