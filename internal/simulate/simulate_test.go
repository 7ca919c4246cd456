package simulate

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// memoryHistory is a history held in memory: the records carry the log's
// encoding, as a store hands them over.
func memoryHistory(t testing.TB, partners []rung.Partner, members []rung.Member, events []rung.Event, progs ...string) *History {
	t.Helper()
	h := &History{Size: len(events)}
	for _, p := range partners {
		h.Partners = append(h.Partners, rung.PartnerVersion{Version: 1, Partner: p})
	}
	for _, m := range members {
		if len(m.Memberships) == 0 {
			m.Memberships = []rung.Membership{{Partner: m.Partner, JoinedAt: m.JoinedAt}}
		}
		h.Members = append(h.Members, m)
	}
	for i, src := range progs {
		from := time.Unix(0, 0).UTC()
		if i > 0 {
			from = now.AddDate(0, -2, 0)
		}
		h.Programs = append(h.Programs, rung.ProgramVersion{Version: i + 1, Source: src, EffectiveFrom: from})
	}
	recs := make([]rung.Record, len(events))
	for i, ev := range events {
		recs[i] = rung.Record{Seq: int64(i + 1), Version: 1, Event: ev}
	}
	setLog(t, h, recs)
	return h
}

// setLog makes recs, numbered and versioned as they are, h's log, encoded
// as a store holds it.
func setLog(t testing.TB, h *History, recs []rung.Record) {
	t.Helper()
	h.Size = len(recs)
	for i := range recs {
		raw, err := codec.EncodeRecord(nil, &recs[i])
		if err != nil {
			t.Fatal(err)
		}
		recs[i].Raw = raw
	}
	h.Records = func(ctx context.Context, fn func(*rung.Record) error) error {
		for i := range recs {
			r := recs[i]
			if err := fn(&r); err != nil {
				return err
			}
		}
		return nil
	}
	// As the stores' RecordHeads do, the bytes behind Raw, Partner and
	// Member are reused: here they are overwritten once fn returns, so a
	// replay that kept them would read garbage.
	h.Heads = func(ctx context.Context, fn func(*rung.Record) error) error {
		var buf []byte
		names := new(codec.Names)
		for i := range recs {
			buf = append(buf[:0], recs[i].Raw...)
			r := rung.Record{Seq: recs[i].Seq, Version: recs[i].Version, Event: rung.Event{ID: recs[i].Event.ID}, Raw: buf}
			if err := codec.DecodeRecordHead(buf, &r, names); err != nil {
				return err
			}
			err := fn(&r)
			for j := range buf {
				buf[j] = 0xff
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

func demoHistory(t testing.TB) *History {
	d := demo.Generate(demo.Options{Now: now})
	return memoryHistory(t, d.Partners, d.Members, d.Events, string(demo.Program))
}

// liveEngine builds an engine the way the running service keeps one up to
// date: record by record, not in bulk.
func liveEngine(t testing.TB, h *History) *engine.Engine {
	t.Helper()
	vs, err := compile(h.Programs)
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New()
	for _, pv := range h.Partners {
		e.PutPartner(pv)
	}
	for _, m := range h.Members {
		e.PutMember(m)
	}
	if err := e.SetVersions(vs, now); err != nil {
		t.Fatal(err)
	}
	h.Records(context.Background(), func(r *rung.Record) error {
		e.Apply(r)
		return nil
	})
	for _, a := range h.Adjustments {
		e.AddAdjustment(a)
	}
	return e
}

func assertNoChange(t *testing.T, r *Report) {
	t.Helper()
	if !r.Totals.Zero() {
		t.Errorf("totals change: %+v", r.Totals)
	}
	for _, rows := range [][]Row{r.Members, r.Partners} {
		for _, x := range rows {
			if x.Changed || x.Lifetime.Delta != 0 || x.Balance.Delta != 0 || x.Period.Delta != 0 || x.Level.Delta != 0 ||
				x.Level.Before != x.Level.After || len(x.BadgesGained)+len(x.BadgesLost) > 0 ||
				(x.Tier != nil && x.Tier.Before != x.Tier.After) {
				t.Fatalf("%s %s changes: %+v", x.Kind, x.ID, x)
			}
			for _, p := range x.Ranks {
				if p.Before != p.After || p.Delta != 0 {
					t.Fatalf("%s %s moves on %s: %+v", x.Kind, x.ID, p.Leaderboard, p)
				}
			}
		}
	}
}

// TestActiveProgramChangesNothing simulates the demo program over the demo
// history: against a second replay, and against an engine kept up to date
// record by record as the live service does. Nothing may change, while the
// history is rich enough that everything compared is there to change.
func TestActiveProgramChangesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo history")
	}
	h := demoHistory(t)
	ctx := context.Background()
	for _, live := range []bool{false, true} {
		o := Options{Now: now}
		if live {
			e := liveEngine(t, h)
			o.Live = func(fn func(*engine.Engine) error) error { return fn(e) }
		}
		r, err := Run(ctx, h, demo.Program, o)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{false: "replay", true: "live"}[live]; r.Baseline != want {
			t.Errorf("baseline %q, want %q", r.Baseline, want)
		}
		r.Trim(true, 0)
		assertNoChange(t, r)
		if r.Empty || r.Records != len(demoEvents(h)) || r.Totals.PointsIssued.Before == 0 || r.Totals.BadgesHeld.Before == 0 {
			t.Fatalf("the demo history scored nothing: %+v", r.Totals)
		}
		ranked, tiered := 0, 0
		for _, p := range r.Partners {
			if p.Tier != nil && p.Tier.Before != "Registered" {
				tiered++
			}
			for _, pl := range p.Ranks {
				if pl.Before > 0 {
					ranked++
				}
			}
		}
		if ranked == 0 || tiered == 0 {
			t.Fatalf("no partner ranked (%d) or qualified above the lowest tier (%d)", ranked, tiered)
		}
		r.Trim(false, 0)
		if len(r.Members)+len(r.Partners) != 0 {
			t.Fatalf("%d changed rows", len(r.Members)+len(r.Partners))
		}
	}
}

func demoEvents(h *History) []string {
	var ids []string
	h.Records(context.Background(), func(r *rung.Record) error { ids = append(ids, r.Event.ID); return nil })
	return ids
}

const smallProgram = `name: Small
timezone: UTC
points:
  rules:
    - {id: training, on: training.completed, award: 50}
    - {id: win, on: deal.won, award: 100, to: partner}
metrics:
  wins: {count: deal.won}
levels:
  - {name: Rookie, at: 0}
  - {name: Pro, at: 100}
leaderboards:
  - {id: members, metric: points, for: member, window: all}
tiers:
  levels: [Registered, Select]
  window: 4q
  criteria:
    Select:
      - {id: wins, metric: wins, at_least: 2}
`

// small is two partners, three members and a handful of events.
func small(t testing.TB, progs ...string) *History {
	day := func(d int) time.Time { return time.Date(2026, 10, d, 9, 0, 0, 0, time.UTC) }
	partners := []rung.Partner{{ID: "p1", Name: "One"}, {ID: "p2", Name: "Two"}}
	members := []rung.Member{{ID: "a", Name: "Ann", Partner: "p1"}, {ID: "b", Name: "Bob", Partner: "p1"}, {ID: "c", Name: "Cy", Partner: "p2"}}
	ev := func(id, typ, partner, member string, d int) rung.Event {
		return rung.Event{ID: id, Type: typ, Partner: partner, Member: member, OccurredAt: day(d)}
	}
	events := []rung.Event{
		ev("t1", "training.completed", "p1", "a", 1),
		ev("t2", "training.completed", "p1", "a", 2),
		ev("t3", "training.completed", "p1", "b", 3),
		ev("t4", "training.completed", "p2", "c", 4),
		ev("t5", "training.completed", "p2", "c", 5),
		ev("t6", "training.completed", "p2", "c", 6),
		ev("w1", "deal.won", "p1", "", 7),
		ev("w2", "deal.won", "p2", "", 8),
		ev("w3", "deal.won", "p2", "", 9),
	}
	if len(progs) == 0 {
		progs = []string{smallProgram}
	}
	return memoryHistory(t, partners, members, events, progs...)
}

func row(t *testing.T, rows []Row, id string) Row {
	t.Helper()
	for _, r := range rows {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no row for %s", id)
	return Row{}
}

// TestDoubledAwardRaisedLevelAndNewBadge doubles the training award, raises
// Pro from 100 to 250 points, adds a training badge and needs three wins
// for Select, and checks every delta against the arithmetic by hand:
//
//	before: a 100 (Pro), b 50, c 150 (Pro); p1 150+100 = 250, p2 150+200 = 350;
//	        p2 qualifies Select (2 wins); board: c 150, a 100, b 50
//	after:  a 200, b 100, c 300 (Pro only c); p1 300+100 = 400, p2 300+200 = 500;
//	        nobody qualifies Select; board: c 300, a 200, b 100 (same places)
func TestDoubledAwardRaisedLevelAndNewBadge(t *testing.T) {
	draft := strings.NewReplacer(
		"{id: training, on: training.completed, award: 50}", "{id: training, on: training.completed, award: 100}",
		"{name: Pro, at: 100}", "{name: Pro, at: 250}",
		"at_least: 2", "at_least: 3",
	).Replace(smallProgram) + `badges:
  - {id: trained, name: Trained, on: training.completed, evidence: event.id}
`
	r, err := Run(context.Background(), small(t), []byte(draft), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	r.Trim(true, 0)
	wantMember := map[string]struct {
		before, after int64
		lvBefore      string
		lvAfter       string
		lvDelta       int
	}{
		"a": {100, 200, "Pro", "Rookie", -1},
		"b": {50, 100, "Rookie", "Rookie", 0},
		"c": {150, 300, "Pro", "Pro", 0},
	}
	for id, w := range wantMember {
		m := row(t, r.Members, id)
		if m.Lifetime != (Change{w.before, w.after, w.after - w.before}) || m.Balance != m.Lifetime || m.Period != m.Lifetime {
			t.Errorf("member %s points: %+v %+v %+v", id, m.Lifetime, m.Balance, m.Period)
		}
		if m.Level != (Move{w.lvBefore, w.lvAfter, w.lvDelta}) {
			t.Errorf("member %s level: %+v", id, m.Level)
		}
		if !slices.Equal(m.BadgesGained, []string{"trained"}) || len(m.BadgesLost) != 0 {
			t.Errorf("member %s badges: +%v -%v", id, m.BadgesGained, m.BadgesLost)
		}
		if len(m.Ranks) != 1 || m.Ranks[0].Delta != 0 || m.Ranks[0].Before != m.Ranks[0].After {
			t.Errorf("member %s ranks: %+v", id, m.Ranks)
		}
	}
	if c := row(t, r.Members, "c"); c.Ranks[0].Before != 1 {
		t.Errorf("c ranks %d, want 1", c.Ranks[0].Before)
	}
	p1, p2 := row(t, r.Partners, "p1"), row(t, r.Partners, "p2")
	if p1.Lifetime != (Change{250, 400, 150}) || p2.Lifetime != (Change{350, 500, 150}) {
		t.Errorf("partner points: %+v %+v", p1.Lifetime, p2.Lifetime)
	}
	if *p1.Tier != (Move{"Registered", "Registered", 0}) || *p2.Tier != (Move{"Select", "Registered", -1}) {
		t.Errorf("tiers: %+v %+v", *p1.Tier, *p2.Tier)
	}
	tot := r.Totals
	if tot.PointsIssued != (Change{600, 900, 300}) || tot.Lifetime != tot.PointsIssued || tot.Balance != tot.PointsIssued {
		t.Errorf("total points: %+v %+v %+v", tot.PointsIssued, tot.Lifetime, tot.Balance)
	}
	if tot.MembersLevelDown != 1 || tot.MembersLevelUp != 0 || tot.PartnersTierDown != 1 || tot.PartnersTierUp != 0 || tot.PartnersLevelUp+tot.PartnersLevelDown != 0 {
		t.Errorf("moves: %+v", tot)
	}
	if tot.BadgesGained != 3 || tot.BadgesLost != 0 || tot.BadgesHeld != (Change{0, 3, 3}) {
		t.Errorf("badges: %+v", tot)
	}
	if tot.MembersChanged != 3 || tot.PartnersChanged != 2 || tot.RankChanges != 0 {
		t.Errorf("changed: %+v", tot)
	}
	// Partner level rows follow the partner's lifetime points.
	if p1.Level != (Move{"Pro", "Pro", 0}) || p2.Level != (Move{"Pro", "Pro", 0}) {
		t.Errorf("partner levels: %+v %+v", p1.Level, p2.Level)
	}
}

// TestPeriodScopesTheDraft applies the draft from the period's start only:
// awards for events before it stay what the active program gave, and the
// points in the period count only events inside it.
func TestPeriodScopesTheDraft(t *testing.T) {
	draft := strings.Replace(smallProgram, "award: 50}", "award: 80}", 1)
	from := time.Date(2026, 10, 4, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 10, 6, 0, 0, 0, 0, time.UTC)
	r, err := Run(context.Background(), small(t), []byte(draft), Options{Now: now, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	// In [Oct 4, Oct 6): c's trainings t4 and t5. At the end of Oct 5:
	// c has 50+50 before, 80+80 after; t6 (Oct 6) is after the period.
	c := row(t, r.Members, "c")
	if c.Period != (Change{100, 160, 60}) || c.Lifetime != (Change{100, 160, 60}) {
		t.Errorf("c: period %+v lifetime %+v", c.Period, c.Lifetime)
	}
	if r.EventsInPeriod != 2 || r.Empty {
		t.Errorf("events in period %d, empty %v", r.EventsInPeriod, r.Empty)
	}
	r.Trim(false, 0)
	if len(r.Members) != 1 || r.Members[0].ID != "c" {
		t.Errorf("changed members: %+v", r.Members)
	}
	if !r.To.Equal(to) || !r.From.Equal(from) {
		t.Errorf("period %v–%v", r.From, r.To)
	}
}

// TestRecordedVersionsBeforeThePeriodStay keeps the recorded versions before
// the period: with v1 (award 50) and v2 (award 70, from two months before
// now), a draft from a date after v2 started leaves earlier events as v2
// and v1 scored them, and the live engine serves as the baseline.
func TestRecordedVersionsBeforeThePeriodStay(t *testing.T) {
	v2 := strings.Replace(smallProgram, "award: 50}", "award: 70}", 1)
	h := small(t, smallProgram, v2) // v2 from 2026-09-20: every event
	e := liveEngine(t, h)
	from := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	o := Options{Now: now, From: from, Live: func(fn func(*engine.Engine) error) error { return fn(e) }}
	draft := strings.Replace(smallProgram, "award: 50}", "award: 10}", 1)
	r, err := Run(context.Background(), h, []byte(draft), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Baseline != "live" || r.Active != 2 {
		t.Fatalf("baseline %s, active v%d", r.Baseline, r.Active)
	}
	// c: t4 (Oct 4) stays 70; t5, t6 go from 70 to 10.
	c := row(t, r.Members, "c")
	if c.Lifetime != (Change{210, 90, -120}) || c.Period != (Change{140, 20, -120}) {
		t.Errorf("c: lifetime %+v period %+v", c.Lifetime, c.Period)
	}
	// a's events are before the period: its points stay, but it passes c
	// on the board.
	a := row(t, r.Members, "a")
	if a.Lifetime.Delta != 0 || a.Period.Before != 0 || len(a.Ranks) != 1 || a.Ranks[0] != (Place{"members", 2, 1, 1}) {
		t.Errorf("a: %+v", a)
	}
	// Without a period the draft scores everything, and the baseline is a
	// replay: two recorded versions are not the active one over all time.
	r, err = Run(context.Background(), h, []byte(draft), Options{Now: now, Live: o.Live})
	if err != nil {
		t.Fatal(err)
	}
	if a := row(t, r.Members, "a"); r.Baseline != "replay" || a.Lifetime != (Change{140, 20, -120}) {
		t.Errorf("baseline %s, a %+v", r.Baseline, a.Lifetime)
	}
}

// TestDraftThatDoesNotValidate gets the program parser's own error, line
// numbers and all, as applying the draft would.
func TestDraftThatDoesNotValidate(t *testing.T) {
	for _, draft := range []string{
		strings.Replace(smallProgram, "award: 50}", "award: fifty}", 1),
		strings.Replace(smallProgram, "on: deal.won,", "", 1),
		"name: [",
		"",
	} {
		_, want := program.Parse([]byte(draft))
		if want == nil {
			t.Fatalf("%q parses", draft)
		}
		_, err := Run(context.Background(), small(t), []byte(draft), Options{Now: now})
		if err == nil || err.Error() != want.Error() {
			t.Errorf("got %v\nwant %v", err, want)
		}
		if !errors.Is(err, want) && rung.ErrorCode(err) != rung.ErrorCode(want) {
			t.Errorf("code %s, want %s", rung.ErrorCode(err), rung.ErrorCode(want))
		}
	}
}

// TestPeriodWithoutEvents is an empty report that says so, not an error.
func TestPeriodWithoutEvents(t *testing.T) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	draft := strings.Replace(smallProgram, "award: 50}", "award: 80}", 1)
	r, err := Run(context.Background(), small(t), []byte(draft), Options{Now: now, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	r.Trim(false, 0)
	if !r.Empty || r.EventsInPeriod != 0 || !strings.Contains(r.Message, "no events") || !r.Totals.Zero() || len(r.Members)+len(r.Partners) != 0 {
		t.Fatalf("report: %+v", r)
	}
	// An empty log says so too.
	h := memoryHistory(t, nil, nil, nil, smallProgram)
	if r, err = Run(context.Background(), h, []byte(draft), Options{Now: now}); err != nil || !r.Empty {
		t.Fatalf("empty log: %+v, %v", r, err)
	}
	// A period that ends before it starts is an error that says how.
	if _, err := Run(context.Background(), small(t), []byte(draft), Options{Now: now, From: to, To: from}); rung.ErrorCode(err) != rung.EINVALID {
		t.Fatalf("reversed period: %v", err)
	}
}

// TestNoActiveProgram reports everything the draft awards as a gain.
func TestNoActiveProgram(t *testing.T) {
	h := small(t)
	h.Programs = nil
	r, err := Run(context.Background(), h, []byte(smallProgram), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if r.Active != 0 || r.Totals.PointsIssued != (Change{0, 600, 600}) {
		t.Fatalf("report: active %d, %+v", r.Active, r.Totals.PointsIssued)
	}
}

func TestSortByDeltaColumns(t *testing.T) {
	draft := strings.Replace(smallProgram, "award: 50}", "award: 100}", 1)
	r, err := Run(context.Background(), small(t), []byte(draft), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ids := func() string {
		var s []string
		for _, m := range r.Members {
			s = append(s, m.ID)
		}
		return strings.Join(s, ",")
	}
	for key, want := range map[string]string{"-lifetime": "c,a,b", "lifetime": "b,a,c", "name": "a,b,c", "-level": "b,a,c", "level": "a,c,b", "rank:members": "a,b,c", "": "a,b,c"} {
		if err := r.Sort(key); err != nil {
			t.Fatal(err)
		}
		if got := ids(); got != want {
			t.Errorf("sort %q: %s, want %s", key, got, want)
		}
	}
	if err := r.Sort("-points"); rung.ErrorCode(err) != rung.EINVALID || !strings.Contains(err.Error(), "lifetime") {
		t.Errorf("unknown key: %v", err)
	}
	r.Sort("-lifetime")
	r.Trim(true, 2)
	if ids() != "c,a" {
		t.Errorf("limit 2: %s", ids())
	}
}

func TestCSVHasOneLinePerRowAndEveryColumn(t *testing.T) {
	draft := strings.Replace(smallProgram, "award: 50}", "award: 100}", 1)
	h := small(t)
	h.Partners[0].Partner.Name = "=HYPERLINK(\"x\")"
	r, err := Run(context.Background(), h, []byte(draft), Options{Now: now, PointValue: func(*program.Program) (float64, bool) { return 0.01, true }})
	if err != nil {
		t.Fatal(err)
	}
	r.Trim(true, 0)
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	lines, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1+2+3 {
		t.Fatalf("%d lines", len(lines))
	}
	head := lines[0]
	col := func(line []string, name string) string { return line[slices.Index(head, name)] }
	p1 := lines[1]
	if col(p1, "id") != "p1" || col(p1, "lifetime_delta") != "150" || col(p1, "liability_delta") != "1.50" || col(p1, "name") != "'=HYPERLINK(\"x\")" {
		t.Errorf("p1 line: %v", p1)
	}
	if c := lines[5]; col(c, "id") != "c" || col(c, "rank_members_before") != "1" || col(c, "badges_gained") != "" {
		t.Errorf("c line: %v", c)
	}
	if r.Totals.Liability == nil || r.Totals.Liability.Delta != 3 {
		t.Errorf("liability: %+v", r.Totals.Liability)
	}
}

// TestDraftWithoutTiersOrLevels shows the qualified tier and level going
// away as a change, without counting steps down.
func TestDraftWithoutTiersOrLevels(t *testing.T) {
	draft := smallProgram[:strings.Index(smallProgram, "levels:")] + "leaderboards:\n  - {id: members, metric: points, for: member, window: all}\n"
	r, err := Run(context.Background(), small(t), []byte(draft), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	p2 := row(t, r.Partners, "p2")
	if p2.Tier == nil || *p2.Tier != (Move{"Select", "", 0}) || p2.Level != (Move{"Pro", "", 0}) || !p2.Changed {
		t.Fatalf("p2: tier %+v, level %+v", p2.Tier, p2.Level)
	}
	if r.Totals.PartnersTierDown != 0 || r.Totals.MembersLevelDown != 0 || r.Totals.PartnersChanged != 2 {
		t.Fatalf("totals: %+v", r.Totals)
	}
}

// TestLiabilityAtThePointValue gives the draft a point value of 0.5 where
// the active program has none: the liability before is nothing, after it
// is half the partners' balances (250 + 350 points: 300), and each
// partner's row says its share.
func TestLiabilityAtThePointValue(t *testing.T) {
	r, err := Run(context.Background(), small(t), []byte(smallProgram+"point_value: 0.5\n"), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if l := r.Totals.Liability; l == nil || *l != (Money{Before: 0, After: 300, Delta: 300}) {
		t.Fatalf("total liability = %+v, want 0 → 300", l)
	}
	if p2 := row(t, r.Partners, "p2"); p2.Liability == nil || p2.Liability.After != 175 {
		t.Errorf("p2's liability = %+v, want 175 after", p2.Liability)
	}
}

// A replay that reads heads (the draft) and one that applies every record
// as it comes (the live engine, from Records) agree on a log with
// corrections, retractions and bodies too large for the subjects' blocks,
// which the replay copies itself: the active program changes nothing.
func TestHeadsReplayAgreesWithRecordsOnCorrectionsAndRetractions(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the demo history")
	}
	d := demo.Generate(demo.Options{Now: now})
	h := memoryHistory(t, d.Partners, d.Members, nil, string(demo.Program))
	var recs []rung.Record
	for _, ev := range d.Events {
		recs = append(recs, rung.Record{Version: 1, Event: ev})
	}
	corrected, retracted, large := 0, 0, 0
	for i, ev := range d.Events {
		switch {
		case large < 3 && ev.Type == "deal.won" && ev.Attrs["sourced"] == true:
			// Scored by its attributes, which the body too large for
			// the subjects' blocks carries.
			attrs := maps.Clone(ev.Attrs)
			attrs["amount"] = attrs["amount"].(float64) * 2
			attrs["notes"] = strings.Repeat("x", 20_000) // over a quarter of a body block
			ev.Attrs = attrs
			recs = append(recs, rung.Record{Version: 2, Event: ev})
			corrected++
			large++
		case i%97 == 0:
			ev.OccurredAt = ev.OccurredAt.Add(-time.Hour)
			ev.Attrs = map[string]any{"corrected": true}
			recs = append(recs, rung.Record{Version: 2, Event: ev})
			corrected++
		case i%101 == 0:
			recs = append(recs, rung.Record{Version: 2, Retracted: true, Event: ev})
			retracted++
		}
	}
	for i := range recs {
		recs[i].Seq = int64(i + 1)
	}
	setLog(t, h, recs)
	e := liveEngine(t, h)
	r, err := Run(context.Background(), h, demo.Program, Options{Now: now,
		Live: func(fn func(*engine.Engine) error) error { return fn(e) }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Baseline != "live" || r.Records != len(recs) || r.Totals.PointsIssued.Before == 0 {
		t.Fatalf("baseline %s, %d records of %d, points %+v", r.Baseline, r.Records, len(recs), r.Totals.PointsIssued)
	}
	r.Trim(true, 0)
	assertNoChange(t, r)
	t.Logf("%d records: %d corrections (%d large), %d retractions", len(recs), corrected, large, retracted)
}
