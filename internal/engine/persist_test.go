package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/rung-dev/rung"
)

// dumpSetups are the programs the dump property runs on: every part of the
// state (awards with caps and keys, metrics, boards, tiers, badges of every
// kind, challenges and quests with results) is filled by one of them.
var dumpSetups = []struct {
	name  string
	setup func(t *rapid.T, now time.Time) *harness
}{
	{"points", func(t *rapid.T, now time.Time) *harness { return newHarness(t, testProgram, now) }},
	{"badges", newBadgeHarness},
	{"challenges", func(t *rapid.T, now time.Time) *harness { return newChallengeHarness(t, now) }},
	{"tiers", func(t *rapid.T, now time.Time) *harness { return newHarness(t, autoTierProgram, now) }},
}

var autoTierProgram = replaceAll(tierProgram, "AUTO", "true")

func replaceAll(s, old, new string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte(old), []byte(new)))
}

// dumpOp is one fact arriving: an event version, a retraction, a partner
// or member put again, an adjustment, a redemption, a tier override, or the
// clock moving.
type dumpOp func(h *harness)

func genDumpOps(t *rapid.T, n int) []dumpOp {
	var ops []dumpOp
	recvs := []time.Time{{}, time.Date(2026, 11, 2, 0, 0, 0, 0, berlin), time.Date(2026, 11, 9, 0, 0, 0, 0, berlin)}
	for i := 0; i < n; i++ {
		switch rapid.IntRange(0, 14).Draw(t, "kind") {
		case 0:
			m := rapid.SampledFrom([]string{"m1", "m2", "m3", "m4"}).Draw(t, "touchm")
			ops = append(ops, func(h *harness) { h.member(m, memberPartner[m]) })
		case 1:
			p := rapid.SampledFrom([]string{"p1", "p2", "p3", "p4"}).Draw(t, "touchp")
			size := rapid.SampledFrom([]string{"smb", "enterprise"}).Draw(t, "size")
			ops = append(ops, func(h *harness) { h.partner(p, size, "") })
		case 2:
			id := fmt.Sprintf("e%d", rapid.IntRange(0, 9).Draw(t, "rid"))
			ops = append(ops, func(h *harness) {
				known, retracted, v := h.e.Known(id)
				if !known || retracted {
					return
				}
				h.seq++
				h.e.Apply(&rung.Record{Seq: h.seq, Version: v + 1, Retracted: true, Event: h.e.EventBody(id)})
			})
		case 3:
			a := rung.Adjustment{ID: fmt.Sprintf("a%d", i), Partner: rapid.SampledFrom([]string{"p1", "p2"}).Draw(t, "ap"),
				Points: int64(rapid.IntRange(-50, 50).Draw(t, "apts")), Reason: "r", By: "admin",
				OccurredAt: time.Date(2026, 11, rapid.IntRange(1, 6).Draw(t, "aday"), 10, 0, 0, 0, berlin)}
			if a.Partner == "p1" && rapid.Bool().Draw(t, "am") {
				a.Member = "m1"
			}
			ops = append(ops, func(h *harness) { h.e.AddAdjustment(a) })
		case 4:
			r := rung.Redemption{ID: fmt.Sprintf("r%d", rapid.IntRange(0, 3).Draw(t, "rid")), Reward: "mug", Partner: "p1",
				Member: "m2", Points: 10, Status: rapid.SampledFrom([]string{rung.RedemptionPending, rung.RedemptionFulfilled, rung.RedemptionRejected}).Draw(t, "rst"),
				RequestedAt: time.Date(2026, 11, 3, 10, 0, 0, 0, berlin)}
			if r.Status != rung.RedemptionPending {
				r.DecidedAt = time.Date(2026, 11, 4, 10, 0, 0, 0, berlin)
			}
			ops = append(ops, func(h *harness) { h.e.PutRedemption(r) })
		case 5:
			o := TierOverride{ID: fmt.Sprintf("o%d", i), Partner: "p2", Tier: "Elite", Reason: "deal",
				From: time.Date(2026, 11, 2, 0, 0, 0, 0, berlin)}
			ops = append(ops, func(h *harness) { h.e.PutTierOverride(o) })
		case 6:
			hours := rapid.IntRange(1, 24*20).Draw(t, "hours")
			ops = append(ops, func(h *harness) {
				h.now = h.now.Add(time.Duration(hours) * time.Hour)
				h.e.SetNow(h.now)
			})
		default:
			id := fmt.Sprintf("e%d", rapid.IntRange(0, 9).Draw(t, "id"))
			ev := genEvent(t, id)
			recv := rapid.SampledFrom(recvs).Draw(t, "recv")
			ops = append(ops, func(h *harness) {
				st, v, _ := h.e.Classify(&ev)
				if st == StatusDuplicate {
					return
				}
				h.seq++
				h.e.Apply(&rung.Record{Seq: h.seq, Version: v, ReceivedAt: recv, Event: ev})
			})
		}
	}
	return ops
}

// TestDumpThenRestEqualsIncremental applies a random prefix of facts,
// writes the state, loads it into a new engine and applies the rest to
// both: the loaded engine answers every read as the one that never
// stopped, at the split and at the end, and writes the same bytes.
// (The one that never stopped equals a rebuild from the log: the arrival
// order properties.)
func TestDumpThenRestEqualsIncremental(t *testing.T) {
	for _, s := range dumpSetups {
		t.Run(s.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				now := time.Date(2026, 11, 4, 12, 0, 0, 0, berlin)
				a := s.setup(t, now)
				ops := genDumpOps(t, rapid.IntRange(0, 50).Draw(t, "ops"))
				split := rapid.IntRange(0, len(ops)).Draw(t, "split")
				for _, op := range ops[:split] {
					op(a)
				}
				b := &harness{t: t, e: roundTrip(t, a.e, a.seq), seq: a.seq, now: a.now}
				sameState(t, "after loading", a, b)
				for _, op := range ops[split:] {
					op(a)
					op(b)
				}
				sameState(t, "after the rest", a, b)
			})
		})
	}
}

// roundTrip writes e and loads it back.
func roundTrip(t *rapid.T, e *Engine, seq int64) *Engine {
	var buf bytes.Buffer
	if err := e.WriteDump(&buf, seq, 7); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, meta, err := LoadDump(bytes.NewReader(buf.Bytes()), e.Versions())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if meta.Seq != seq || meta.Change != 7 || meta.Format != DumpFormat {
		t.Fatalf("meta %+v", meta)
	}
	return got
}

// sameState compares every read the property tests compare, the effects
// of every event, and the dumps' bytes.
func sameState(t *rapid.T, when string, a, b *harness) {
	sameReads(t, when, a, b)
	var wa, wb bytes.Buffer
	if err := a.e.WriteDump(&wa, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.e.WriteDump(&wb, 1, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wa.Bytes(), wb.Bytes()) {
		t.Fatalf("%s: the dumps differ (%d and %d bytes)", when, wa.Len(), wb.Len())
	}
}

// sameReads compares every read the property tests compare and the
// effects of every event.
func sameReads(t *rapid.T, when string, a, b *harness) {
	for _, at := range []time.Time{a.now, time.Date(2026, 11, 3, 0, 0, 0, 0, berlin), time.Date(2026, 9, 30, 0, 0, 0, 0, berlin)} {
		if da, db := dump(a.e, at), dump(b.e, at); da != db {
			t.Fatalf("%s, as of %v, the states differ:\nincremental:\n%s\nloaded:\n%s", when, at, da, db)
		}
	}
	// Times compare as the API shows them: a dump keeps a time's offset,
	// not its named zone.
	if ra, rb := asJSON(a.e.Revocations()), asJSON(b.e.Revocations()); ra != rb {
		t.Fatalf("%s: revocations differ:\n%+v\n%+v", when, ra, rb)
	}
	for i := 0; i < 10; i++ {
		id := fmt.Sprintf("e%d", i)
		fa, erra := a.e.EventEffects(id)
		fb, errb := b.e.EventEffects(id)
		if asJSON(fa) != asJSON(fb) || fmt.Sprint(erra) != fmt.Sprint(errb) {
			t.Fatalf("%s: effects of %s differ:\n%+v %v\n%+v %v", when, id, fa, erra, fb, errb)
		}
	}
	for _, id := range a.e.MemberIDs("") {
		sa, _ := a.e.MemberScorecard(id, a.now)
		sb, _ := b.e.MemberScorecard(id, a.now)
		if asJSON(sa) != asJSON(sb) {
			t.Fatalf("%s: scorecards of %s differ:\n%+v\n%+v", when, id, sa, sb)
		}
	}
}

// TestDumpAfterBulkLoad writes the state of a bulk replay, as start-up
// leaves it, and loads it back.
func TestDumpAfterBulkLoad(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	rapid.Check(t, func(t *rapid.T) {
		h := newBadgeHarness(t, now)
		var log []rung.Record
		for i := 0; i < rapid.IntRange(1, 30).Draw(t, "n"); i++ {
			ev := genEvent(t, fmt.Sprintf("e%d", rapid.IntRange(0, 9).Draw(t, "id")))
			st, v, _ := h.e.Classify(&ev)
			if st == StatusDuplicate {
				continue
			}
			h.seq++
			rec := rung.Record{Seq: h.seq, Version: v, Event: ev}
			h.e.Apply(&rec)
			log = append(log, rec)
		}
		r := newBadgeHarness(t, now)
		if err := r.e.WriteDump(&bytes.Buffer{}, 0, 0); err != nil {
			t.Fatal(err)
		}
		r.e.BeginBulk(len(log))
		for i := range log {
			r.e.Apply(&log[i])
		}
		if r.e.Deferred() {
			if err := r.e.WriteDump(&bytes.Buffer{}, 0, 0); err == nil {
				t.Fatalf("a dump in the middle of a bulk load")
			}
		}
		r.e.EndBulk(now)
		r.seq = h.seq
		b := &harness{t: t, e: roundTrip(t, r.e, h.seq), seq: h.seq, now: now}
		sameState(t, "bulk", r, b)
		if dh, db := h.e.Digest(now), b.e.Digest(now); dh != db {
			t.Fatalf("loaded bulk replay differs from incremental:\n%s\n%s", dump(h.e, now), dump(b.e, now))
		}
	})
}

// TestLoadDumpRefusesOtherVersions: a dump is for the program versions it
// was written with.
func TestLoadDumpRefusesOtherVersions(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	h := newHarness(t, testProgram, now)
	h.send(ev("x1", "deal.won", "p1", "m1", now.Add(-time.Hour), map[string]any{"amount": 5000.0}))
	var buf bytes.Buffer
	if err := h.e.WriteDump(&buf, 1, 0); err != nil {
		t.Fatal(err)
	}
	other := newHarness(t, badgeProgram, now)
	if _, _, err := LoadDump(bytes.NewReader(buf.Bytes()), other.e.Versions()); !errors.Is(err, ErrDumpMismatch) {
		t.Fatalf("other program: %v", err)
	}
	if _, _, err := LoadDump(bytes.NewReader(buf.Bytes()), nil); !errors.Is(err, ErrDumpMismatch) {
		t.Fatalf("no program: %v", err)
	}
	b := append([]byte(nil), buf.Bytes()...)
	b[len(snapMagic)]++
	if _, _, err := LoadDump(bytes.NewReader(b), h.e.Versions()); !errors.Is(err, ErrDumpMismatch) {
		t.Fatalf("other format: %v", err)
	}
	if _, _, err := LoadDump(bytes.NewReader(buf.Bytes()[:buf.Len()-1]), h.e.Versions()); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatalf("cut: %v", err)
	}
	if e, _, err := LoadDump(bytes.NewReader(buf.Bytes()), h.e.Versions()); err != nil || e.Digest(now) != h.e.Digest(now) {
		t.Fatalf("same program: %v", err)
	}
}

func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
