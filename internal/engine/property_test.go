package engine

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

var memberPartner = map[string]string{"m1": "p1", "m2": "p1", "m3": "p2", "m4": "p3"}

// genEvent draws one event body for an id.
func genEvent(t *rapid.T, id string) rung.Event {
	types := []string{"training.completed", "certification.earned", "deal.won", "deal.registered", "meeting.first", "survey.csat", "portal.login"}
	typ := rapid.SampledFrom(types).Draw(t, "type")
	member := rapid.SampledFrom([]string{"m1", "m2", "m3", "m4"}).Draw(t, "member")
	partner := memberPartner[member]
	// Few distinct instants, so ties on occurred_at happen and the id
	// decides; a share in Q3 so expiry and quarter windows interact.
	month := rapid.SampledFrom([]time.Month{9, 11, 11, 11}).Draw(t, "month")
	day := rapid.IntRange(1, 6).Draw(t, "day")
	hour := rapid.SampledFrom([]int{9, 12, 23}).Draw(t, "hour")
	at := time.Date(2026, month, day, hour, 30, 0, 0, berlin)
	attrs := map[string]any{}
	switch typ {
	case "training.completed":
		attrs["score"] = float64(rapid.IntRange(60, 100).Draw(t, "score"))
	case "certification.earned":
		attrs["cert_id"] = rapid.SampledFrom([]string{"A", "B"}).Draw(t, "cert")
	case "deal.won":
		attrs["amount"] = float64(rapid.IntRange(1, 200).Draw(t, "amount")) * 1000.5
	case "deal.registered":
		attrs["qualified"] = rapid.Bool().Draw(t, "qualified")
	case "survey.csat":
		attrs["score"] = float64(rapid.IntRange(1, 5).Draw(t, "csat"))
		member = ""
	}
	return rung.Event{ID: id, Type: typ, Partner: partner, Member: member, OccurredAt: at, Attrs: attrs}
}

// op is one arrival: a version of an event or a retraction.
type op struct {
	retract bool
	ev      rung.Event
}

// TestStateIsIndependentOfArrivalOrder checks SPEC §2's determinism: each
// event has a history (versions, duplicates, a retraction); any
// interleaving of those histories gives the same derived state, and that
// state equals a rebuild from the log.
func TestStateIsIndependentOfArrivalOrder(t *testing.T) {
	checkArrivalOrder(t, func(t *rapid.T, now time.Time) *harness { return newHarness(t, testProgram, now) })
}

// TestBadgesAreIndependentOfArrivalOrder is the same check on a program
// with badges of every kind (event badges with evidence that may fail,
// metric badges on counts, sums, averages, ratios, distinct counts and
// points, step badges from joining and from the first step, ordered or not,
// with bonus points): what subjects hold does not depend on the order
// events arrive in, and a rebuild gives it back, with the same revocations.
func TestBadgesAreIndependentOfArrivalOrder(t *testing.T) {
	checkArrivalOrder(t, newBadgeHarness)
}

func checkArrivalOrder(t *testing.T, setup func(*rapid.T, time.Time) *harness) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 30).Draw(t, "events")
		var histories [][]op
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("e%02d", i)
			var h []op
			versions := rapid.IntRange(1, 3).Draw(t, "versions")
			for v := 0; v < versions; v++ {
				e := genEvent(t, id)
				h = append(h, op{ev: e})
				if rapid.IntRange(0, 4).Draw(t, "dup") == 0 {
					h = append(h, op{ev: e})
				}
			}
			if rapid.IntRange(0, 5).Draw(t, "retract") == 0 {
				h = append(h, op{retract: true, ev: rung.Event{ID: id}})
			}
			histories = append(histories, h)
		}
		order := func(label string) []op {
			pos := make([]int, len(histories))
			var out []op
			for {
				var open []int
				for i, h := range histories {
					if pos[i] < len(h) {
						open = append(open, i)
					}
				}
				if len(open) == 0 {
					return out
				}
				i := rapid.SampledFrom(open).Draw(t, label)
				out = append(out, histories[i][pos[i]])
				pos[i]++
			}
		}
		a := run(t, setup, order("orderA"), now)
		b := run(t, setup, order("orderB"), now)
		if da, db := a.e.Digest(now), b.e.Digest(now); da != db {
			t.Fatalf("two arrival orders differ:\nA:\n%s\nB:\n%s", dump(a.e, now), dump(b.e, now))
		}
		// Rebuild A from its log, in bulk as at start-up.
		r := replay(t, setup, a, now)
		if da, dr := a.e.Digest(now), r.Digest(now); da != dr {
			t.Fatalf("incremental differs from rebuild:\nincremental:\n%s\nrebuild:\n%s", dump(a.e, now), dump(r, now))
		}
		if ra, rr := a.e.Revocations(), r.Revocations(); !reflect.DeepEqual(ra, rr) {
			t.Fatalf("revocations differ:\nincremental: %+v\nrebuild: %+v", ra, rr)
		}
	})
}

type logged struct {
	*harness
	log []rung.Record
}

func run(t *rapid.T, setup func(*rapid.T, time.Time) *harness, ops []op, now time.Time) *logged {
	h := setup(t, now)
	l := &logged{harness: h}
	for _, o := range ops {
		if o.retract {
			known, retracted, v := h.e.Known(o.ev.ID)
			if !known || retracted {
				continue
			}
			h.seq++
			rec := rung.Record{Seq: h.seq, Version: v + 1, Retracted: true, Event: h.e.EventBody(o.ev.ID)}
			h.e.Apply(&rec)
			l.log = append(l.log, rec)
			continue
		}
		st, v, _ := h.e.Classify(&o.ev)
		if st == StatusDuplicate {
			continue
		}
		h.seq++
		rec := rung.Record{Seq: h.seq, Version: v, Event: o.ev}
		h.e.Apply(&rec)
		l.log = append(l.log, rec)
	}
	return l
}

func replay(t *rapid.T, setup func(*rapid.T, time.Time) *harness, l *logged, now time.Time) *Engine {
	h := setup(t, now)
	h.e.BeginBulk(len(l.log))
	for i := range l.log {
		rec := l.log[i]
		h.e.Apply(&rec)
	}
	h.e.EndBulk(now)
	return h.e
}

func dump(e *Engine, now time.Time) string {
	var b fmtBuf
	e.Dump(&b, now)
	return string(b)
}

type fmtBuf []byte

func (b *fmtBuf) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// badgeProgram is testProgram with badges of every kind.
const badgeProgram = testProgram + `
badges:
  - id: cert-a
    name: Cert A
    on: certification.earned
    when: event.attrs.cert_id == "A"
    evidence: event.attrs.cert_id
    points: 40
  - id: top-training
    on: training.completed
    evidence: 'event.attrs.score >= 90 ? "top score" : ""'
  - id: surveyed
    for: partner
    on: survey.csat
    evidence: string(event.attrs.score)
  - id: deal-maker
    metric: registrations
    levels: {Bronze: 1, Silver: 2, Gold: 4}
    points: 15
  - id: big-seller
    for: partner
    metric: sourced_revenue
    levels: {Bronze: 100000, Gold: 300000}
    points: 100
  - id: happy
    for: partner
    metric: csat
    levels: {Good: 3, Great: 4.5}
  - id: closer
    for: partner
    metric: meeting_rate
    levels: {Half: 0.5, All: 1}
  - id: certified-team
    for: partner
    metric: certified
    levels: {Two: 2, Three: 3}
  - id: pointy
    metric: points
    levels: {P300: 300, P900: 900}
    points: 5
  - id: quick-start
    steps: [training.completed, deal.registered]
    within: 3d
    from: first_step
    ordered: true
    points: 20
  - id: team-ramp
    for: partner
    steps: [portal.login, {type: training.completed, count: 2, where: event.attrs.score >= 70}, meeting.first]
    within: 30d
    from: joined_at
  - id: member-ramp
    steps: [certification.earned, deal.won]
    within: 2d
`

// newBadgeHarness is a harness on badgeProgram where p1 and m1 have
// joined_at dates (the others count their steps from the first).
func newBadgeHarness(t *rapid.T, now time.Time) *harness {
	h := newHarness(t, badgeProgram, now)
	h.e.PutPartner(rung.PartnerVersion{Version: 2, ValidFrom: time.Unix(0, 0),
		Partner: rung.Partner{ID: "p1", Name: "Partner p1", Size: "smb", JoinedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, berlin)}})
	h.e.PutMember(rung.Member{ID: "m1", Partner: "p1", Name: "Member m1", JoinedAt: time.Date(2026, 11, 3, 12, 0, 0, 0, berlin),
		Memberships: []rung.Membership{{Partner: "p1"}}})
	return h
}
