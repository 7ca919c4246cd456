package engine

import (
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
		tf.aggs, tf.lastAggsOf, tf.lastAggs = aggs, lastOf, last
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
	for name, src := range map[string]string{"series": base, "ratio": ratio, "points": points} {
		t.Run(name, func(t *testing.T) {
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
			rapid.Check(t, func(t *rapid.T) {
				h := newHarness(t, src, now)
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
