package registration

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

var start = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// clock is the tests' settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t     *testing.T
	desk  *Desk
	svc   *service.Service
	clock *clock
}

func programWith(policy string) string {
	return `name: Registration test
timezone: UTC
points:
  rules:
    - {id: approved, on: registration.approved, award: 100, to: partner}
    - {id: meeting, on: meeting.first, award: 200, to: partner}
    - {id: won, on: deal.won, award: event.attrs.amount / 100, to: partner}
registration:
  review_within: 2d
  hold: 90d
  meeting_within: 14d
  extend_on_meeting: 30d
  conflict: ` + policy + "\n"
}

func newFixture(t *testing.T, policy string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: start}
	svc, err := service.Open(ctx, st, service.Options{Clock: c.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	if _, err := svc.ApplyProgram(ctx, []byte(programWith(policy)), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []rung.Partner{
		{ID: "p1", Name: "Alpha Consulting", Domains: []string{"alpha.com"}, JoinedAt: start.AddDate(-1, 0, 0)},
		{ID: "p2", Name: "Beta Systems", Domains: []string{"beta.de", "beta-systems.com"}, JoinedAt: start.AddDate(-1, 0, 0)},
	} {
		if _, err := svc.PutPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.PutMember(ctx, rung.Member{ID: "m2", Partner: "p2", Name: "Bea"}); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, desk: New(svc, Options{Logger: slog.New(slog.DiscardHandler)}), svc: svc, clock: c}
}

func input(partner, company, domain string) Input {
	return Input{Kind: KindDeal, Partner: partner, CompanyName: company, CompanyDomain: domain,
		ContactName: "Jane Doe", ContactEmail: "jane@initech-contacts.com", Amount: 50000, Channel: "api", By: "test"}
}

func (f *fixture) submit(in Input) store.Registration {
	f.t.Helper()
	r, _, err := f.desk.Submit(context.Background(), in)
	if err != nil {
		f.t.Fatalf("Submit: %v", err)
	}
	return r
}

func (f *fixture) must(r store.Registration, err error) store.Registration {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// event returns the body of a logged event, and whether it is there.
func (f *fixture) event(id string) (rung.Event, bool) {
	var ev rung.Event
	var ok bool
	f.svc.Read(func(e *engine.Engine) error {
		known, retracted, _ := e.Known(id)
		ok = known && !retracted
		if ok {
			ev = e.EventBody(id)
		}
		return nil
	})
	return ev, ok
}

func (f *fixture) points(partner string) int64 {
	var n int64
	f.svc.Read(func(e *engine.Engine) error {
		sc, err := e.PartnerScorecard(partner, f.clock.now())
		n = sc.Points.Lifetime
		return err
	})
	return n
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if rung.ErrorCode(err) != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

func TestSubmitNormalizesFlagsAndLogsTheEvent(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	ctx := context.Background()
	if err := f.desk.st.PutCRMAccount(ctx, store.CRMAccount{Domain: "initech.co.uk", Name: "Initech", NormalizedName: "initech", Customer: true, Owner: "ae@vendor.com"}); err != nil {
		t.Fatal(err)
	}
	r, created, err := f.desk.Submit(ctx, input("p1", "Initech Ltd.", "https://shop.initech.co.uk/"))
	if err != nil || !created {
		t.Fatalf("Submit = %v, %v", created, err)
	}
	if r.NormalizedName != "initech" || r.RegistrableDomain != "initech.co.uk" || r.Status != store.RegSubmitted ||
		!r.Customer || r.AccountOwner != "ae@vendor.com" || !r.ReviewDue.Equal(start.Add(48*time.Hour)) || len(r.ID) != 10 {
		t.Fatalf("registration = %+v", r)
	}
	ev, ok := f.event("registration:" + r.ID + ":submitted")
	if !ok || ev.Type != "registration.submitted" || ev.Partner != "p1" || ev.Attrs["domain"] != "initech.co.uk" {
		t.Fatalf("submitted event = %+v, %v", ev, ok)
	}
	// A sub-domain, another spelling: the same company, the same partner.
	again, created, err := f.desk.Submit(ctx, input("p1", "INITECH LIMITED", "www.initech.co.uk"))
	if err != nil || created || again.ID != r.ID {
		t.Fatalf("the same partner again = %s, %v, %v; want %s", again.ID, created, err, r.ID)
	}
	// A company close in name but with its own domain is a possible match.
	m := f.submit(input("p2", "Initech Inc", "initech.com"))
	if len(m.Conflicts) != 0 || len(m.Matches) != 2 || m.Matches[0].Registration != r.ID && m.Matches[0].Account != "initech.co.uk" {
		t.Fatalf("possible matches = %+v, conflicts %+v", m.Matches, m.Conflicts)
	}
	// Without a domain, the contact's company address gives it.
	n := f.submit(Input{Partner: "p2", CompanyName: "Hooli", ContactEmail: "Gavin <gavin@mail.hooli.xyz>"})
	if n.RegistrableDomain != "hooli.xyz" || n.Kind != KindLead || n.ContactName != "Gavin" {
		t.Fatalf("derived domain = %+v", n)
	}
	// ... but not a free mailbox: then the name is the key.
	g := f.submit(Input{Partner: "p2", CompanyName: "Pied Piper", ContactEmail: "richard@gmail.com"})
	if g.RegistrableDomain != "" || g.CompanyKey != "name:pied piper" {
		t.Fatalf("free-mail contact = %+v", g)
	}
}

func TestBadInputIsRefusedAndNothingStored(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	no := false
	tests := []struct {
		name, key string
		in        Input
	}{
		{"missing company", "company.name", Input{Partner: "p1", ContactEmail: "a@initech.com"}},
		{"missing contact", "contact.email", Input{Partner: "p1", CompanyName: "Initech"}},
		{"invalid e-mail", "contact.email", Input{Partner: "p1", CompanyName: "Initech", ContactEmail: "jane at initech"}},
		{"invalid domain", "company.domain", Input{Partner: "p1", CompanyName: "Initech", CompanyDomain: "co.uk", ContactEmail: "a@initech.com"}},
		{"consent not given", "consent", Input{Partner: "p1", CompanyName: "Initech", ContactEmail: "a@initech.com", Consent: &no}},
		{"unknown partner", "partner", Input{Partner: "p9", CompanyName: "Initech", ContactEmail: "a@initech.com"}},
		{"no partner", "partner", Input{CompanyName: "Initech", ContactEmail: "a@initech.com"}},
		{"member of another partner", "member", Input{Partner: "p1", Member: "m2", CompanyName: "Initech", ContactEmail: "a@initech.com"}},
		{"the partner's own domain", "company.domain", Input{Partner: "p1", CompanyName: "Alpha", CompanyDomain: "www.alpha.com", ContactEmail: "a@alpha.com"}},
		{"a free mailbox domain", "company.domain", Input{Partner: "p1", CompanyName: "Initech", CompanyDomain: "gmail.com", ContactEmail: "a@initech.com"}},
		{"unknown kind", "kind", Input{Kind: "opportunity", Partner: "p1", CompanyName: "Initech", ContactEmail: "a@initech.com"}},
		{"negative amount", "amount", Input{Partner: "p1", CompanyName: "Initech", ContactEmail: "a@initech.com", Amount: -1}},
	}
	for _, tt := range tests {
		_, _, err := f.desk.Submit(context.Background(), tt.in)
		var e *rung.Error
		if rung.ErrorCode(err) != rung.EINVALID || !asError(err, &e) || len(e.Details) == 0 || e.Details[0].Key != tt.key {
			t.Errorf("%s: error %v, want EINVALID about %s", tt.name, err, tt.key)
		}
	}
	if rs, err := f.desk.List(context.Background(), store.RegistrationFilter{}); err != nil || len(rs) != 0 {
		t.Fatalf("stored after bad input: %d, %v", len(rs), err)
	}
}

func TestLifecycleApprovedMeetingWonWritesScoredEvents(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	ctx := context.Background()
	r := f.submit(input("p1", "Globex Corp", "globex.com"))
	_, err := f.desk.Decide(ctx, r.ID, DecisionDecline, "", "admin")
	wantCode(t, err, rung.EINVALID)
	_, err = f.desk.Meeting(ctx, r.ID, time.Time{}, "p1")
	wantCode(t, err, rung.ECONFLICT) // not approved yet

	f.clock.add(5 * time.Hour)
	r = f.must(f.desk.Decide(ctx, r.ID, DecisionApprove, "", "admin"))
	if r.Status != store.RegApproved || !r.ProtectedUntil.Equal(f.clock.now().Add(90*24*time.Hour)) ||
		!r.MeetingDue.Equal(f.clock.now().Add(14*24*time.Hour)) || !r.RespondedAt.Equal(start.Add(5*time.Hour)) {
		t.Fatalf("approved = %+v", r)
	}
	again := f.must(f.desk.Decide(ctx, r.ID, DecisionApprove, "", "admin"))
	if again.Version != r.Version {
		t.Fatalf("approving twice changed the registration: v%d → v%d", r.Version, again.Version)
	}
	_, err = f.desk.Decide(ctx, r.ID, DecisionNeedsInfo, "which team?", "admin")
	wantCode(t, err, rung.ECONFLICT)

	f.clock.add(3 * 24 * time.Hour)
	before := r.ProtectedUntil
	r = f.must(f.desk.Meeting(ctx, r.ID, f.clock.now().Add(-time.Hour), "p1"))
	if r.Status != store.RegMeeting || !r.ProtectedUntil.Equal(before.Add(30*24*time.Hour)) || !r.MeetingAt.Equal(f.clock.now().Add(-time.Hour)) {
		t.Fatalf("after the meeting = %+v", r)
	}
	f.clock.add(24 * time.Hour)
	r = f.must(f.desk.Close(ctx, r.ID, true, 120000, "", "crm"))
	if r.Status != store.RegWon || r.Amount != 120000 {
		t.Fatalf("won = %+v", r)
	}
	_, err = f.desk.Close(ctx, r.ID, false, 0, "", "crm")
	wantCode(t, err, rung.ECONFLICT)
	for _, id := range []string{"submitted", "approved", "meeting", "won"} {
		if _, ok := f.event("registration:" + r.ID + ":" + id); !ok {
			t.Errorf("event %s missing", id)
		}
	}
	ev, _ := f.event("registration:" + r.ID + ":won")
	if ev.Type != "deal.won" || ev.Attrs["amount"] != 120000.0 {
		t.Errorf("won event = %+v", ev)
	}
	if got := f.points("p1"); got != 100+200+1200 {
		t.Errorf("p1 has %d points, want 1500 from approved, meeting and won", got)
	}
}

func TestNeedsInfoGoesBackToSubmitted(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	ctx := context.Background()
	r := f.submit(input("p2", "Umbrella", "umbrella.com"))
	_, err := f.desk.Answer(ctx, r.ID, "more", "p2")
	wantCode(t, err, rung.ECONFLICT)
	r = f.must(f.desk.Decide(ctx, r.ID, DecisionNeedsInfo, "Which business unit?", "admin"))
	if r.Status != store.RegNeedsInfo || r.Reason != "Which business unit?" {
		t.Fatalf("needs_info = %+v", r)
	}
	f.clock.add(72 * time.Hour)
	r = f.must(f.desk.Answer(ctx, r.ID, "Pharma, EMEA", "p2"))
	if r.Status != store.RegSubmitted || !r.ReviewDue.Equal(f.clock.now().Add(48*time.Hour)) || r.Notes == "" {
		t.Fatalf("answered = %+v", r)
	}
	r = f.must(f.desk.Decide(ctx, r.ID, DecisionNeedsInfo, "And the budget?", "admin"))
	r = f.must(f.desk.Decide(ctx, r.ID, DecisionDecline, "No budget this year", "admin"))
	if r.Status != store.RegDeclined || r.ClosedAt.IsZero() {
		t.Fatalf("declined = %+v", r)
	}
	for _, id := range []string{"needs_info", "resubmitted", "needs_info:2", "declined"} {
		if _, ok := f.event("registration:" + r.ID + ":" + id); !ok {
			t.Errorf("event %s missing", id)
		}
	}
}

func TestExpiryWithoutMeetingAndAtHoldEnd(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	ctx := context.Background()
	a := f.must(f.desk.Decide(ctx, f.submit(input("p1", "Soylent", "soylent.com")).ID, DecisionApprove, "", "admin"))
	b := f.must(f.desk.Decide(ctx, f.submit(input("p1", "Tyrell", "tyrell.com")).ID, DecisionApprove, "", "admin"))
	f.must(f.desk.Meeting(ctx, b.ID, time.Time{}, "p1"))
	late := f.submit(input("p2", "Wonka", "wonka.com")) // waits for review

	f.clock.add(14*24*time.Hour - time.Second)
	if res, err := f.desk.Sweep(ctx, f.clock.now()); err != nil || res.Expired != 0 || res.OverdueReviews != 1 {
		t.Fatalf("sweep before the deadline = %+v, %v", res, err)
	}
	f.clock.add(time.Hour)
	res, err := f.desk.Sweep(ctx, f.clock.now())
	if err != nil || res.Expired != 1 {
		t.Fatalf("sweep after the meeting deadline = %+v, %v", res, err)
	}
	a = f.must(f.desk.Get(ctx, a.ID))
	if a.Status != store.RegExpired || !a.ClosedAt.Equal(a.MeetingDue) {
		t.Fatalf("a = %+v", a)
	}
	ev, ok := f.event("registration:" + a.ID + ":expired")
	if !ok || !ev.OccurredAt.Equal(a.MeetingDue) {
		t.Fatalf("expired event = %+v, %v; want at %s", ev, ok, a.MeetingDue)
	}
	if res, _ := f.desk.Sweep(ctx, f.clock.now()); res.Expired != 0 {
		t.Fatalf("a second sweep expired %d more", res.Expired)
	}
	// b had its meeting: protected for 90 + 30 days from approval.
	b = f.must(f.desk.Get(ctx, b.ID))
	f.clock.t = b.ProtectedUntil.Add(-time.Minute)
	if res, _ := f.desk.Sweep(ctx, f.clock.now()); res.Expired != 0 {
		t.Fatalf("b expired early")
	}
	// A transition after the end, before any sweep, sees the expiry.
	f.clock.t = b.ProtectedUntil.Add(time.Minute)
	_, err = f.desk.Close(ctx, b.ID, true, 0, "", "crm")
	wantCode(t, err, rung.ECONFLICT)
	if b = f.must(f.desk.Get(ctx, b.ID)); b.Status != store.RegExpired || b.Reason != "the protection window ended" {
		t.Fatalf("b = %+v", b)
	}
	if late = f.must(f.desk.Get(ctx, late.ID)); late.Status != store.RegSubmitted {
		t.Fatalf("a submitted registration expired: %+v", late)
	}
}

func TestConflictFirstSubmittedDeclinesTheLaterOne(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	ctx := context.Background()
	a := f.submit(input("p1", "Initech", "initech.com"))
	b := f.submit(input("p2", "Initech Inc.", "sales.initech.com"))
	if b.Status != store.RegDeclined || len(b.Conflicts) != 1 || b.Conflicts[0].Winner != a.ID || b.Conflicts[0].DecidedBy != "policy" {
		t.Fatalf("later registration = %+v", b)
	}
	a = f.must(f.desk.Get(ctx, a.ID))
	if a.Status != store.RegSubmitted || len(a.Conflicts) != 1 {
		t.Fatalf("first registration = %+v", a)
	}
	f.must(f.desk.Decide(ctx, a.ID, DecisionApprove, "", "admin"))
}

func TestConflictFirstMeetingWins(t *testing.T) {
	f := newFixture(t, PolicyFirstMeeting)
	ctx := context.Background()
	a := f.submit(input("p1", "Initech", "initech.com"))
	b := f.submit(input("p2", "Initech", "initech.com"))
	if len(b.Conflicts) != 1 || b.Status != store.RegSubmitted {
		t.Fatalf("b = %+v", b)
	}
	f.must(f.desk.Decide(ctx, a.ID, DecisionApprove, "", "admin"))
	f.must(f.desk.Decide(ctx, b.ID, DecisionApprove, "", "admin"))
	f.clock.add(time.Hour)
	b = f.must(f.desk.Meeting(ctx, b.ID, time.Time{}, "p2"))
	if b.Status != store.RegMeeting {
		t.Fatalf("b = %+v", b)
	}
	a = f.must(f.desk.Get(ctx, a.ID))
	if a.Status != store.RegDeclined || a.Conflicts[0].Winner != b.ID {
		t.Fatalf("a = %+v", a)
	}
	_, err := f.desk.Meeting(ctx, a.ID, time.Time{}, "p1")
	wantCode(t, err, rung.ECONFLICT)
}

func TestConflictManualWaitsForAnAdmin(t *testing.T) {
	f := newFixture(t, PolicyManual)
	ctx := context.Background()
	a := f.submit(input("p1", "Initech", "initech.com"))
	b := f.submit(input("p2", "Initech", "initech.com"))
	_, err := f.desk.Decide(ctx, a.ID, DecisionApprove, "", "admin")
	wantCode(t, err, rung.ECONFLICT)
	_, err = f.desk.SettleConflict(ctx, a.ID, b.ID, "", "admin")
	wantCode(t, err, rung.EINVALID)
	_, err = f.desk.SettleConflict(ctx, a.ID, "R-NOPE", "x", "admin")
	wantCode(t, err, rung.EINVALID)
	won := f.must(f.desk.SettleConflict(ctx, a.ID, b.ID, "Beta has the relationship with the CIO", "admin"))
	if won.ID != b.ID || won.Conflicts[0].Winner != b.ID || won.Conflicts[0].Reason != "Beta has the relationship with the CIO" {
		t.Fatalf("winner = %+v", won)
	}
	if a = f.must(f.desk.Get(ctx, a.ID)); a.Status != store.RegDeclined {
		t.Fatalf("loser = %+v", a)
	}
	f.must(f.desk.Decide(ctx, b.ID, DecisionApprove, "", "admin"))
	_, err = f.desk.Decide(ctx, a.ID, DecisionApprove, "", "admin")
	wantCode(t, err, rung.ECONFLICT)
}

func TestTwoPartnersAtTheSameInstantGiveOneConflictPair(t *testing.T) {
	f := newFixture(t, PolicyManual)
	ctx := context.Background()
	var wg sync.WaitGroup
	out := make([]store.Registration, 2)
	for i, p := range []string{"p1", "p2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = f.submit(input(p, "Massive Dynamic", "massivedynamic.com"))
		}()
	}
	wg.Wait()
	rs := f.must2(f.desk.List(ctx, store.RegistrationFilter{CompanyKey: "massivedynamic.com"}))
	if len(rs) != 2 || len(rs[0].Conflicts) != 1 || rs[0].Conflicts[0] != rs[1].Conflicts[0] {
		t.Fatalf("registrations = %+v", rs)
	}
}

func (f *fixture) must2(rs []store.Registration, err error) []store.Registration {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	return rs
}

func TestEventsHaveStableIDs(t *testing.T) {
	r := store.Registration{ID: "R-1", Partner: "p1", Status: store.RegSubmitted, History: []store.Transition{
		{At: start, To: "submitted"}, {At: start, To: "needs_info"}, {At: start, To: "submitted"},
		{At: start, To: "needs_info"}, {At: start, To: "submitted"}, {At: start, To: "approved"}}}
	var ids, types []string
	for _, e := range Events(r) {
		ids, types = append(ids, e.ID), append(types, e.Type)
	}
	want := []string{"registration:R-1:submitted", "registration:R-1:needs_info", "registration:R-1:resubmitted",
		"registration:R-1:needs_info:2", "registration:R-1:resubmitted:2", "registration:R-1:approved"}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("ids = %v, want %v", ids, want)
		}
	}
	if types[2] != "registration.resubmitted" || types[5] != "registration.approved" {
		t.Fatalf("types = %v", types)
	}
}

func asError(err error, e **rung.Error) bool { return errors.As(err, e) }

func TestAConflictWithAClosedRegistrationDoesNotBlockApproval(t *testing.T) {
	f := newFixture(t, PolicyManual)
	ctx := context.Background()
	a := f.submit(input("p1", "Initech", "initech.com"))
	b := f.submit(input("p2", "Initech", "initech.com"))
	f.must(f.desk.Decide(ctx, a.ID, DecisionDecline, "Not a real opportunity", "admin"))
	b = f.must(f.desk.Decide(ctx, b.ID, DecisionApprove, "", "admin"))
	if b.Status != store.RegApproved || b.Conflicts[0].Winner != b.ID || b.Conflicts[0].Reason != "the other registration is declined" {
		t.Fatalf("b = %+v", b)
	}
}

func TestSweepWritesEventsThatDidNotReachTheLog(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	ctx := context.Background()
	// A registration stored while its event could not be written.
	r, err := f.desk.check(input("p1", "Hooli", "hooli.xyz"), f.clock.now(), f.desk.Settings())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.desk.st.SubmitRegistration(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.event("registration:" + r.ID + ":submitted"); ok {
		t.Fatal("the event is there already")
	}
	res, err := f.desk.Sweep(ctx, f.clock.now())
	if err != nil || res.Repaired != 1 {
		t.Fatalf("sweep = %+v, %v", res, err)
	}
	if _, ok := f.event("registration:" + r.ID + ":submitted"); !ok {
		t.Fatal("the sweep did not write the missing event")
	}
	if res, _ := f.desk.Sweep(ctx, f.clock.now()); res.Repaired != 0 {
		t.Fatalf("a second sweep repaired %d", res.Repaired)
	}
}

func TestSweepSettlesAFirstSubmittedConflictLeftOpen(t *testing.T) {
	f := newFixture(t, PolicyFirstSubmitted)
	ctx := context.Background()
	a := f.submit(input("p1", "Hooli", "hooli.xyz"))
	// The second one stored, but its settlement never happened.
	r, err := f.desk.check(input("p2", "Hooli", "hooli.xyz"), f.clock.now(), f.desk.Settings())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.desk.st.SubmitRegistration(ctx, r); err != nil {
		t.Fatal(err)
	}
	res, err := f.desk.Sweep(ctx, f.clock.now())
	if err != nil || res.Settled != 1 {
		t.Fatalf("sweep = %+v, %v", res, err)
	}
	b := f.must(f.desk.Get(ctx, r.ID))
	if b.Status != store.RegDeclined || b.Conflicts[0].Winner != a.ID {
		t.Fatalf("b = %+v", b)
	}
}

func TestFirstMeetingAlreadyLoggedWinsAgainstANewcomer(t *testing.T) {
	f := newFixture(t, PolicyFirstMeeting)
	ctx := context.Background()
	a := f.submit(input("p1", "Initech", "initech.com"))
	f.must(f.desk.Decide(ctx, a.ID, DecisionApprove, "", "admin"))
	f.must(f.desk.Meeting(ctx, a.ID, time.Time{}, "p1"))
	f.clock.add(time.Hour)
	b := f.submit(input("p2", "Initech", "initech.com"))
	if b.Status != store.RegDeclined || b.Conflicts[0].Winner != a.ID {
		t.Fatalf("newcomer = %+v", b)
	}
	if a = f.must(f.desk.Get(ctx, a.ID)); a.Status != store.RegMeeting {
		t.Fatalf("a = %+v", a)
	}
}

func TestTheFirstMeetingLoggedDecides(t *testing.T) {
	f := newFixture(t, PolicyFirstMeeting)
	ctx := context.Background()
	a := f.submit(input("p1", "Initech", "initech.com"))
	b := f.submit(input("p2", "Initech", "initech.com"))
	f.must(f.desk.Decide(ctx, a.ID, DecisionApprove, "", "admin"))
	f.must(f.desk.Decide(ctx, b.ID, DecisionApprove, "", "admin"))
	f.clock.add(48 * time.Hour)
	// b logs yesterday's meeting; a logs an older one afterwards: too late,
	// the first decision stands.
	f.must(f.desk.Meeting(ctx, b.ID, f.clock.now().Add(-24*time.Hour), "p2"))
	_, err := f.desk.Meeting(ctx, a.ID, f.clock.now().Add(-40*time.Hour), "p1")
	wantCode(t, err, rung.ECONFLICT)
	a, b = f.must(f.desk.Get(ctx, a.ID)), f.must(f.desk.Get(ctx, b.ID))
	if b.Status != store.RegMeeting || a.Status != store.RegDeclined {
		t.Fatalf("a = %s, b = %s", a.Status, b.Status)
	}
}
