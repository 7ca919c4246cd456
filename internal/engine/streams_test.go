package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// TestPeriodLocalRules checks which rules' streams an event changes only
// within its limit period: a limit and no once_per key in every version, one
// period for all of them, one calendar for every version.
func TestPeriodLocalRules(t *testing.T) {
	prog := func(tz, rule string) *program.Program {
		t.Helper()
		src := fmt.Sprintf("name: T\ntimezone: %s\nactivities:\n  x: {label: X}\npoints:\n  rules:\n%s", tz, rule)
		p, err := program.Parse([]byte(src))
		if err != nil {
			t.Fatalf("parse %q: %v", src, err)
		}
		return p
	}
	const (
		daily   = "    - {id: r, on: x, award: 5, limit: {max: 10, per: day}}\n"
		weekly  = "    - {id: r, on: x, award: 5, limit: {max: 10, per: week}}\n"
		keyed   = "    - {id: r, on: x, award: 5, once_per: event.attrs.k}\n"
		both    = "    - {id: r, on: x, award: 5, limit: {max: 10, per: day}, once_per: event.attrs.k}\n"
		free    = "    - {id: r, on: x, award: 5}\n"
		another = "    - {id: s, on: x, award: 1, limit: {max: 3, per: month}}\n"
	)
	tests := []struct {
		name     string
		versions []*program.Program
		want     map[string]bool // absent: false
	}{
		{"a daily limit", []*program.Program{prog("UTC", daily)}, map[string]bool{"r": true}},
		{"a once_per key", []*program.Program{prog("UTC", keyed)}, nil},
		{"a limit and a key", []*program.Program{prog("UTC", both)}, nil},
		{"no limit", []*program.Program{prog("UTC", free)}, nil},
		{"the same limit in two versions", []*program.Program{prog("UTC", daily), prog("UTC", daily+another)}, map[string]bool{"r": true, "s": true}},
		{"the period changes", []*program.Program{prog("UTC", daily), prog("UTC", weekly)}, nil},
		{"a key comes later", []*program.Program{prog("UTC", daily+another), prog("UTC", both+another)}, map[string]bool{"s": true}},
		{"the limit goes", []*program.Program{prog("UTC", daily), prog("UTC", free)}, nil},
		{"the limit comes", []*program.Program{prog("UTC", free), prog("UTC", daily)}, nil},
		{"the time zone changes", []*program.Program{prog("UTC", daily+another), prog("Europe/Berlin", daily+another)}, nil},
		{"the same time zone", []*program.Program{prog("Europe/Berlin", daily), prog("Europe/Berlin", daily)}, map[string]bool{"r": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var vs []*Version
			for i, p := range tc.versions {
				vs = append(vs, &Version{N: i + 1, From: time.Unix(int64(i)*86400, 0), Program: p})
			}
			got := map[string]bool{}
			for id, ok := range periodLocal(vs) {
				if ok {
					got[id] = true
				}
			}
			want := tc.want
			if want == nil {
				want = map[string]bool{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("period-local rules = %v, want %v", got, want)
			}
		})
	}
}

// TestPeriodLocalRegrantEqualsFull applies events of a daily-limited rule in
// an order that inserts most of them before others, then retracts some, on
// two engines: one regrants only the inserted event's day, the other the
// whole stream. Their awards, notes and balances must agree, and the capped
// days must be capped.
func TestPeriodLocalRegrantEqualsFull(t *testing.T) {
	const src = `
name: T
timezone: Europe/Berlin
activities:
  x: {label: X}
points:
  rules:
    - {id: r, on: x, award: event.attrs.n, limit: {max: 10, per: day}}
`
	p, err := program.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, berlin)
	build := func(local bool) *Engine {
		e := New()
		if err := e.SetVersions([]*Version{{N: 1, From: time.Unix(0, 0), Program: p}}, now); err != nil {
			t.Fatal(err)
		}
		if !local {
			e.periodLocal = nil
		} else if !e.periodLocal["r"] {
			t.Fatal("rule r is not period-local")
		}
		e.PutPartner(rung.PartnerVersion{Version: 1, Partner: rung.Partner{ID: "p1", Name: "P"}})
		e.PutMember(rung.Member{ID: "m1", Partner: "p1", Memberships: []rung.Membership{{Partner: "p1"}}})
		return e
	}
	local, full := build(true), build(false)
	var recs []rung.Record
	// Three days, sixteen events a day of 1–4 points each (so a day's 10 is
	// reached by some and not by others), sent newest first, with the
	// events around midnight in Berlin (23:30 and 00:30) in between.
	seq := int64(0)
	for i := 47; i >= 0; i-- {
		day, k := i/16, i%16
		hour := []int{0, 9, 12, 23}[k%4]
		at := time.Date(2026, 11, 2+day, hour, 30, k, 0, berlin)
		seq++
		recs = append(recs, rung.Record{Seq: seq, Version: 1, Event: rung.Event{
			ID: fmt.Sprintf("e%02d", i), Type: "x", Partner: "p1", Member: "m1", OccurredAt: at,
			Attrs: map[string]any{"n": float64(1 + i%4)}}})
	}
	for i := 0; i < 48; i += 5 {
		seq++
		r := recs[i]
		recs = append(recs, rung.Record{Seq: seq, Version: 2, Retracted: true, Event: r.Event})
	}
	for i := range recs {
		a, b := recs[i], recs[i]
		local.Apply(&a)
		full.Apply(&b)
		if dl, df := local.Digest(now), full.Digest(now); dl != df {
			t.Fatalf("after record %d (%s):\nperiod-local:\n%s\nfull:\n%s", i, recs[i].Event.ID, dump(local, now), dump(full, now))
		}
	}
	capped := 0
	for i := 0; i < 48; i++ {
		ef, err := local.EventEffects(fmt.Sprintf("e%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ef.Notes {
			if strings.Contains(n, "limit 10 per day") {
				capped++
			}
		}
	}
	if capped == 0 {
		t.Fatal("no event was capped: the test does not reach the limit")
	}
}
