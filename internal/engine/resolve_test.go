package engine

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
)

// TestApplyResolvedEqualsApply replays a log with Apply, with
// ApplyResolved (subjects found beforehand, as a simulation's reader finds
// them) and with ApplyLent (records decoded in place in blocks the engine
// keeps, as a start reads the log): in bulk and live, with badges or
// without, and with events of unknown partners and members, every read and
// every event's body is the same.
func TestApplyResolvedEqualsApply(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		setup := newBadgeHarness
		plain := rapid.Bool().Draw(t, "plain")
		if plain {
			setup = func(t *rapid.T, now time.Time) *harness { return newHarness(t, testProgram, now) }
		}
		h := setup(t, now)
		var log []rung.Record
		for i := 0; i < rapid.IntRange(1, 30).Draw(t, "n"); i++ {
			ev := genEvent(t, fmt.Sprintf("e%d", rapid.IntRange(0, 9).Draw(t, "id")))
			switch rapid.IntRange(0, 5).Draw(t, "stranger") {
			case 0:
				ev.Partner = "p-unknown"
			case 1:
				ev.Member = "m-unknown"
			}
			if rapid.IntRange(0, 6).Draw(t, "retract") == 0 {
				if known, retracted, v := h.e.Known(ev.ID); known && !retracted {
					h.seq++
					rec := rung.Record{Seq: h.seq, Version: v + 1, Retracted: true, Event: h.e.EventBody(ev.ID)}
					h.e.Apply(&rec)
					log = append(log, rec)
					continue
				}
			}
			st, v, _ := h.e.Classify(&ev)
			if st == StatusDuplicate {
				continue
			}
			h.seq++
			rec := rung.Record{Seq: h.seq, Version: v, Event: ev}
			h.e.Apply(&rec)
			log = append(log, rec)
		}
		bulk := rapid.Bool().Draw(t, "bulk")
		run := rapid.IntRange(1, 8).Draw(t, "run") // records a lent block holds
		load := func(resolve bool) *harness {
			r := setup(t, now)
			r.seq = h.seq
			var s *Subjects
			if resolve {
				// Made from another engine given the same subjects.
				s = setup(t, now).e.Subjects()
				if !s.Fits(r.e) {
					t.Fatalf("subjects of an engine set up alike do not fit")
				}
			}
			if bulk {
				r.e.BeginBulk(len(log))
			}
			for i := range log {
				rec := log[i]
				if resolve {
					// The record as a store's reader hands it: with its
					// encoding, in memory written again after (the engine
					// keeps the copy Resolve made).
					raw, err := codec.EncodeRecord(nil, &rec)
					if err != nil {
						t.Fatal(err)
					}
					rec.Raw = raw
					sub := s.Resolve(&rec)
					clear(raw)
					r.e.ApplyResolved(&rec, sub)
				} else {
					r.e.Apply(&rec)
				}
			}
			if bulk {
				r.e.EndBulk(now)
			}
			return r
		}
		lent := func() *harness {
			r := setup(t, now)
			r.seq = h.seq
			if bulk {
				r.e.BeginBulk(len(log))
			}
			names := new(codec.Names)
			for start, n := 0, uint32(1); start < len(log); start, n = start+run, n+1 {
				// A block of run records' encodings, as a store's stream
				// fills one, each record decoded in place in it.
				var block []byte
				var offs []int
				for i := start; i < min(start+run, len(log)); i++ {
					offs = append(offs, len(block))
					var err error
					if block, err = codec.AppendRecord(block, &log[i]); err != nil {
						t.Fatal(err)
					}
				}
				for j, off := range offs {
					end := len(block)
					if j+1 < len(offs) {
						end = offs[j+1]
					}
					rec := rung.Record{Seq: log[start+j].Seq, Version: log[start+j].Version, Event: rung.Event{ID: log[start+j].Event.ID}}
					rec.Raw = block[off:end:end]
					if err := codec.DecodeRecordKept(rec.Raw, &rec, nil, names); err != nil {
						t.Fatal(err)
					}
					r.e.ApplyLent(&rec, block, n, uint32(off))
				}
			}
			if bulk {
				r.e.EndBulk(now)
			}
			return r
		}
		// The bodies sit in other blocks, so the dumps' bytes differ;
		// every read and every event's body are the same.
		a := load(false)
		for _, o := range []struct {
			name string
			h    *harness
		}{{"resolved", load(true)}, {"lent", lent()}} {
			sameReads(t, o.name, a, o.h)
			for ev := range a.e.events.all {
				if x, y := asJSON(a.e.EventBody(ev.id)), asJSON(o.h.e.EventBody(ev.id)); x != y {
					t.Fatalf("event %s: body %s, %s %s", ev.id, x, o.name, y)
				}
			}
		}
	})
}

// TestSubjectsFitsOnlyTheSameSubjects: subjects made from one engine fit an
// engine with the same partners and members under the same handles only.
func TestSubjectsFitsOnlyTheSameSubjects(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	a := newHarness(t, testProgram, now)
	s := a.e.Subjects()
	if !s.Fits(newHarness(t, testProgram, now).e) {
		t.Fatalf("an engine set up alike does not fit")
	}
	more := newHarness(t, testProgram, now)
	more.member("m5", "p1")
	if s.Fits(more.e) {
		t.Fatalf("an engine with another member fits")
	}
	other := &harness{t: t, e: New(), now: now}
	other.partner("p2", "smb", "")
	other.partner("p1", "smb", "")
	other.partner("p3", "enterprise", "Select")
	for _, m := range [][2]string{{"m1", "p1"}, {"m2", "p1"}, {"m3", "p2"}, {"m4", "p3"}} {
		other.member(m[0], m[1])
	}
	if s.Fits(other.e) {
		t.Fatalf("an engine with the partners in another order fits")
	}
	// Adding a subject after does not change what s resolves.
	a.member("m6", "p2")
	if got := s.Resolve(&rung.Record{Event: rung.Event{Partner: "p2", Member: "m6"}}); got.p != 2 || got.m != 0 {
		t.Fatalf("Resolve after a new member = %+v, want partner 2 and no member", got)
	}
	if got := s.Resolve(&rung.Record{Event: rung.Event{Partner: "p3", Member: "m4"}}); got.p != 3 || got.m != 4 {
		t.Fatalf("Resolve = %+v, want partner 3, member 4", got)
	}
}
