// Package storetest is the conformance suite every store.Store passes. Each
// store's tests call Run with a function that opens a fresh, empty store;
// the suite then checks the behaviour the rest of Rung relies on, the same
// way for SQLite and PostgreSQL.
//
// What the suite holds every store to, beyond the interface's comments:
//   - times come back in UTC with their nanoseconds and without a monotonic
//     reading; the zero time comes back zero;
//   - numbers in attrs come back as float64, as from encoding/json;
//   - a Commit that fails writes nothing of its batch and leaves the Seqs
//     of its records alone; one that succeeds gives its records consecutive
//     Seqs above every earlier one, and sets the ID of its audit entries.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/store"
)

// Run runs the suite. open returns a new, empty store for one subtest; Run
// closes it when the subtest ends (before any cleanup open registered, such
// as dropping a schema). Subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"EmptyStore", testEmptyStore},
		{"CommitAssignsContiguousSeqs", testCommitAssignsContiguousSeqs},
		{"RecordRoundTripsEveryField", testRecordRoundTripsEveryField},
		{"RecordsStreamsAfterSeqInOrder", testRecordsStreamsAfterSeqInOrder},
		{"RecordsStopsOnError", testRecordsStopsOnError},
		{"RecordsKeptKeepTheirRaw", testRecordsKeptKeepTheirRaw},
		{"RecordHeadsMatchRecords", testRecordHeadsMatchRecords},
		{"RecordsLentMatchRecords", testRecordsLentMatchRecords},
		{"RecordsBySeq", testRecordsBySeq},
		{"FailedCommitWritesNothing", testFailedCommitWritesNothing},
		{"ProgramVersionConflict", testProgramVersionConflict},
		{"TimeOutOfRangeIsInvalid", testTimeOutOfRangeIsInvalid},
		{"PartnerVersionsOrdered", testPartnerVersionsOrdered},
		{"MembersUpserted", testMembersUpserted},
		{"Programs", testPrograms},
		{"Adjustments", testAdjustments},
		{"AuditNewestFirst", testAuditNewestFirst},
		{"APIKeys", testAPIKeys},
		{"Meta", testMeta},
		{"ConcurrentCommits", testConcurrentCommits},
		{"Backup", testBackup},
		{"Accounts", testAccounts}, {"Sessions", testSessions}, {"LoginLinks", testLoginLinks},
		{"CredentialKeys", testCredentialKeys}, {"Credentials", testCredentials}, {"CredentialSlotsAreUnique", testCredentialSlotsAreUnique},
	}
	tests = append(tests, sharingTests...)
	tests = append(tests, registrationTests...)
	tests = append(tests, exportTests...)
	tests = append(tests, notificationTests...)
	tests = append(tests, tierTests...)
	tests = append(tests, redemptionTests...)
	tests = append(tests, outboxTests...)
	tests = append(tests, sourceTests...)
	tests = append(tests, snapshotTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// base is a time with nanoseconds, in a zone other than UTC.
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

func record(id string, version int, at time.Time) *rung.Record {
	return &rung.Record{
		Version:    version,
		ReceivedAt: at.Add(time.Second),
		Event: rung.Event{
			ID:         id,
			Type:       "deal.won",
			Partner:    "p1",
			Member:     "m1",
			OccurredAt: at,
			Source:     "crm",
			Attrs:      map[string]any{"amount": 12000.0, "sourced": true, "region": "emea"},
		},
	}
}

func records(prefix string, n int) []*rung.Record {
	rs := make([]*rung.Record, n)
	for i := range rs {
		rs[i] = record(fmt.Sprintf("%s-%d", prefix, i), 1, base.Add(time.Duration(i)*time.Minute))
	}
	return rs
}

func mustCommit(t *testing.T, s store.Store, b *store.Batch) {
	t.Helper()
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// readAll returns copies of the records after seq.
func readAll(t *testing.T, s store.Store, after int64) []rung.Record {
	t.Helper()
	var out []rung.Record
	err := s.Records(context.Background(), after, func(r *rung.Record) error {
		rec := *r
		if rec.Raw != nil {
			// Raw, when a store sets it, is the record's own encoding.
			d := rung.Record{Seq: r.Seq, Version: r.Version}
			d.Event.ID = r.Event.ID
			if err := codec.DecodeRecord(r.Raw, &d); err != nil {
				t.Errorf("record %d: Raw does not decode: %v", r.Seq, err)
			} else if d.Raw = r.Raw; !reflect.DeepEqual(d, rec) {
				t.Errorf("record %d: Raw decodes to %+v, want %+v", r.Seq, d, rec)
			}
			rec.Raw = nil
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := rung.ErrorCode(err); got != code {
		t.Fatalf("got error %q (code %s), want code %s", err, got, code)
	}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// utc returns r as a store gives it back.
func utc(r rung.Record) rung.Record {
	r.ReceivedAt = r.ReceivedAt.UTC()
	r.Event.OccurredAt = r.Event.OccurredAt.UTC()
	return r
}

func testEmptyStore(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.Commit(ctx, &store.Batch{}); err != nil {
		t.Fatalf("Commit of an empty batch: %v", err)
	}
	if seq, err := s.LastSeq(ctx); err != nil || seq != 0 {
		t.Errorf("LastSeq = %d, %v; want 0", seq, err)
	}
	if rs := readAll(t, s, 0); len(rs) != 0 {
		t.Errorf("Records gave %d records", len(rs))
	}
	pvs, err := s.PartnerVersions(ctx)
	if err != nil || len(pvs) != 0 {
		t.Errorf("PartnerVersions = %v, %v", pvs, err)
	}
	ms, err := s.Members(ctx)
	if err != nil || len(ms) != 0 {
		t.Errorf("Members = %v, %v", ms, err)
	}
	ps, err := s.Programs(ctx)
	if err != nil || len(ps) != 0 {
		t.Errorf("Programs = %v, %v", ps, err)
	}
	as, err := s.Adjustments(ctx)
	if err != nil || len(as) != 0 {
		t.Errorf("Adjustments = %v, %v", as, err)
	}
	es, err := s.Audit(ctx, store.AuditFilter{})
	if err != nil || len(es) != 0 {
		t.Errorf("Audit = %v, %v", es, err)
	}
	ks, err := s.APIKeys(ctx)
	if err != nil || len(ks) != 0 {
		t.Errorf("APIKeys = %v, %v", ks, err)
	}
	if v, err := s.Meta(ctx, "nothing"); err != nil || v != "" {
		t.Errorf("Meta = %q, %v", v, err)
	}
	if m, err := s.AllMeta(ctx); err != nil || m == nil || len(m) != 0 {
		t.Errorf("AllMeta = %#v, %v; want an empty map", m, err)
	}
}

func testCommitAssignsContiguousSeqs(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Sizes around the stores' multi-row insert chunks.
	var all []*rung.Record
	var want int64
	for i, n := range []int{1, 3, 199, 200, 201, 450} {
		rs := records(fmt.Sprintf("c%d", i), n)
		mustCommit(t, s, &store.Batch{Records: rs})
		for j, r := range rs {
			if r.Seq <= want {
				t.Fatalf("commit %d: record %d has seq %d after %d", i, j, r.Seq, want)
			}
			if j > 0 && r.Seq != rs[j-1].Seq+1 {
				t.Fatalf("commit %d: seqs %d then %d are not contiguous", i, rs[j-1].Seq, r.Seq)
			}
			want = r.Seq
		}
		all = append(all, rs...)
	}
	if seq, err := s.LastSeq(ctx); err != nil || seq != want {
		t.Errorf("LastSeq = %d, %v; want %d", seq, err, want)
	}
	got := readAll(t, s, 0)
	if len(got) != len(all) {
		t.Fatalf("Records gave %d records, want %d", len(got), len(all))
	}
	for i := range got {
		if got[i].Seq != all[i].Seq || got[i].Event.ID != all[i].Event.ID {
			t.Fatalf("record %d: got seq %d id %s, want seq %d id %s", i, got[i].Seq, got[i].Event.ID, all[i].Seq, all[i].Event.ID)
		}
	}
}

func testRecordRoundTripsEveryField(t *testing.T, s store.Store) {
	full := &rung.Record{
		Version:    3,
		Retracted:  true,
		ReceivedAt: base.Add(time.Hour),
		Event: rung.Event{
			ID:         "hubspot:deal-4711:deal.won",
			Type:       "deal.won",
			Partner:    "acct-1",
			Member:     "ana@example.com",
			OccurredAt: base,
			Source:     "hubspot",
			Attrs: map[string]any{
				"amount":   125000.5,
				"count":    3,
				"big":      int64(1) << 40,
				"score":    -0.25,
				"sourced":  true,
				"lost":     false,
				"note":     "grüße, 😀",
				"empty":    "",
				"none":     nil,
				"tags":     []any{"a", 1.0, nil, []any{}, map[string]any{"x": "y"}},
				"nested":   map[string]any{"deep": map[string]any{"deeper": []any{true}}},
				"":         "empty key",
				"negative": -42.0,
			},
		},
	}
	bare := &rung.Record{Version: 1, Event: rung.Event{ID: "bare", Type: "portal.login", Partner: "acct-1"}}
	old := record("old", 1, time.Date(1066, 10, 14, 9, 0, 0, 1, time.UTC))
	mustCommit(t, s, &store.Batch{Records: []*rung.Record{full, bare, old}})

	got := readAll(t, s, 0)
	if len(got) != 3 {
		t.Fatalf("Records gave %d records, want 3", len(got))
	}
	want := utc(*full)
	want.Event.Attrs = map[string]any{}
	for k, v := range full.Event.Attrs {
		want.Event.Attrs[k] = v
	}
	want.Event.Attrs["count"] = 3.0
	want.Event.Attrs["big"] = float64(int64(1) << 40)
	equal(t, "full record", got[0], want)
	equal(t, "bare record", got[1], *bare)
	equal(t, "record from 1066", got[2], utc(*old))
	if loc := got[0].Event.OccurredAt.Location(); loc != time.UTC {
		t.Errorf("occurred_at location = %v, want UTC", loc)
	}
}

func testRecordsStreamsAfterSeqInOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Versions and retractions of one event are records like any other.
	rs := records("s", 500)
	v2 := record("s-7", 2, base)
	gone := record("s-7", 3, base)
	gone.Retracted = true
	mustCommit(t, s, &store.Batch{Records: rs})
	mustCommit(t, s, &store.Batch{Records: []*rung.Record{v2, gone}})
	last := gone.Seq
	for _, after := range []int64{0, 1, rs[250].Seq, rs[499].Seq, last, last + 10, -5} {
		got := readAll(t, s, after)
		var want int64
		for _, r := range append(slices.Clone(rs), v2, gone) {
			if r.Seq > after {
				want++
			}
		}
		if int64(len(got)) != want {
			t.Errorf("Records(%d) gave %d records, want %d", after, len(got), want)
			continue
		}
		for i, r := range got {
			if r.Seq <= after || (i > 0 && r.Seq <= got[i-1].Seq) {
				t.Errorf("Records(%d): record %d has seq %d", after, i, r.Seq)
				break
			}
		}
	}
	tail := readAll(t, s, rs[499].Seq)
	if len(tail) != 2 || tail[0].Version != 2 || tail[1].Version != 3 || !tail[1].Retracted || tail[0].Retracted {
		t.Errorf("tail = %+v, want versions 2 and 3 (retracted) of s-7", tail)
	}
	if seq, err := s.LastSeq(ctx); err != nil || seq != last {
		t.Errorf("LastSeq = %d, %v; want %d", seq, err, last)
	}
}

func testRecordsStopsOnError(t *testing.T, s store.Store) {
	mustCommit(t, s, &store.Batch{Records: records("e", 50)})
	stop := errors.New("stop")
	n := 0
	err := s.Records(context.Background(), 0, func(*rung.Record) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Errorf("Records returned %v after %d calls, want the callback's error after 10", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Records(ctx, 0, func(*rung.Record) error { return nil }); err == nil {
		t.Errorf("Records with a canceled context returned nil")
	}
	// The store still works after both.
	if got := readAll(t, s, 0); len(got) != 50 {
		t.Errorf("Records gave %d records, want 50", len(got))
	}
}

// fullBatch returns a batch with something of every kind.
func fullBatch(prefix string, program int) *store.Batch {
	return &store.Batch{
		Records: records(prefix, 300),
		Partners: []rung.PartnerVersion{{
			Partner: rung.Partner{ID: prefix + "-partner", Name: "Partner"}, Version: 1, ValidFrom: base,
		}},
		Members:     []rung.Member{{ID: prefix + "-member", Partner: prefix + "-partner", JoinedAt: base}},
		Programs:    []rung.ProgramVersion{{Version: program, Source: "name: x", EffectiveFrom: base, AppliedAt: base, AppliedBy: "admin"}},
		Adjustments: []rung.Adjustment{{ID: prefix + "-adj", Partner: prefix + "-partner", Points: 5, Reason: "r", OccurredAt: base, By: "admin", CreatedAt: base}},
		Audit:       []rung.AuditEntry{{At: base, Actor: "admin", Action: "program.apply", Target: "program"}},
	}
}

type snapshot struct {
	seq         int64
	records     int
	partners    []rung.PartnerVersion
	members     []rung.Member
	programs    []rung.ProgramVersion
	adjustments []rung.Adjustment
	audit       []rung.AuditEntry
}

func snap(t *testing.T, s store.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	var sn snapshot
	var err error
	if sn.seq, err = s.LastSeq(ctx); err != nil {
		t.Fatal(err)
	}
	sn.records = len(readAll(t, s, 0))
	if sn.partners, err = s.PartnerVersions(ctx); err != nil {
		t.Fatal(err)
	}
	if sn.members, err = s.Members(ctx); err != nil {
		t.Fatal(err)
	}
	if sn.programs, err = s.Programs(ctx); err != nil {
		t.Fatal(err)
	}
	if sn.adjustments, err = s.Adjustments(ctx); err != nil {
		t.Fatal(err)
	}
	if sn.audit, err = s.Audit(ctx, store.AuditFilter{}); err != nil {
		t.Fatal(err)
	}
	return sn
}

func testFailedCommitWritesNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCommit(t, s, fullBatch("a", 1))
	before := snap(t, s)

	// Each batch fails on its last kind of fact, after the others were
	// written inside the transaction.
	dupPartner := fullBatch("b", 2)
	dupPartner.Partners = append(dupPartner.Partners, dupPartner.Partners[0])
	dupAdjustment := fullBatch("c", 2)
	dupAdjustment.Adjustments = append(dupAdjustment.Adjustments, fullBatch("a", 0).Adjustments[0])
	for name, b := range map[string]*store.Batch{
		"program version taken":    fullBatch("x", 1),
		"partner version repeated": dupPartner,
		"adjustment id taken":      dupAdjustment,
	} {
		err := s.Commit(ctx, b)
		wantCode(t, err, rung.ECONFLICT)
		for i, r := range b.Records {
			if r.Seq != 0 {
				t.Fatalf("%s: record %d got seq %d from a failed commit", name, i, r.Seq)
			}
		}
		if b.Audit[0].ID != 0 {
			t.Errorf("%s: audit entry got id %d from a failed commit", name, b.Audit[0].ID)
		}
		equal(t, name+": state after the failed commit", snap(t, s), before)
	}
	// The store takes the next good batch, with seqs right after the last.
	good := fullBatch("d", 2)
	mustCommit(t, s, good)
	if good.Records[0].Seq != before.seq+1 {
		t.Errorf("first seq after failed commits = %d, want %d", good.Records[0].Seq, before.seq+1)
	}
}

func testProgramVersionConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	p := rung.ProgramVersion{Version: 1, Source: "a", EffectiveFrom: base, AppliedAt: base, AppliedBy: "x"}
	mustCommit(t, s, &store.Batch{Programs: []rung.ProgramVersion{p}})
	err := s.Commit(ctx, &store.Batch{Programs: []rung.ProgramVersion{p}})
	wantCode(t, err, rung.ECONFLICT)
	if !strings.Contains(rung.ErrorMessage(err), "1") {
		t.Errorf("conflict message %q does not name the version", rung.ErrorMessage(err))
	}
	// Two of the same version in one batch conflict too, and neither is kept.
	p2 := p
	p2.Version = 2
	err = s.Commit(ctx, &store.Batch{Programs: []rung.ProgramVersion{p2, p2}})
	wantCode(t, err, rung.ECONFLICT)
	ps, err := s.Programs(ctx)
	if err != nil || len(ps) != 1 {
		t.Errorf("Programs = %v, %v; want only version 1", ps, err)
	}
}

func testTimeOutOfRangeIsInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &store.Batch{
		Records:  records("t", 3),
		Programs: []rung.ProgramVersion{{Version: 1, Source: "a", EffectiveFrom: far, AppliedAt: base}},
	}
	wantCode(t, s.Commit(ctx, b), rung.EINVALID)
	if seq, err := s.LastSeq(ctx); err != nil || seq != 0 {
		t.Errorf("LastSeq = %d, %v after an invalid batch; want 0", seq, err)
	}
}

func testPartnerVersionsOrdered(t *testing.T, s store.Store) {
	ctx := context.Background()
	acme := rung.Partner{
		ID: "acme", Name: "Acme GmbH", Type: "reseller", Region: "emea", Size: "mid",
		JoinedAt: base, Domains: []string{"acme.de", "acme.com"},
		Attrs: map[string]any{"crm_owner": "jo", "employees": 120.0}, InitialTier: "Select",
	}
	acme2 := acme
	acme2.Size = "enterprise"
	beta := rung.Partner{ID: "beta", Name: "Beta"}
	// Committed out of order, in several batches.
	mustCommit(t, s, &store.Batch{Partners: []rung.PartnerVersion{
		{Partner: beta, Version: 1, ValidFrom: base},
		{Partner: acme2, Version: 2, ValidFrom: base.Add(48 * time.Hour)},
	}})
	mustCommit(t, s, &store.Batch{Partners: []rung.PartnerVersion{{Partner: acme, Version: 1, ValidFrom: base}}})
	got, err := s.PartnerVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	utcP := func(p rung.Partner) rung.Partner { p.JoinedAt = p.JoinedAt.UTC(); return p }
	want := []rung.PartnerVersion{
		{Partner: utcP(acme), Version: 1, ValidFrom: base.UTC()},
		{Partner: utcP(acme2), Version: 2, ValidFrom: base.Add(48 * time.Hour).UTC()},
		{Partner: beta, Version: 1, ValidFrom: base.UTC()},
	}
	equal(t, "partner versions", got, want)
	err = s.Commit(ctx, &store.Batch{Partners: []rung.PartnerVersion{{Partner: beta, Version: 1}}})
	wantCode(t, err, rung.ECONFLICT)
}

func testMembersUpserted(t *testing.T, s store.Store) {
	ctx := context.Background()
	zoe := rung.Member{
		ID: "zoe@acme.de", Partner: "acme", Name: "Zoë", Email: "zoe@acme.de", Role: "sales", JoinedAt: base,
		Attrs:       map[string]any{"title": "AE"},
		Memberships: []rung.Membership{{Partner: "acme", JoinedAt: base}},
	}
	al := rung.Member{ID: "al@beta.io", Partner: "beta", JoinedAt: base}
	mustCommit(t, s, &store.Batch{Members: []rung.Member{zoe, al}})
	// Zoë moves to beta.
	moved := zoe
	moved.Partner = "beta"
	moved.Memberships = []rung.Membership{
		{Partner: "acme", JoinedAt: base, LeftAt: base.Add(24 * time.Hour)},
		{Partner: "beta", JoinedAt: base.Add(24 * time.Hour)},
	}
	mustCommit(t, s, &store.Batch{Members: []rung.Member{moved}})
	got, err := s.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	utcM := func(m rung.Member) rung.Member {
		m.JoinedAt = m.JoinedAt.UTC()
		m.Memberships = slices.Clone(m.Memberships)
		for i := range m.Memberships {
			m.Memberships[i].JoinedAt = m.Memberships[i].JoinedAt.UTC()
			m.Memberships[i].LeftAt = m.Memberships[i].LeftAt.UTC()
		}
		return m
	}
	equal(t, "members", got, []rung.Member{utcM(al), utcM(moved)})
}

func testPrograms(t *testing.T, s store.Store) {
	ctx := context.Background()
	ps := []rung.ProgramVersion{
		{Version: 1, Source: "name: One\n", EffectiveFrom: base, AppliedAt: base.Add(time.Minute), AppliedBy: "ana"},
		{Version: 2, Source: "name: Two\n", EffectiveFrom: base.Add(time.Hour), AppliedAt: base.Add(time.Hour), AppliedBy: "bo"},
		{Version: 3, Source: "name: Three\n"},
	}
	mustCommit(t, s, &store.Batch{Programs: []rung.ProgramVersion{ps[1]}})
	mustCommit(t, s, &store.Batch{Programs: []rung.ProgramVersion{ps[0], ps[2]}})
	got, err := s.Programs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		ps[i].EffectiveFrom, ps[i].AppliedAt = ps[i].EffectiveFrom.UTC(), ps[i].AppliedAt.UTC()
	}
	equal(t, "programs", got, ps)
}

func testAdjustments(t *testing.T, s store.Store) {
	ctx := context.Background()
	as := []rung.Adjustment{
		{ID: "adj-2", Partner: "acme", Member: "zoe", Points: 500, Reason: "conference talk", OccurredAt: base, By: "ana", CreatedAt: base.Add(time.Minute)},
		{ID: "adj-1", Partner: "acme", Points: -200, Reason: "duplicate deal", OccurredAt: base.Add(time.Hour), By: "bo", CreatedAt: base.Add(2 * time.Minute)},
	}
	mustCommit(t, s, &store.Batch{Adjustments: as[:1]})
	mustCommit(t, s, &store.Batch{Adjustments: as[1:]})
	got, err := s.Adjustments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range as {
		as[i].OccurredAt, as[i].CreatedAt = as[i].OccurredAt.UTC(), as[i].CreatedAt.UTC()
	}
	equal(t, "adjustments (in commit order)", got, as)
}

func testAuditNewestFirst(t *testing.T, s store.Store) {
	ctx := context.Background()
	var es []rung.AuditEntry
	for i := range 120 {
		target := "partner:acme"
		if i%3 == 0 {
			target = "program"
		}
		es = append(es, rung.AuditEntry{At: base.Add(time.Duration(i) * time.Second), Actor: "ana", Action: "update", Target: target, Detail: fmt.Sprint(i)})
	}
	b := &store.Batch{Audit: es[:60]}
	mustCommit(t, s, b)
	mustCommit(t, s, &store.Batch{Audit: es[60:]})
	for i := 1; i < len(es); i++ {
		if es[i].ID <= es[i-1].ID {
			t.Fatalf("audit ids not increasing in commit order: %d then %d", es[i-1].ID, es[i].ID)
		}
	}
	got, err := s.Audit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 {
		t.Fatalf("Audit without a limit gave %d entries, want 100", len(got))
	}
	want := es[119]
	want.At = want.At.UTC()
	equal(t, "newest entry", got[0], want)
	for i := 1; i < len(got); i++ {
		if got[i].ID >= got[i-1].ID {
			t.Fatalf("audit not newest first: id %d then %d", got[i-1].ID, got[i].ID)
		}
	}
	got, err = s.Audit(ctx, store.AuditFilter{Target: "program", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("Audit(program, 5) gave %d entries", len(got))
	}
	for i, e := range got {
		if e.Target != "program" || e.Detail != fmt.Sprint(117-3*i) {
			t.Errorf("Audit(program, 5)[%d] = %+v, want detail %d", i, e, 117-3*i)
		}
	}
	got, err = s.Audit(ctx, store.AuditFilter{Before: es[10].ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0].ID != es[9].ID {
		t.Errorf("Audit(before %d) gave %d entries starting at %v, want the 10 older ones", es[10].ID, len(got), got)
	}
}

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	k1 := rung.APIKey{ID: "k1", Name: "crm sync", Scope: rung.ScopeIngest, Hash: []byte("hash-1-................................"), CreatedAt: base}
	k2 := rung.APIKey{ID: "k2", Name: "dashboards", Scope: rung.ScopeRead, Hash: []byte("hash-2-................................"), CreatedAt: base.Add(time.Minute)}
	for _, k := range []rung.APIKey{k2, k1} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey(%s): %v", k.ID, err)
		}
	}
	k1.CreatedAt, k2.CreatedAt = k1.CreatedAt.UTC(), k2.CreatedAt.UTC()
	got, err := s.APIKeyByHash(ctx, k1.Hash)
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	equal(t, "key by hash", got, k1)
	_, err = s.APIKeyByHash(ctx, []byte("unknown"))
	wantCode(t, err, rung.ENOTFOUND)

	dup := k1
	dup.Hash = []byte("other")
	wantCode(t, s.CreateAPIKey(ctx, dup), rung.ECONFLICT)
	sameSecret := k2
	sameSecret.ID = "k3"
	wantCode(t, s.CreateAPIKey(ctx, sameSecret), rung.ECONFLICT)

	revokedAt := base.Add(time.Hour)
	if err := s.RevokeAPIKey(ctx, "k1", revokedAt); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	// Revoking again keeps the first time.
	if err := s.RevokeAPIKey(ctx, "k1", revokedAt.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeAPIKey again: %v", err)
	}
	_, err = s.APIKeyByHash(ctx, k1.Hash)
	wantCode(t, err, rung.ENOTFOUND)
	wantCode(t, s.RevokeAPIKey(ctx, "nope", revokedAt), rung.ENOTFOUND)

	ks, err := s.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k1.RevokedAt = revokedAt.UTC()
	equal(t, "keys, oldest first", ks, []rung.APIKey{k1, k2})

	// A key created already revoked (as `rung copy` writes one) keeps its
	// revocation and does not authenticate.
	k4 := rung.APIKey{ID: "k4", Name: "old", Scope: rung.ScopeAdmin, Hash: []byte("hash-4-................................"),
		CreatedAt: base.Add(2 * time.Minute), RevokedAt: base.Add(3 * time.Minute)}
	if err := s.CreateAPIKey(ctx, k4); err != nil {
		t.Fatalf("CreateAPIKey(revoked): %v", err)
	}
	_, err = s.APIKeyByHash(ctx, k4.Hash)
	wantCode(t, err, rung.ENOTFOUND)
	if ks, err = s.APIKeys(ctx); err != nil {
		t.Fatal(err)
	}
	k4.CreatedAt, k4.RevokedAt = k4.CreatedAt.UTC(), k4.RevokedAt.UTC()
	equal(t, "keys with one created revoked", ks, []rung.APIKey{k1, k2, k4})
}

func testMeta(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, v := range []string{"one", "two", ""} {
		if err := s.SetMeta(ctx, "cursor", v); err != nil {
			t.Fatalf("SetMeta: %v", err)
		}
		if got, err := s.Meta(ctx, "cursor"); err != nil || got != v {
			t.Errorf("Meta = %q, %v; want %q", got, err, v)
		}
	}
	if err := s.SetMeta(ctx, "other", "x"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Meta(ctx, "cursor"); got != "" {
		t.Errorf("Meta(cursor) = %q after setting another key", got)
	}
	all, err := s.AllMeta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "all meta", all, map[string]string{"cursor": "", "other": "x"})
}

func testConcurrentCommits(t *testing.T, s store.Store) {
	const workers, commits, perCommit = 8, 10, 60
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	batches := make([][]*store.Batch, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range commits {
				b := &store.Batch{
					Records: records(fmt.Sprintf("w%d-c%d", w, c), perCommit),
					Audit:   []rung.AuditEntry{{At: base, Actor: fmt.Sprint(w), Action: "commit", Target: "t"}},
				}
				if err := s.Commit(context.Background(), b); err != nil {
					errs <- err
					return
				}
				batches[w] = append(batches[w], b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Commit: %v", err)
	}
	seqs := map[int64]string{}
	for _, bs := range batches {
		for _, b := range bs {
			for i, r := range b.Records {
				if i > 0 && r.Seq != b.Records[i-1].Seq+1 {
					t.Fatalf("seqs of one commit not contiguous: %d then %d", b.Records[i-1].Seq, r.Seq)
				}
				if other, ok := seqs[r.Seq]; ok {
					t.Fatalf("seq %d given to %s and %s", r.Seq, other, r.Event.ID)
				}
				seqs[r.Seq] = r.Event.ID
			}
		}
	}
	got := readAll(t, s, 0)
	if len(got) != workers*commits*perCommit {
		t.Fatalf("Records gave %d records, want %d", len(got), workers*commits*perCommit)
	}
	for i, r := range got {
		if seqs[r.Seq] != r.Event.ID {
			t.Fatalf("record %d: seq %d is %s in the log, %s in the commit", i, r.Seq, r.Event.ID, seqs[r.Seq])
		}
		delete(seqs, r.Seq)
	}
	if len(seqs) != 0 {
		t.Fatalf("%d committed records missing from the log", len(seqs))
	}
}

func testBackup(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCommit(t, s, fullBatch("b", 1))
	path := filepath.Join(t.TempDir(), "backup.db")
	err := s.Backup(ctx, path)
	if err != nil {
		// A store that cannot back up itself says which tool can.
		wantCode(t, err, rung.EINVALID)
		if rung.ErrorMessage(err) == "" {
			t.Errorf("Backup refused without a message")
		}
		return
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("backup file: %v, %v", fi, err)
	}
	wantCode(t, s.Backup(ctx, path), rung.EINVALID)
	// The store is still usable after a backup.
	mustCommit(t, s, &store.Batch{Records: records("after", 1)})
}

func testRecordsBySeq(t *testing.T, s store.Store) {
	ctx := context.Background()
	b := &store.Batch{Records: []*rung.Record{record("a", 1, base), record("b", 1, base), record("a", 2, base.Add(time.Hour))}}
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecordsBySeq(ctx, []int64{b.Records[2].Seq, b.Records[0].Seq})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Event.ID != "a" || got[0].Version != 2 || got[1].Version != 1 ||
		got[0].Seq != b.Records[2].Seq || !got[0].Event.OccurredAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("RecordsBySeq = %+v", got)
	}
	if _, err := s.RecordsBySeq(ctx, []int64{b.Records[2].Seq + 100}); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Fatalf("missing seq: %v, want ENOTFOUND", err)
	}
}

// testRecordsKeptKeepTheirRaw keeps copies of every record Records hands
// out (as a follower or `rung copy` does) and checks, after the whole read,
// that each copy's Raw is still its own record's encoding: the store must
// not reuse the memory Raw points into.
func testRecordsKeptKeepTheirRaw(t *testing.T, s store.Store) {
	const n = 3000 // more than a few chunks of any streaming reader
	commitNumbered(t, s, n)
	var kept []rung.Record
	if err := s.Records(context.Background(), 0, func(r *rung.Record) error {
		kept = append(kept, *r)
		return nil
	}); err != nil {
		t.Fatalf("Records: %v", err)
	}
	if len(kept) != n {
		t.Fatalf("Records gave %d records, want %d", len(kept), n)
	}
	for i, r := range kept {
		if r.Raw == nil {
			continue // a store need not set Raw
		}
		var d rung.Record
		if err := codec.DecodeRecord(r.Raw, &d); err != nil {
			t.Fatalf("record %d: kept Raw does not decode: %v", i, err)
		}
		if got := d.Event.Attrs["n"]; got != float64(i) {
			t.Fatalf("record %d: kept Raw now holds attrs.n = %v: its memory was reused", i, got)
		}
	}
}

// testRecordHeadsMatchRecords reads a log of several chunks, with
// corrections and a retraction, with Records and with RecordHeads: each
// head is its record without the attributes, its Raw (copied during the
// call, as RecordHeads' memory is reused) the same bytes, and both stop
// alike on an error of fn.
func testRecordHeadsMatchRecords(t *testing.T, s store.Store) {
	const n = 2000
	commitNumberedFixed(t, s, n)
	ctx := context.Background()
	var want []rung.Record
	if err := s.Records(ctx, 10, func(r *rung.Record) error {
		c := *r
		c.Raw = slices.Clone(r.Raw)
		c.Event.Attrs = nil
		want = append(want, c)
		return nil
	}); err != nil {
		t.Fatalf("Records: %v", err)
	}
	var got []rung.Record
	if err := s.RecordHeads(ctx, 10, func(r *rung.Record) error {
		if r.Event.Attrs != nil {
			t.Fatalf("record %d: a head has attrs %v", r.Seq, r.Event.Attrs)
		}
		c := *r
		c.Raw = slices.Clone(r.Raw)
		c.Event.Partner, c.Event.Member = strings.Clone(r.Event.Partner), strings.Clone(r.Event.Member)
		got = append(got, c)
		return nil
	}); err != nil {
		t.Fatalf("RecordHeads: %v", err)
	}
	if len(got) != n+2-10 || len(want) != len(got) {
		t.Fatalf("RecordHeads gave %d records, Records %d, want %d", len(got), len(want), n+2-10)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("record %d: head %+v, want %+v", i, got[i], want[i])
		}
	}
	if !got[len(got)-1].Retracted || got[len(got)-2].Version != 2 {
		t.Errorf("the correction and the retraction are not the last heads: %+v", got[len(got)-2:])
	}
	stop := errors.New("stop")
	seen := 0
	if err := s.RecordHeads(ctx, 0, func(*rung.Record) error {
		if seen++; seen == 600 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) || seen != 600 {
		t.Errorf("RecordHeads after fn failed: %v after %d records", err, seen)
	}
}

// testRecordsLentMatchRecords reads a log of several chunks, with a large
// body, a correction and a retraction, with Records and, where the store is
// a store.Lender, with RecordsLent: the same records; each one's Raw at its
// Off in its Block; one Block for each N, N counting from 1; no Block with
// room past its bodies of more than an eighth of them (the caller keeps
// the room too); and records kept as they were handed over (their strings
// in the blocks) still the same after the read, so the blocks were never
// written again. (The Attrs map is the stream's, refilled for later
// records: what is kept is a copy of it, its values still in the blocks.)
func testRecordsLentMatchRecords(t *testing.T, s store.Store) {
	l, ok := s.(store.Lender)
	if !ok {
		t.Skip("the store does not lend its log")
	}
	big := record("big", 1, base)
	big.Event.Attrs["blob"] = strings.Repeat("x", 300<<10)
	mustCommit(t, s, &store.Batch{Records: []*rung.Record{big}})
	const n = 2000
	commitNumberedFixed(t, s, n)
	ctx := context.Background()
	want := readAll(t, s, 10)
	var got []rung.Record
	blocks := map[uint32][]byte{}
	last := uint32(0)
	if err := l.RecordsLent(ctx, 10, func(r *rung.Record, lent store.Lent) error {
		if lent.N < last || lent.N > last+1 || (last == 0 && lent.N != 1) {
			t.Fatalf("record %d: block %d after block %d", r.Seq, lent.N, last)
		}
		last = lent.N
		if b, ok := blocks[lent.N]; ok && &b[0] != &lent.Block[0] {
			t.Fatalf("record %d: block %d is another block than before", r.Seq, lent.N)
		}
		blocks[lent.N] = lent.Block
		if room := cap(lent.Block) - len(lent.Block); room > len(lent.Block)/8 {
			t.Fatalf("record %d: block %d has room for %d bytes past its %d", r.Seq, lent.N, room, len(lent.Block))
		}
		end := int(lent.Off) + len(r.Raw)
		if end > len(lent.Block) || &lent.Block[lent.Off] != &r.Raw[0] {
			t.Fatalf("record %d: Raw is not at %d of its block", r.Seq, lent.Off)
		}
		kept := *r
		kept.Event.Attrs = maps.Clone(r.Event.Attrs)
		got = append(got, kept)
		return nil
	}); err != nil {
		t.Fatalf("RecordsLent: %v", err)
	}
	if last < 2 {
		t.Errorf("the log came in %d blocks, want several", last)
	}
	if len(got) != len(want) {
		t.Fatalf("RecordsLent gave %d records, Records %d", len(got), len(want))
	}
	for i := range got {
		r := got[i]
		r.Raw = nil
		if !reflect.DeepEqual(r, want[i]) {
			t.Fatalf("record %d: lent %+v, want %+v", i, r, want[i])
		}
	}
}

// commitNumberedFixed is commitNumbered, then a correction of ev-7 and a
// retraction of ev-8: n+2 records.
func commitNumberedFixed(t *testing.T, s store.Store, n int) {
	t.Helper()
	commitNumbered(t, s, n)
	fix := record("ev-7", 2, base.Add(time.Hour))
	gone := record("ev-8", 2, base.Add(time.Hour))
	gone.Retracted, gone.Event.Attrs = true, nil
	mustCommit(t, s, &store.Batch{Records: []*rung.Record{fix, gone}})
}

// commitNumbered commits n events ev-0, ev-1, ... a minute apart, each with
// its number as attrs.n.
func commitNumbered(t *testing.T, s store.Store, n int) {
	t.Helper()
	b := &store.Batch{}
	for i := range n {
		r := record(fmt.Sprintf("ev-%d", i), 1, base.Add(time.Duration(i)*time.Minute))
		r.Event.Attrs["n"] = float64(i)
		b.Records = append(b.Records, r)
	}
	mustCommit(t, s, b)
}
