package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// copySource is a SQLite database built through the service, and the
// secrets of its API keys.
type copySource struct {
	path          string
	key, revoked  string // secrets: a working admin key, a revoked read key
	records, evts int
}

// buildCopySource makes a database with one of each kind of fact: a
// program, partners (one with two versions), members (one moved), events
// (one corrected, one retracted), an adjustment, API keys (one revoked),
// audit entries and an import cursor.
func buildCopySource(t *testing.T) copySource {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "source.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return now }, Logger: quietLog(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = svc.ApplyProgram(ctx, []byte(e2eProgram), time.Time{}, "test")
	must("apply program", err)
	_, err = svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", Size: "smb", JoinedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	must("put p1", err)
	_, err = svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", Size: "mid"})
	must("update p1", err)
	_, err = svc.PutPartner(ctx, rung.Partner{ID: "p2", Name: "Globex", Region: "emea", Attrs: map[string]any{"tier_hint": "gold", "seats": 12.0}})
	must("put p2", err)
	_, err = svc.PutMember(ctx, rung.Member{ID: "peter", Partner: "p1", Name: "Peter", Email: "peter@initech.example", JoinedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	must("put peter", err)
	_, err = svc.PutMember(ctx, rung.Member{ID: "sam", Partner: "p2", Role: "sales"})
	must("put sam", err)
	must("put account", st.PutAccount(ctx, store.Account{ID: "usr_1", Email: "ada@vendor.example", Name: "Ada", Role: store.RoleManager,
		Partners: []string{"p1"}, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", Locale: "de", CreatedAt: now}))

	ev := func(id, typ, partner, member, at string, attrs map[string]any) *service.Incoming {
		ts, err := time.Parse(time.RFC3339, at)
		must("time", err)
		return &service.Incoming{Event: rung.Event{ID: id, Type: typ, Partner: partner, Member: member, OccurredAt: ts, Attrs: attrs, Source: "crm"}}
	}
	ingest := func(in ...*service.Incoming) {
		t.Helper()
		res, err := svc.Ingest(ctx, in)
		must("ingest", err)
		for _, r := range res {
			if r.Status == "rejected" {
				t.Fatalf("event %s rejected: %s", r.ID, r.Error)
			}
		}
	}
	ingest(
		ev("crm:1:deal.won", "deal.won", "p1", "peter", "2026-11-02T10:00:00Z", map[string]any{"amount": 64000.0}),
		ev("lms:1:training.completed", "training.completed", "p1", "peter", "2026-11-03T10:00:00Z", map[string]any{"score": 95.0, "course": "icp"}),
		ev("crm:2:deal.won", "deal.won", "p2", "sam", "2026-11-04T10:00:00Z", map[string]any{"amount": 12000.0, "tags": []any{"a", "b"}}),
		ev("portal:1:portal.login", "portal.login", "p2", "sam", "2026-11-04T11:00:00Z", nil),
	)
	// A correction, and a retraction.
	ingest(ev("crm:1:deal.won", "deal.won", "p1", "peter", "2026-11-02T10:00:00Z", map[string]any{"amount": 70000.0}))
	_, err = svc.Retract(ctx, "crm:2:deal.won", "test")
	must("retract", err)
	// Peter moves to p2; what he earned before stays with p1.
	_, err = svc.PutMember(ctx, rung.Member{ID: "peter", Partner: "p2", Name: "Peter", JoinedAt: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)})
	must("move peter", err)
	ingest(ev("crm:3:deal.won", "deal.won", "p2", "peter", "2026-11-12T10:00:00Z", map[string]any{"amount": 30000.0}))
	_, err = svc.Adjust(ctx, rung.Adjustment{Partner: "p2", Member: "sam", Points: 250, Reason: "event booth"}, "test")
	must("adjust", err)

	_, key, err := svc.CreateAPIKey(ctx, "ops", rung.ScopeAdmin, "test")
	must("create key", err)
	old, revoked, err := svc.CreateAPIKey(ctx, "old dashboards", rung.ScopeRead, "test")
	must("create key", err)
	must("revoke key", svc.RevokeAPIKey(ctx, old.ID, "test"))
	must("set meta", st.SetMeta(ctx, "import:0123456789abcdef", "42"))
	return copySource{path: path, key: key, revoked: revoked, records: 7, evts: 5}
}

// sameFacts fails the test unless a and b hold the same facts, Seqs and
// audit ids included.
func sameFacts(t *testing.T, a, b store.Store) {
	t.Helper()
	ctx := context.Background()
	type reader struct {
		what string
		read func(store.Store) (any, error)
	}
	for _, r := range []reader{
		{"records", func(s store.Store) (any, error) {
			var rs []rung.Record
			err := s.Records(ctx, 0, func(r *rung.Record) error { rs = append(rs, *r); return nil })
			return rs, err
		}},
		{"programs", func(s store.Store) (any, error) { return s.Programs(ctx) }},
		{"partner versions", func(s store.Store) (any, error) { return s.PartnerVersions(ctx) }},
		{"members", func(s store.Store) (any, error) { return s.Members(ctx) }},
		{"adjustments", func(s store.Store) (any, error) { return s.Adjustments(ctx) }},
		{"audit", func(s store.Store) (any, error) { return s.Audit(ctx, store.AuditFilter{Limit: 1000}) }},
		{"API keys", func(s store.Store) (any, error) { return s.APIKeys(ctx) }},
		{"meta", func(s store.Store) (any, error) { return s.AllMeta(ctx) }},
		{"accounts", func(s store.Store) (any, error) { return s.ListAccounts(ctx) }},
	} {
		va, err := r.read(a)
		if err != nil {
			t.Fatalf("%s of the source: %v", r.what, err)
		}
		vb, err := r.read(b)
		if err != nil {
			t.Fatalf("%s of the copy: %v", r.what, err)
		}
		if !reflect.DeepEqual(va, vb) {
			t.Errorf("%s differ:\n source %+v\n copy   %+v", r.what, va, vb)
		}
		if reflect.ValueOf(va).Len() == 0 {
			t.Errorf("the source has no %s: the test should hold some", r.what)
		}
	}
}

// checkCopy checks the copy holds the source's facts and state, and that
// its API keys work (or stay revoked).
func checkCopy(t *testing.T, src copySource, copied store.Store) {
	t.Helper()
	ctx := context.Background()
	orig, err := sqlite.OpenReadOnly(ctx, src.path)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	sameFacts(t, orig, copied)

	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	want, err := loadState(ctx, orig, at, quietLog(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	got, err := loadState(ctx, copied, at, quietLog(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if got != want || want.events != src.evts || want.partners != 2 {
		t.Errorf("state of the copy %+v, source %+v (want %d events, 2 partners)", got, want, src.evts)
	}

	svc, err := service.Open(ctx, copied, service.Options{Logger: quietLog(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if k, err := svc.Authenticate(ctx, src.key); err != nil || k.Scope != rung.ScopeAdmin {
		t.Errorf("the admin key on the copy: %+v, %v", k, err)
	}
	if _, err := svc.Authenticate(ctx, src.revoked); rung.ErrorCode(err) != rung.EUNAUTHORIZED {
		t.Errorf("the revoked key on the copy: %v, want EUNAUTHORIZED", err)
	}
}

// checkOutput checks what rung copy printed: every kind ok, one digest on
// both sides, and the verdict.
func checkOutput(t *testing.T, out string, records int) {
	t.Helper()
	if !strings.Contains(out, "verified: the copy holds the same facts") || strings.Contains(out, "DIFFERS") {
		t.Fatalf("rung copy did not verify:\n%s", out)
	}
	var src, dst string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "source":
			src = f[1]
		case len(f) == 2 && f[0] == "copy":
			dst = f[1]
		case len(f) == 4 && f[0] == "records":
			if f[1] != strconv.Itoa(records) || f[2] != f[1] || f[3] != "ok" {
				t.Errorf("records line %q, want %d on both sides", line, records)
			}
		}
	}
	if len(src) != 64 || src != dst {
		t.Errorf("digests: source %q, copy %q\n%s", src, dst, out)
	}
}

func TestCopySQLiteToSQLite(t *testing.T) {
	src := buildCopySource(t)
	dst := filepath.Join(t.TempDir(), "copy.db")
	out, err := runCmd(t, "copy", "--from", src.path, "--to", dst)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	checkOutput(t, out, src.records)
	if !strings.Contains(out, "seqs kept; audit ids kept") {
		t.Errorf("seqs or audit ids were renumbered:\n%s", out)
	}
	copied, err := sqlite.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	checkCopy(t, src, copied)
}

func TestCopyRefusesANonEmptyDestination(t *testing.T) {
	src := buildCopySource(t)
	dst := filepath.Join(t.TempDir(), "copy.db")
	if out, err := runCmd(t, "copy", "--from", src.path, "--to", dst); err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	out, err := runCmd(t, "copy", "--from", src.path, "--to", dst)
	if rung.ErrorCode(err) != rung.ECONFLICT || !strings.Contains(err.Error(), "is not empty: it holds an event log (up to seq 7), 1 program version, 3 partner versions, 2 members, 1 adjustment, audit entries, 2 API keys, 1 meta value, 1 account") {
		t.Fatalf("copy into a non-empty database: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "copy", "--from", src.path, "--to", src.path); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("copy onto itself: %v, want EINVALID", err)
	}
	if _, err := runCmd(t, "copy", "--from", filepath.Join(t.TempDir(), "missing.db"), "--to", filepath.Join(t.TempDir(), "x.db")); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Errorf("copy from a missing file: %v, want ENOTFOUND", err)
	}
}

// pgCopyURL returns the URL of a new schema, dropped when the test ends, or
// skips the test without RUNG_TEST_POSTGRES.
func pgCopyURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("RUNG_TEST_POSTGRES")
	if base == "" {
		t.Skip("RUNG_TEST_POSTGRES is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to test rung copy with PostgreSQL")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "rung_copy_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func TestCopySQLiteToPostgresAndBack(t *testing.T) {
	url := pgCopyURL(t)
	src := buildCopySource(t)
	// The schema does not exist yet: rung copy creates it.
	out, err := runCmd(t, "copy", "--from", src.path, "--to", url)
	if err != nil {
		t.Fatalf("copy to PostgreSQL: %v\n%s", err, out)
	}
	checkOutput(t, out, src.records)
	ctx := context.Background()
	pg, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	checkCopy(t, src, pg)
	pg.Close()

	if out, err := runCmd(t, "copy", "--from", src.path, "--to", url); rung.ErrorCode(err) != rung.ECONFLICT {
		t.Errorf("copy into the filled schema: %v\n%s", err, out)
	}

	back := filepath.Join(t.TempDir(), "back.db")
	out, err = runCmd(t, "copy", "--from", url, "--to", back)
	if err != nil {
		t.Fatalf("copy back to SQLite: %v\n%s", err, out)
	}
	checkOutput(t, out, src.records)
	copied, err := sqlite.Open(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	checkCopy(t, src, copied)
}
