package registration

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/store"
)

func TestMeasureTheSevenMetrics(t *testing.T) {
	h := time.Hour
	at := func(d time.Duration) time.Time { return start.Add(d) }
	rs := []store.Registration{
		// approved after 2h, meeting on day 3, won 10,000
		{ID: "a", Partner: "p1", Status: store.RegWon, SubmittedAt: at(0), ReviewDue: at(48 * h), RespondedAt: at(2 * h), ApprovedAt: at(2 * h),
			MeetingAt: at(72 * h), Amount: 10000, ClosedAt: at(200 * h), Region: "emea"},
		// approved after 10h, meeting on day 20 (too late for the rate), lost
		{ID: "b", Partner: "p1", Status: store.RegLost, SubmittedAt: at(0), ReviewDue: at(48 * h), RespondedAt: at(10 * h), ApprovedAt: at(10 * h),
			MeetingAt: at(480 * h)},
		// declined after 4h
		{ID: "c", Partner: "p2", Status: store.RegDeclined, SubmittedAt: at(0), ReviewDue: at(48 * h), RespondedAt: at(4 * h),
			Conflicts: []store.Conflict{{First: "a", Second: "c", Winner: "a", DecidedBy: "policy"}}},
		// approved, protected, in apac / cloud
		{ID: "d", Partner: "p2", Status: store.RegApproved, SubmittedAt: at(0), ReviewDue: at(48 * h), RespondedAt: at(6 * h), ApprovedAt: at(6 * h),
			ProtectedUntil: at(1000 * h), Region: "apac", Product: "cloud"},
		// waiting, overdue, in an open conflict
		{ID: "e", Partner: "p3", Status: store.RegSubmitted, SubmittedAt: at(0), ReviewDue: at(48 * h),
			Conflicts: []store.Conflict{{First: "d", Second: "e"}}},
	}
	m := Measure(rs, at(100*h))
	check := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || *got < want-1e-9 || *got > want+1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("meeting_rate", m.MeetingRate, 1.0/5)
	check("approval_rate", m.ApprovalRate, 3.0/4)
	check("win_rate", m.WinRate, 0.5)
	check("first response median", m.FirstResponseHours, 5)
	check("approval median", m.ApprovalHours, 6)
	if m.Registrations != 5 || m.ConflictsSettled != 1 || m.ConflictsByPolicy != 1 || m.ConflictsUnresolved != 1 || m.WonVolume != 10000 ||
		m.OverdueReviews != 1 || m.ActiveProtection != 1 || m.ActiveProtectionByRegion["apac"] != 1 || m.ActiveProtectionByProduct["cloud"] != 1 {
		t.Errorf("metrics = %+v", m)
	}
	if empty := Measure(nil, start); empty.MeetingRate != nil || empty.WinRate != nil {
		t.Errorf("rates of nothing = %+v", empty)
	}
	all := map[string]store.Registration{}
	for _, r := range rs {
		all[r.ID] = r
	}
	rs[0].Conflicts = []store.Conflict{{First: "a", Second: "c", Winner: "a"}}
	as := Attributions(rs, all)
	if len(as) != 1 || as[0].Sourced != "p1" || len(as[0].Influenced) != 1 || as[0].Influenced[0] != "p2" {
		t.Fatalf("attributions = %+v", as)
	}
	var buf bytes.Buffer
	WriteAttributionCSV(&buf, as)
	if !strings.Contains(buf.String(), "a,2026-11-10T17:00:00Z,,,,p1,,p2,10000") {
		t.Errorf("CSV = %s", buf.String())
	}
}

func TestSweepJobRunsUnderTheScheduler(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	ctx := context.Background()
	r := f.must(f.desk.Decide(ctx, f.submit(input("p1", "Soylent", "soylent.com")).ID, DecisionApprove, "", "admin"))
	f.clock.add(15 * 24 * time.Hour)
	runner := jobs.New(f.desk.st, jobs.Options{Clock: f.clock.now, Check: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err := runner.Add(f.desk.SweepJob()); err != nil {
		t.Fatal(err)
	}
	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { runner.Run(jctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := f.must(f.desk.Get(ctx, r.ID)); got.Status == store.RegExpired {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the sweep job did not expire the registration")
}

func TestSeedDemoCoversEveryState(t *testing.T) {
	f := newFixture(t, PolicyFirstMeeting)
	ctx := context.Background()
	var ps []rung.Partner
	for _, id := range []string{"p1", "p2"} {
		p, err := f.desk.Partner(id)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	f.clock.add(90 * 24 * time.Hour)
	n, err := f.desk.SeedDemo(ctx, ps, f.clock.now())
	if err != nil || n < 20 {
		t.Fatalf("SeedDemo = %d, %v", n, err)
	}
	rs := f.must2(f.desk.List(ctx, store.RegistrationFilter{}))
	states := map[string]int{}
	open, settled := 0, 0
	for _, r := range rs {
		states[r.Status]++
		for _, c := range r.Conflicts {
			if c.Second == r.ID {
				if c.Winner == "" {
					open++
				} else {
					settled++
				}
			}
		}
		for _, ev := range Events(r) {
			if _, ok := f.event(ev.ID); !ok {
				t.Errorf("event %s of %s (%s) is not in the log", ev.ID, r.ID, r.Status)
			}
		}
	}
	for _, s := range []string{store.RegSubmitted, store.RegNeedsInfo, store.RegApproved, store.RegDeclined, store.RegMeeting, store.RegWon, store.RegLost, store.RegExpired} {
		if states[s] == 0 {
			t.Errorf("no registration is %s: %v", s, states)
		}
	}
	if open == 0 || settled == 0 {
		t.Errorf("conflicts: %d open, %d settled", open, settled)
	}
	if m := Measure(rs, f.clock.now()); m.OverdueReviews == 0 {
		t.Errorf("no review is overdue: %+v", m)
	}
	if res, err := f.desk.Sweep(ctx, f.clock.now()); err != nil || res.Expired != 0 {
		t.Errorf("the demo left expiries due: %+v, %v", res, err)
	}
}
