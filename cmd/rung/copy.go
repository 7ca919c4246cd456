package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// cmdCopy copies every fact of one database into an empty other one — the
// way to move a program from SQLite to PostgreSQL and back — and then
// verifies the copy: each kind of fact has the same count and content on
// both sides, and an engine loaded from each computes the same state.
//
// Records keep their order, versions and retractions. Their Seqs are kept
// when the source log has no gaps (a SQLite log never has); a PostgreSQL log
// can have gaps (a failed commit uses up its Seqs), and then the copy's Seqs
// are consecutive instead. Seqs are internal to a running server: nothing
// stored refers to one. Audit entry ids are treated the same way.
//
// Registrations, their conflict pairs, credential keys and issued
// credentials keep their ids, times, states and outcomes: they are written
// as they are, not submitted or issued again. The credential status slot
// counter is carried over, so the copy never gives a status index twice.
func cmdCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("copy", stderr)
	from := fs.String("from", "", "the database to copy: a SQLite path (opened read-only) or a postgres:// URL")
	to := fs.String("to", "", "an empty database to copy into: a SQLite path (created when missing) or a postgres:// URL")
	size := fs.Int("batch", 5000, "facts per commit")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *from == "" || *to == "" {
		return rung.Errorf(rung.EINVALID, "usage: rung copy --from SRC --to DST (each a SQLite path or a postgres:// URL)")
	}
	if *size <= 0 {
		return rung.Errorf(rung.EINVALID, "--batch must be at least 1")
	}
	if sameDatabase(*from, *to) {
		return rung.Errorf(rung.EINVALID, "--from and --to name the same database (%s)", redact(*from))
	}
	src, err := openCopySource(ctx, *from)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	applied, err := src.AppliedMigrations(ctx)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	if err := checkMigrations(applied, copiedMigrations); err != nil {
		return err
	}
	dst, err := openCopyDestination(ctx, *to)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	defer dst.Close()
	if err := checkEmpty(ctx, dst, *to); err != nil {
		return err
	}

	start := time.Now()
	fmt.Fprintf(stderr, "copying %s to %s\n", redact(*from), redact(*to))
	c := &copyRun{dst: dst, stderr: stderr, seqsKept: true, auditIDsKept: true, start: start}
	if c.total, err = src.LastSeq(ctx); err != nil {
		return err
	}
	copied := newTally()
	err = readFacts(ctx, src, *size, func(ch *chunk) error {
		if err := copied.add(ch); err != nil {
			return err
		}
		return c.write(ctx, ch)
	})
	c.progress(true)
	if err != nil {
		return fmt.Errorf("copy stopped: %w\n%s now holds part of the copy: delete it (or drop its schema) before copying again",
			err, redact(*to))
	}
	took := time.Since(start)

	// Verify. Both engines are loaded at the same fixed time, so the
	// digests compare the same moment.
	at := time.Now().UTC().Truncate(time.Second)
	var srcFacts facts
	var srcErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		srcFacts, srcErr = tallyStore(ctx, src, *size)
	}()
	dstFacts, err := tallyStore(ctx, dst, *size)
	<-read
	if srcErr != nil {
		return fmt.Errorf("verify: read the source: %w", srcErr)
	}
	if err != nil {
		return fmt.Errorf("verify: read the copy: %w", err)
	}
	log := quietLog(stderr)
	srcState, err := loadState(ctx, src, at, log)
	if err != nil {
		return fmt.Errorf("verify: load the source: %w", err)
	}
	dstState, err := loadState(ctx, dst, at, log)
	if err != nil {
		return fmt.Errorf("verify: load the copy: %w", err)
	}

	fmt.Fprintf(stdout, "copied %s to %s in %s\n\n", redact(*from), redact(*to), took.Round(time.Millisecond))
	fmt.Fprintf(stdout, "  %-18s %10s %10s\n", "", "source", "copy")
	sum := copied.sum()
	for k := range numKinds {
		fmt.Fprintf(stdout, "  %-18s %10d %10d  %s\n", kindNames[k], srcFacts.n[k], dstFacts.n[k],
			verdict(srcFacts.n[k] == dstFacts.n[k], srcFacts.h[k] == dstFacts.h[k]))
	}
	fmt.Fprintf(stdout, "  %-18s %10d %10d  %s\n", "distinct events", srcState.events, dstState.events, verdict(srcState.events == dstState.events, true))
	fmt.Fprintf(stdout, "  %-18s %10d %10d  %s\n", "partners", srcState.partners, dstState.partners, verdict(srcState.partners == dstState.partners, true))
	fmt.Fprintf(stdout, "\n  state digest at %s\n    source  %s\n    copy    %s\n", at.Format(time.RFC3339), srcState.digest, dstState.digest)
	seqs := "seqs kept"
	if !c.seqsKept {
		seqs = "seqs renumbered (the source log has gaps; the order is kept)"
	}
	ids := "audit ids kept"
	if !c.auditIDsKept {
		ids = "audit ids renumbered (the order is kept)"
	}
	fmt.Fprintf(stdout, "  %s; %s\n\n", seqs, ids)

	switch {
	case srcFacts != sum:
		hint := "stop what writes to it"
		if !isPostgresURL(*from) {
			hint += " (or copy from a snapshot made with `rung backup`)"
		}
		return rung.Errorf(rung.ECONFLICT, "the source changed while it was being copied (%s): %s, delete the copy and run rung copy again",
			differences(sum, srcFacts), hint)
	case dstFacts != sum:
		return rung.Errorf(rung.EINTERNAL, "the copy does not hold what was read from the source (%s); delete it and run rung copy again",
			differences(sum, dstFacts))
	case srcState != dstState:
		return rung.Errorf(rung.EINTERNAL, "the copy holds the same facts but its derived state differs from the source's (digest %s, source %s): please report this as a bug",
			short(dstState.digest), short(srcState.digest))
	}
	fmt.Fprintln(stdout, "verified: the copy holds the same facts and computes the same state")
	return nil
}

func verdict(count, content bool) string {
	switch {
	case !count:
		return "DIFFERS"
	case !content:
		return "DIFFERS (same count, other content)"
	}
	return "ok"
}

func short(digest string) string { return digest[:min(12, len(digest))] }

// sameDatabase reports whether a and b obviously name one database.
func sameDatabase(a, b string) bool {
	if a == b {
		return true
	}
	if isPostgresURL(a) || isPostgresURL(b) {
		return false
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

func isPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openCopySource opens the database to copy. SQLite is opened read-only,
// without the lock, so the copy can run beside a server.
func openCopySource(ctx context.Context, dsn string) (store.Store, error) {
	if isPostgresURL(dsn) {
		return postgres.Open(ctx, dsn)
	}
	return sqlite.OpenReadOnly(ctx, dsn)
}

// plainSchema is a schema name PostgreSQL takes as written.
var plainSchema = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// openCopyDestination opens the database to copy into. A schema the URL
// names first in its search_path is created when missing, so that
// `--to 'postgres://...?search_path=rung'` works on a new database.
func openCopyDestination(ctx context.Context, dsn string) (store.Store, error) {
	if !isPostgresURL(dsn) {
		return sqlite.Open(ctx, dsn)
	}
	schema := ""
	if u, err := url.Parse(dsn); err == nil {
		first, _, _ := strings.Cut(u.Query().Get("search_path"), ",")
		if first = strings.TrimSpace(first); plainSchema.MatchString(first) {
			schema = first
		}
	}
	return postgres.OpenSchema(ctx, dsn, schema)
}

// copiedMigrations names the schema migrations whose facts rung copy moves.
// A database with a migration not listed may hold a kind of fact that copy
// would leave behind, so copy refuses it. Adding a migration that stores
// facts: teach readFacts, copyRun.write, tally.add and checkEmpty about
// them, then list it here (TestCopyKnowsEveryMigration reminds).
var copiedMigrations = map[int]string{
	1:  "0001_init",              // the log, partners, members, programs, adjustments, audit, API keys, meta
	2:  "0002_instances",         // change feed and job runs: how instances share work, not facts to copy
	3:  "0003_accounts",          // web accounts; sessions and sign-in links are left behind
	4:  "0004_credentials",       // credential keys, issued credentials, the status slot counter
	5:  "0005_registrations",     // registrations, conflict pairs, CRM accounts
	6:  "0006_tiers",             // tier decisions, overrides, appeals, nudges
	7:  "0007_redemptions",       // rewards redemptions
	9:  "0009_outbox",            // outbox messages, deliveries, webhooks, producer cursor: copy_outbox.go
	10: "0010_notifications",     // notifications and members' notification preferences
	11: "0011_source_deliveries", // CRM and LMS deliveries kept for replay
	12: "0012_snapshots",         // snapshots of derived state: a cache, left behind (the copy replays)
	13: "0013_outbox_fillfactor", // room left on the producer's state pages (PostgreSQL): stores nothing new
}

// checkMigrations refuses a source with a migration copy does not know.
func checkMigrations(applied []store.Migration, known map[int]string) error {
	var unknown []string
	for _, m := range applied {
		if known[m.Version] != m.Name {
			unknown = append(unknown, m.Name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return rung.Errorf(rung.EINVALID, "the source has schema migration %s, which rung copy does not know how to copy: "+
		"the copy would lose what it stores, so nothing was copied. This is a bug in rung copy: please report it", strings.Join(unknown, ", "))
}

// checkEmpty refuses a destination that holds anything.
func checkEmpty(ctx context.Context, st store.Store, dsn string) error {
	var held []string
	hold := func(n int, one, many string) {
		switch {
		case n == 1:
			held = append(held, "1 "+one)
		case n > 1:
			held = append(held, fmt.Sprintf("%d %s", n, many))
		}
	}
	last, err := st.LastSeq(ctx)
	if err != nil {
		return err
	}
	if last > 0 {
		held = append(held, fmt.Sprintf("an event log (up to seq %d)", last))
	}
	ps, err := st.Programs(ctx)
	if err != nil {
		return err
	}
	hold(len(ps), "program version", "program versions")
	pvs, err := st.PartnerVersions(ctx)
	if err != nil {
		return err
	}
	hold(len(pvs), "partner version", "partner versions")
	ms, err := st.Members(ctx)
	if err != nil {
		return err
	}
	hold(len(ms), "member", "members")
	as, err := st.Adjustments(ctx)
	if err != nil {
		return err
	}
	hold(len(as), "adjustment", "adjustments")
	es, err := st.Audit(ctx, store.AuditFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(es) > 0 {
		held = append(held, "audit entries")
	}
	ks, err := st.APIKeys(ctx)
	if err != nil {
		return err
	}
	hold(len(ks), "API key", "API keys")
	meta, err := st.AllMeta(ctx)
	if err != nil {
		return err
	}
	hold(len(meta), "meta value", "meta values")
	accounts, err := st.ListAccounts(ctx)
	if err != nil {
		return err
	}
	hold(len(accounts), "account", "accounts")
	regs, err := st.ListRegistrations(ctx, store.RegistrationFilter{})
	if err != nil {
		return err
	}
	hold(len(regs), "registration", "registrations")
	crm, err := st.CRMAccounts(ctx)
	if err != nil {
		return err
	}
	hold(len(crm), "CRM account", "CRM accounts")
	ck, err := st.CredentialKeys(ctx)
	if err != nil {
		return err
	}
	hold(len(ck), "credential key", "credential keys")
	creds, err := st.IssuedCredentials(ctx)
	if err != nil {
		return err
	}
	hold(len(creds), "credential", "credentials")
	rds, err := st.ListRedemptions(ctx, store.RedemptionFilter{})
	if err != nil {
		return err
	}
	hold(len(rds), "redemption", "redemptions")
	slots, err := st.CredentialSlots(ctx)
	if err != nil {
		return err
	}
	if slots > 0 && len(creds) == 0 {
		held = append(held, "used credential status slots")
	}
	notes, err := st.ListNotifications(ctx, store.NotificationFilter{Limit: 1})
	if err != nil {
		return err
	}
	hold(len(notes), "notification", "notifications")
	prefs, err := st.AllNotificationPrefs(ctx)
	if err != nil {
		return err
	}
	hold(len(prefs), "member's notification preferences", "members' notification preferences")
	trs, err := st.TierRecords(ctx, "")
	if err != nil {
		return err
	}
	hold(len(trs), "tier record", "tier records")
	ob, err := st.ExportOutbox(ctx)
	if err != nil {
		return err
	}
	hold(ob.Rows(), "outbox row", "outbox rows")
	deliveries, records, err := countSourceFacts(ctx, st)
	if err != nil {
		return err
	}
	hold(deliveries, "source delivery", "source deliveries")
	hold(records, "source record", "source records")
	if len(held) == 0 {
		return nil
	}
	return rung.Errorf(rung.ECONFLICT, "destination %s is not empty: it holds %s. rung copy writes only into an empty database: "+
		"give a new SQLite file, or an empty PostgreSQL database or schema (postgres://...?search_path=NAME creates the schema)",
		redact(dsn), strings.Join(held, ", "))
}

// chunk is a piece of a database on its way to another: facts that Commit
// writes, or facts of one other kind.
type chunk struct {
	batch     store.Batch
	keys      []rung.APIKey
	meta      map[string]string
	accounts  []store.Account // web accounts; sessions and sign-in links are not copied
	regs      []store.Registration
	conflicts []store.Conflict
	crm       []store.CRMAccount
	credKeys  []store.CredentialKey
	creds     []store.IssuedCredential
	slots     int64 // the credential status slot counter, when hasSlots
	hasSlots  bool
	notes     []store.Notification
	prefs     []store.NotificationPrefs
	tiers     []store.TierRecord
	redeems   []rung.Redemption
	outbox    *store.OutboxDump

	deliveries []store.SourceDelivery // copy_sources.go
	records    []store.SourceRecord   // copy_sources.go
}

// readFacts reads every fact of st and hands it to fn in chunks of at most
// size facts of one kind, in the order a copy writes them: programs,
// partner versions, members, the event log in Seq order, adjustments and
// audit entries oldest first, API keys, web accounts, registrations, their
// conflict pairs, CRM accounts, credential keys, credentials, the status
// slot counter, meta values. The kinds a store may list in an order that
// depends on the database's collation are sorted here, so that both sides
// of a copy hash them alike. The records of a chunk are reused once fn
// returns.
func readFacts(ctx context.Context, st store.Store, size int, fn func(*chunk) error) error {
	ps, err := st.Programs(ctx)
	if err != nil {
		return err
	}
	for part := range slices.Chunk(ps, size) {
		if err := fn(&chunk{batch: store.Batch{Programs: part}}); err != nil {
			return err
		}
	}
	pvs, err := st.PartnerVersions(ctx)
	if err != nil {
		return err
	}
	for part := range slices.Chunk(pvs, size) {
		if err := fn(&chunk{batch: store.Batch{Partners: part}}); err != nil {
			return err
		}
	}
	ms, err := st.Members(ctx)
	if err != nil {
		return err
	}
	for part := range slices.Chunk(ms, size) {
		if err := fn(&chunk{batch: store.Batch{Members: part}}); err != nil {
			return err
		}
	}

	// The store reuses the record it passes; its strings and attrs are
	// fresh for every record, so a shallow copy keeps it.
	slab := make([]rung.Record, size)
	ch := &chunk{batch: store.Batch{Records: make([]*rung.Record, 0, size)}}
	flush := func() error {
		if len(ch.batch.Records) == 0 {
			return nil
		}
		err := fn(ch)
		ch.batch.Records = ch.batch.Records[:0]
		return err
	}
	err = st.Records(ctx, 0, func(r *rung.Record) error {
		i := len(ch.batch.Records)
		slab[i] = *r
		ch.batch.Records = append(ch.batch.Records, &slab[i])
		if len(ch.batch.Records) == size {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}

	as, err := st.Adjustments(ctx)
	if err != nil {
		return err
	}
	for part := range slices.Chunk(as, size) {
		if err := fn(&chunk{batch: store.Batch{Adjustments: part}}); err != nil {
			return err
		}
	}
	es, err := allAudit(ctx, st)
	if err != nil {
		return err
	}
	for part := range slices.Chunk(es, size) {
		if err := fn(&chunk{batch: store.Batch{Audit: part}}); err != nil {
			return err
		}
	}
	ks, err := st.APIKeys(ctx)
	if err != nil {
		return err
	}
	if len(ks) > 0 {
		if err := fn(&chunk{keys: ks}); err != nil {
			return err
		}
	}
	accounts, err := st.ListAccounts(ctx)
	if err != nil {
		return err
	}
	if len(accounts) > 0 {
		if err := fn(&chunk{accounts: accounts}); err != nil {
			return err
		}
	}
	if err := readRegistrations(ctx, st, size, fn); err != nil {
		return err
	}
	if err := readCredentials(ctx, st, size, fn); err != nil {
		return err
	}
	if err := readNotifications(ctx, st, size, fn); err != nil {
		return err
	}
	trs, err := st.TierRecords(ctx, "")
	if err != nil {
		return err
	}
	for len(trs) > 0 {
		n := min(size, len(trs))
		if err := fn(&chunk{tiers: trs[:n]}); err != nil {
			return err
		}
		trs = trs[n:]
	}
	if err := readRedemptions(ctx, st, size, fn); err != nil {
		return err
	}
	if err := readOutbox(ctx, st, fn); err != nil {
		return err
	}
	if err := readSourceDeliveries(ctx, st, size, fn); err != nil {
		return err
	}
	meta, err := st.AllMeta(ctx)
	if err != nil {
		return err
	}
	if len(meta) > 0 {
		return fn(&chunk{meta: meta})
	}
	return nil
}

// readRegistrations reads registrations (without their conflicts),
// conflict pairs and CRM accounts for readFacts.
func readRegistrations(ctx context.Context, st store.Store, size int, fn func(*chunk) error) error {
	regs, err := st.ListRegistrations(ctx, store.RegistrationFilter{})
	if err != nil {
		return err
	}
	for i := range regs {
		regs[i].Conflicts = nil
	}
	slices.SortFunc(regs, func(a, b store.Registration) int {
		return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), strings.Compare(a.ID, b.ID))
	})
	for part := range slices.Chunk(regs, size) {
		if err := fn(&chunk{regs: part}); err != nil {
			return err
		}
	}
	pairs, err := st.ConflictPairs(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(pairs, func(a, b store.Conflict) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.First, b.First), strings.Compare(a.Second, b.Second))
	})
	for part := range slices.Chunk(pairs, size) {
		if err := fn(&chunk{conflicts: part}); err != nil {
			return err
		}
	}
	crm, err := st.CRMAccounts(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(crm, func(a, b store.CRMAccount) int { return strings.Compare(a.Domain, b.Domain) })
	for part := range slices.Chunk(crm, size) {
		if err := fn(&chunk{crm: part}); err != nil {
			return err
		}
	}
	return nil
}

// readNotifications reads notifications, by ID, and notification
// preferences for readFacts.
func readNotifications(ctx context.Context, st store.Store, size int, fn func(*chunk) error) error {
	ns, err := st.ListNotifications(ctx, store.NotificationFilter{})
	if err != nil {
		return err
	}
	slices.SortFunc(ns, func(a, b store.Notification) int { return strings.Compare(a.ID, b.ID) })
	for part := range slices.Chunk(ns, size) {
		if err := fn(&chunk{notes: part}); err != nil {
			return err
		}
	}
	ps, err := st.AllNotificationPrefs(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(ps, func(a, b store.NotificationPrefs) int { return strings.Compare(a.Member, b.Member) })
	for part := range slices.Chunk(ps, size) {
		if err := fn(&chunk{prefs: part}); err != nil {
			return err
		}
	}
	return nil
}

// readCredentials reads credential keys, issued credentials and the status
// slot counter for readFacts.
func readCredentials(ctx context.Context, st store.Store, size int, fn func(*chunk) error) error {
	keys, err := st.CredentialKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		if err := fn(&chunk{credKeys: keys}); err != nil {
			return err
		}
	}
	creds, err := st.IssuedCredentials(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(creds, func(a, b store.IssuedCredential) int { return strings.Compare(a.ID, b.ID) })
	for part := range slices.Chunk(creds, size) {
		if err := fn(&chunk{creds: part}); err != nil {
			return err
		}
	}
	slots, err := st.CredentialSlots(ctx)
	if err != nil {
		return err
	}
	if slots > 0 {
		return fn(&chunk{slots: slots, hasSlots: true})
	}
	return nil
}

// allAudit returns every audit entry, oldest first.
func allAudit(ctx context.Context, st store.Store) ([]rung.AuditEntry, error) {
	const page = 5000
	var all []rung.AuditEntry
	var before int64
	for {
		es, err := st.Audit(ctx, store.AuditFilter{Limit: page, Before: before})
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
		if len(es) < page {
			break
		}
		before = es[len(es)-1].ID
	}
	slices.Reverse(all)
	return all, nil
}

// copyRun writes chunks into the destination and shows how far it got.
type copyRun struct {
	dst          store.Store
	stderr       io.Writer
	total        int64 // the source's last Seq: about how many records there are
	records      int64
	n            [numKinds]int // facts written, by kind
	seqsKept     bool
	auditIDsKept bool
	start        time.Time
	shown        time.Time
}

func (c *copyRun) write(ctx context.Context, ch *chunk) error {
	for _, k := range ch.keys {
		if err := c.dst.CreateAPIKey(ctx, k); err != nil {
			return fmt.Errorf("API key %s: %w", k.ID, err)
		}
	}
	for _, a := range ch.accounts {
		if err := c.dst.PutAccount(ctx, a); err != nil {
			return fmt.Errorf("account %s: %w", a.ID, err)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ch.meta)) {
		if err := c.dst.SetMeta(ctx, k, ch.meta[k]); err != nil {
			return err
		}
	}
	if err := c.writeOthers(ctx, ch); err != nil {
		return err
	}
	if err := c.writeSourceDeliveries(ctx, ch); err != nil {
		return err
	}
	b := &ch.batch
	if b.Empty() {
		c.count(ch)
		c.progress(false)
		return nil
	}
	seqs := make([]int64, len(b.Records))
	for i, r := range b.Records {
		seqs[i] = r.Seq
	}
	ids := make([]int64, len(b.Audit))
	for i, e := range b.Audit {
		ids[i] = e.ID
	}
	if err := c.dst.Commit(ctx, b); err != nil {
		if len(seqs) > 0 {
			return fmt.Errorf("records from seq %d: %w", seqs[0], err)
		}
		return err
	}
	for i, r := range b.Records {
		if r.Seq != seqs[i] {
			c.seqsKept = false
		}
	}
	for i, e := range b.Audit {
		if e.ID != ids[i] {
			c.auditIDsKept = false
		}
	}
	c.records += int64(len(seqs))
	c.count(ch)
	c.progress(false)
	return nil
}

// writeOthers writes the registrations, conflict pairs, CRM accounts and
// credential facts of ch, as they are.
func (c *copyRun) writeOthers(ctx context.Context, ch *chunk) error {
	if len(ch.regs) > 0 {
		if err := c.dst.ImportRegistrations(ctx, ch.regs); err != nil {
			return fmt.Errorf("registrations from %s: %w", ch.regs[0].ID, err)
		}
	}
	if len(ch.conflicts) > 0 {
		if err := c.dst.ImportConflicts(ctx, ch.conflicts); err != nil {
			return fmt.Errorf("conflict pairs: %w", err)
		}
	}
	for _, a := range ch.crm {
		if err := c.dst.PutCRMAccount(ctx, a); err != nil {
			return fmt.Errorf("CRM account %s: %w", a.Domain, err)
		}
	}
	for _, k := range ch.credKeys {
		if err := c.dst.AddCredentialKey(ctx, k); err != nil {
			return fmt.Errorf("credential key %s: %w", k.ID, err)
		}
	}
	for _, cr := range ch.creds {
		if err := c.dst.PutCredential(ctx, cr); err != nil {
			return fmt.Errorf("credential %s: %w", cr.ID, err)
		}
	}
	if ch.hasSlots {
		if err := c.dst.RaiseCredentialSlots(ctx, ch.slots); err != nil {
			return fmt.Errorf("credential status slots: %w", err)
		}
	}
	if len(ch.notes) > 0 {
		if _, err := c.dst.AddNotifications(ctx, ch.notes); err != nil {
			return fmt.Errorf("notifications from %s: %w", ch.notes[0].ID, err)
		}
	}
	for _, p := range ch.prefs {
		if err := c.dst.PutNotificationPrefs(ctx, p); err != nil {
			return fmt.Errorf("notification preferences of %s: %w", p.Member, err)
		}
	}
	if len(ch.tiers) > 0 {
		if _, err := c.dst.AddTierRecords(ctx, ch.tiers); err != nil {
			return fmt.Errorf("tier records from %s: %w", ch.tiers[0].ID, err)
		}
	}
	for _, r := range ch.redeems {
		if err := c.dst.PutRedemption(ctx, r); err != nil {
			return fmt.Errorf("redemption %s: %w", r.ID, err)
		}
	}
	return writeOutbox(ctx, c.dst, ch.outbox)
}

// count adds what ch holds to the facts written, by kind.
func (c *copyRun) count(ch *chunk) {
	b := &ch.batch
	for k, n := range [numKinds]int{
		kindPrograms: len(b.Programs), kindPartners: len(b.Partners), kindMembers: len(b.Members),
		kindAdjustments: len(b.Adjustments), kindAudit: len(b.Audit), kindKeys: len(ch.keys),
		kindMeta: len(ch.meta), kindAccounts: len(ch.accounts), kindRegistrations: len(ch.regs),
		kindConflicts: len(ch.conflicts), kindCRMAccounts: len(ch.crm), kindCredentialKeys: len(ch.credKeys),
		kindCredentials: len(ch.creds), kindSlots: int(ch.slots),
		kindNotifications: len(ch.notes), kindNotificationPrefs: len(ch.prefs),
		kindTiers:            len(ch.tiers),
		kindRedemptions:      len(ch.redeems),
		kindOutbox:           ch.outbox.Rows(),
		kindSourceDeliveries: len(ch.deliveries), kindSourceRecords: len(ch.records),
	} {
		c.n[k] += n
	}
}

// progress shows the records copied on one line of stderr, at most five
// times a second, and ends the line when final.
func (c *copyRun) progress(final bool) {
	if !final && time.Since(c.shown) < 200*time.Millisecond {
		return
	}
	c.shown = time.Now()
	rate := float64(c.records) / max(time.Since(c.start).Seconds(), 0.001)
	pct := 100.0
	if c.total > 0 && !final {
		pct = min(100, 100*float64(c.records)/float64(c.total))
	}
	fmt.Fprintf(c.stderr, "\rcopied %d of %d records (%.0f%%), %.0f records/s", c.records, max(c.total, c.records), pct, rate)
	if others := c.others(); others != "" {
		fmt.Fprintf(c.stderr, "; %s", others)
	}
	if final {
		fmt.Fprintln(c.stderr)
	}
}

// others says how many facts of each kind but records were written so far.
func (c *copyRun) others() string {
	var out []string
	for k := range numKinds {
		switch {
		case k == kindRecords || c.n[k] == 0:
		case c.n[k] == 1:
			out = append(out, "1 "+kindName1[k])
		default:
			out = append(out, fmt.Sprintf("%d %s", c.n[k], kindNames[k]))
		}
	}
	return strings.Join(out, ", ")
}

// The kinds of fact a store holds, as readFacts gives them.
const (
	kindPrograms = iota
	kindPartners
	kindMembers
	kindRecords
	kindAdjustments
	kindAudit
	kindKeys
	kindMeta
	kindAccounts
	kindRegistrations
	kindConflicts
	kindCRMAccounts
	kindCredentialKeys
	kindCredentials
	kindSlots // the status slot counter: its value stands for its count
	kindNotifications
	kindNotificationPrefs
	kindTiers
	kindRedemptions
	kindOutbox
	kindSourceDeliveries
	kindSourceRecords
	numKinds
)

var kindNames = [numKinds]string{"program versions", "partner versions", "members", "records", "adjustments", "audit entries", "API keys", "meta values", "accounts",
	"registrations", "conflict pairs", "CRM accounts", "credential keys", "credentials", "status slots used",
	"notifications", "notification preferences", "tier records", "redemptions", "outbox rows",
	"source deliveries", "source records"}

// kindName1 is the name of one fact of each kind.
var kindName1 = [numKinds]string{"program version", "partner version", "member", "record", "adjustment", "audit entry", "API key", "meta value", "account",
	"registration", "conflict pair", "CRM account", "credential key", "credential", "status slot used",
	"notification", "member's notification preferences", "tier record", "redemption", "outbox row",
	"source delivery", "source record"}

// facts is how many facts of each kind a database holds, and a SHA-256 of
// their content in order. Seqs and audit ids are left out: a copy may
// renumber them.
type facts struct {
	n [numKinds]int
	h [numKinds][sha256.Size]byte
}

// differences names the kinds on which a and b differ.
func differences(a, b facts) string {
	var out []string
	for k := range numKinds {
		switch {
		case a.n[k] != b.n[k]:
			out = append(out, fmt.Sprintf("%s: %d, then %d", kindNames[k], a.n[k], b.n[k]))
		case a.h[k] != b.h[k]:
			out = append(out, kindNames[k]+": same count, other content")
		}
	}
	return strings.Join(out, "; ")
}

// tally accumulates facts chunk by chunk.
type tally struct {
	n    [numKinds]int
	h    [numKinds]hash.Hash
	buf  []byte
	body []byte
}

func newTally() *tally {
	t := &tally{}
	for k := range t.h {
		t.h[k] = sha256.New()
	}
	return t
}

// tallyStore reads every fact of st.
func tallyStore(ctx context.Context, st store.Store, size int) (facts, error) {
	t := newTally()
	if err := readFacts(ctx, st, size, t.add); err != nil {
		return facts{}, err
	}
	return t.sum(), nil
}

func (t *tally) sum() facts {
	var f facts
	f.n = t.n
	for k, h := range t.h {
		h.Sum(f.h[k][:0])
	}
	return f
}

// put adds one length-prefixed field to kind's hash.
func (t *tally) put(kind int, b []byte) {
	t.buf = binary.AppendUvarint(t.buf[:0], uint64(len(b)))
	t.h[kind].Write(t.buf)
	t.h[kind].Write(b)
}

func (t *tally) putJSON(kind int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", kindNames[kind], err)
	}
	t.put(kind, b)
	return nil
}

func (t *tally) add(ch *chunk) error {
	b := &ch.batch
	if err := putAll(t, kindPrograms, b.Programs); err != nil {
		return err
	}
	if err := putAll(t, kindPartners, b.Partners); err != nil {
		return err
	}
	if err := putAll(t, kindMembers, b.Members); err != nil {
		return err
	}
	for _, r := range b.Records {
		var err error
		if t.body, err = codec.EncodeRecord(t.body[:0], r); err != nil {
			return err
		}
		t.put(kindRecords, []byte(r.Event.ID))
		t.put(kindRecords, binary.AppendVarint(nil, int64(r.Version)))
		t.put(kindRecords, t.body)
	}
	t.n[kindRecords] += len(b.Records)
	if err := putAll(t, kindAdjustments, b.Adjustments); err != nil {
		return err
	}
	audit := slices.Clone(b.Audit)
	for i := range audit {
		audit[i].ID = 0
	}
	if err := putAll(t, kindAudit, audit); err != nil {
		return err
	}
	for _, k := range ch.keys {
		if err := t.putJSON(kindKeys, k); err != nil {
			return err
		}
		t.put(kindKeys, k.Hash)
	}
	t.n[kindKeys] += len(ch.keys)
	for _, k := range slices.Sorted(maps.Keys(ch.meta)) {
		t.put(kindMeta, []byte(k))
		t.put(kindMeta, []byte(ch.meta[k]))
	}
	t.n[kindMeta] += len(ch.meta)
	for _, a := range ch.accounts {
		if err := t.putJSON(kindAccounts, a); err != nil {
			return err
		}
		t.put(kindAccounts, []byte(a.PasswordHash))
	}
	t.n[kindAccounts] += len(ch.accounts)
	// Registrations are hashed without their conflicts, which are hashed
	// as pairs; readFacts leaves them out.
	if err := putAll(t, kindRegistrations, ch.regs); err != nil {
		return err
	}
	if err := putAll(t, kindConflicts, ch.conflicts); err != nil {
		return err
	}
	if err := putAll(t, kindCRMAccounts, ch.crm); err != nil {
		return err
	}
	// Keys and credentials have no JSON names: their fields are hashed
	// by Go name, the seeds and bodies in base64.
	if err := putAll(t, kindCredentialKeys, ch.credKeys); err != nil {
		return err
	}
	if err := putAll(t, kindCredentials, ch.creds); err != nil {
		return err
	}
	if ch.hasSlots {
		t.put(kindSlots, binary.AppendVarint(nil, ch.slots))
		t.n[kindSlots] += int(ch.slots)
	}
	if err := putAll(t, kindNotifications, ch.notes); err != nil {
		return err
	}
	if err := putAll(t, kindNotificationPrefs, ch.prefs); err != nil {
		return err
	}
	if err := putAll(t, kindTiers, ch.tiers); err != nil {
		return err
	}
	if err := putAll(t, kindRedemptions, ch.redeems); err != nil {
		return err
	}
	if err := t.addOutbox(ch.outbox); err != nil {
		return err
	}
	if err := putAll(t, kindSourceDeliveries, ch.deliveries); err != nil {
		return err
	}
	return putAll(t, kindSourceRecords, ch.records)
}

// putAll adds each of vs, as JSON, to kind's hash and count.
func putAll[V any](t *tally, kind int, vs []V) error {
	for i := range vs {
		if err := t.putJSON(kind, vs[i]); err != nil {
			return err
		}
	}
	t.n[kind] += len(vs)
	return nil
}

// state is what an engine loaded from a database computes.
type state struct {
	partners, events int
	digest           string
}

// loadState loads st into a service whose clock stands at at, and returns
// its counts and the digest of its derived state at that time.
func loadState(ctx context.Context, st store.Store, at time.Time, log *slog.Logger) (state, error) {
	prepareHeap()
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return at }, Logger: log})
	if err != nil {
		return state{}, err
	}
	defer svc.Close()
	var s state
	svc.Read(func(e *engine.Engine) error {
		s.partners, _, s.events = e.Counts()
		s.digest = e.Digest(at)
		return nil
	})
	return s, nil
}
