// Package postgres stores Rung's facts in PostgreSQL, for programs that
// outgrow one machine or need several instances. It uses pgx's pool.
//
// Several instances may commit at once: Commit serializes the writers of
// the event log with a transaction-level advisory lock, so Seqs are handed
// out in commit order and a reader that has seen Seq n never later finds a
// record below n. The event log's (id, version) is unique in the database.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// connectTimeout bounds each connection attempt when the URL sets none.
const connectTimeout = 10 * time.Second

// Store is a store.Store on a PostgreSQL database. It is safe for
// concurrent use, also by several processes on one database.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	// logLock is the advisory lock key that serializes writers of the
	// event log in this schema; eventsSeq names its sequence.
	logLock   int64
	eventsSeq string
	pageSize  int // rows per query of Records

	// connConfig opens the connections that hold leadership (TryLead)
	// and listen for commits (Wake) outside the pool.
	connConfig *pgx.ConnConfig
	// channel is the notification channel of this schema's commits.
	channel string

	// candidate is the connection of TryLead's last failed try.
	candidateMu sync.Mutex
	candidate   *pgx.Conn
	closed      bool
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Lender = (*Store)(nil)
)

// Open connects to the database at url (postgres://user:pass@host/db?...)
// and brings its schema up to date. The schema used is the first of the
// connection's search_path, which the URL may set (&search_path=rung).
// A malformed URL or a server that cannot be reached is EUNAVAILABLE.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenSchema(ctx, url, "")
}

// OpenSchema is Open inside the given schema, created if missing; tests
// use it to give each test a schema of its own. An empty schema is Open.
func OpenSchema(ctx context.Context, url, schema string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, rung.Errorf(rung.EUNAVAILABLE, "cannot use PostgreSQL URL %s: %v", redact(url), err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if schema != "" {
		if err := createSchema(ctx, cfg.ConnConfig, schema); err != nil {
			return nil, rung.Errorf(rung.EUNAVAILABLE, "cannot create schema %q in PostgreSQL at %s: %v", schema, where, err)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, rung.Errorf(rung.EUNAVAILABLE, "cannot connect to PostgreSQL at %s: %v", where, err)
	}
	s := &Store{pool: pool, pageSize: recordsPerPage, connConfig: cfg.ConnConfig}
	if err := s.init(ctx); err != nil {
		pool.Close()
		if rung.ErrorCode(err) == rung.EINTERNAL {
			err = rung.Errorf(rung.EUNAVAILABLE, "cannot use PostgreSQL at %s: %v", where, err)
		}
		return nil, err
	}
	return s, nil
}

// redact hides the password of a URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func createSchema(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	if isCode(err, "42P06", "23505") {
		// Another instance created it at the same moment.
		return nil
	}
	return err
}

// init checks the connection, finds the schema and migrates it.
func (s *Store) init(ctx context.Context) error {
	var schema *string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return rung.Errorf(rung.EUNAVAILABLE, "no schema to use: the search_path names none that exists; create it or use OpenSchema")
	}
	s.schema = *schema
	s.logLock = lockKey("rung.events." + s.schema)
	s.channel = fmt.Sprintf("rung_%016x", uint64(s.logLock))
	if err := s.migrate(ctx); err != nil {
		return err
	}
	return s.pool.QueryRow(ctx, `SELECT pg_get_serial_sequence('events', 'seq')`).Scan(&s.eventsSeq)
}

// lockKey turns a name into an advisory lock key.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// migrate applies the migrations the schema has not seen, in one
// transaction, holding an advisory lock so that instances starting together
// migrate once.
func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	ms, err := store.ReadMigrations(sub)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("rung.migrate."+s.schema)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		pending, err := store.Pending(ms, applied)
		if err != nil {
			return rung.Errorf(rung.EUNAVAILABLE, "schema %s: %s", s.schema, rung.ErrorMessage(err))
		}
		for _, m := range pending {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now().UnixNano()); err != nil {
				return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// AppliedMigrations returns the migrations applied to the schema.
func (s *Store) AppliedMigrations(ctx context.Context) ([]store.Migration, error) {
	rows, err := s.pool.Query(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, failed(err, "applied migrations")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Migration, error) {
		var m store.Migration
		err := row.Scan(&m.Version, &m.Name)
		return m, err
	})
	if err != nil {
		return nil, failed(err, "applied migrations")
	}
	if out == nil {
		out = []store.Migration{}
	}
	return out, nil
}

// Schema returns the schema the store uses.
func (s *Store) Schema() string { return s.schema }

// Shared reports true: several instances may write one PostgreSQL schema
// at once.
func (s *Store) Shared() bool { return true }

// Close closes the pool. Leases from TryLead hold connections of their own:
// release them first.
func (s *Store) Close() error {
	s.candidateMu.Lock()
	if s.candidate != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		s.candidate.Close(ctx)
		cancel()
		s.candidate = nil
	}
	s.closed = true
	s.candidateMu.Unlock()
	s.pool.Close()
	return nil
}

// isCode reports whether err is a PostgreSQL error with one of codes.
func isCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// pgDetail returns the detail of a PostgreSQL error, such as the key that
// violated a constraint.
func pgDetail(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Detail != "" {
		return pe.Detail
	}
	return err.Error()
}

// isUnique reports a unique or primary key violation.
func isUnique(err error) bool { return isCode(err, "23505") }

// userError turns what PostgreSQL refuses in the data itself into EINVALID
// and wraps anything else with what was being done.
func userError(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if isCode(err, "22P05", "22021") {
		return rung.Errorf(rung.EINVALID, "%s: text with a NUL character or invalid UTF-8, which PostgreSQL cannot store", what)
	}
	return failed(err, "%s", what)
}

// failed wraps err with what was being done. When the database could not be
// reached, or the connection broke, it is EUNAVAILABLE (a 503 over HTTP):
// the request may be sent again once the database is back.
func failed(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if unreachable(err) {
		return fmt.Errorf("%w: %w", rung.Errorf(rung.EUNAVAILABLE, "the database cannot be reached (%s failed): try again shortly", what), err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// unreachable reports whether err means the database was not there: no
// connection could be made, the connection broke, or the server is
// shutting down or starting.
func unreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		(err != nil && strings.Contains(err.Error(), "conn closed"))
}
