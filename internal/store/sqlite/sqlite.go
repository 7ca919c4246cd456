// Package sqlite stores Rung's facts in one SQLite file: the zero-setup
// default. It uses the pure-Go modernc.org/sqlite driver in WAL mode with
// synchronous=FULL, so a Commit that returned survives a crash or a power
// cut, and it keeps two pools: one connection that writes and several that
// read, so readers never wait for the writer nor hit "database is locked".
//
// The single writing process is also what dedupes event ids (in memory), so
// Open takes an exclusive lock on <path>.lock: a second process, or a second
// Open in the same process, fails with EUNAVAILABLE until the first closes.
// OpenReadOnly takes no lock.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// busyTimeout is how long a connection waits for a lock held by another
// connection (a checkpoint, a backup) before it gives up.
const busyTimeout = 10 * time.Second

// Store is a store.Store on a SQLite file. It is safe for concurrent use.
type Store struct {
	path     string
	write    *sql.DB // one connection; nil when read-only
	read     *sql.DB // several connections, query_only
	logs     logReaders
	lockFile *os.File

	// insertRows caches the multi-row insert statements of the writer by
	// row count; lastSeq is the writer's query of the last seq.
	mu         sync.Mutex
	insertRows map[int]*sql.Stmt
	lastSeq    *sql.Stmt // the last seq of the log; nil until prepared

	// commitMu is held through each Commit. seq is the last seq of the
	// log when seqKnown: Commit is the only writer of the log, so it
	// knows where the log ends after it and needs not read it again.
	// Until the first commit, and after one that failed, it is read.
	commitMu sync.Mutex
	seq      int64
	seqKnown bool
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Lender = (*Store)(nil)
)

// Open opens the SQLite database at path, creating it when missing, and
// brings its schema up to date. It holds an exclusive lock on <path>.lock
// until Close: while it is open, another Open of the same path, from this
// process or another, fails with EUNAVAILABLE.
func Open(ctx context.Context, path string) (*Store, error) {
	lf, err := lock(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, lockFile: lf, insertRows: map[int]*sql.Stmt{}}
	if err := s.open(ctx, false); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens an existing database for reading, without taking the
// lock, for tools that inspect or back up a database a server is writing.
// Its write methods fail with EINVALID. The schema must be current: open
// the database with Open once to migrate it.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, rung.Errorf(rung.ENOTFOUND, "database %s does not exist", path)
		}
		return nil, rung.Errorf(rung.EUNAVAILABLE, "database %s: %v", path, err)
	}
	s := &Store{path: path, insertRows: map[int]*sql.Stmt{}}
	if err := s.open(ctx, true); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// lock takes the exclusive lock of the database at path and writes this
// process's id into the lock file, for the message the next one sees.
func lock(path string) (*os.File, error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, rung.Errorf(rung.EUNAVAILABLE, "database %s: cannot open lock file: %v", path, err)
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, rung.Errorf(rung.EUNAVAILABLE, "database %s: cannot lock %s: %v", path, lockPath, err)
	}
	if !ok {
		pid := "unknown"
		if b, err := os.ReadFile(lockPath); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			pid = strings.TrimSpace(string(b))
		}
		f.Close()
		return nil, rung.Errorf(rung.EUNAVAILABLE,
			"database %s is in use by another rung process (pid %s); stop it, or use a copy of the database", path, pid)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// dsn builds the driver's connection string: a file: URI, so that any
// character in path is taken literally.
func dsn(path string, readOnly, writer bool) string {
	q := []string{
		"_pragma=busy_timeout(" + strconv.Itoa(int(busyTimeout/time.Millisecond)) + ")",
		"_pragma=foreign_keys(1)",
	}
	switch {
	case readOnly:
		q = append(q, "mode=ro")
	case writer:
		// WAL mode is set by open, after the page size.
		q = append(q, "_pragma=synchronous(FULL)", "_txlock=immediate")
	}
	// SQLite's default page cache is 2 MB: 125 of our 16 KiB pages, so a
	// write at a random place (the outbox's state per subject, the event
	// ids' index) read its pages back from the OS every time, and a large
	// transaction spilled to the WAL before it committed.
	if writer {
		q = append(q, "_pragma=cache_size(-65536)") // 64 MiB
	} else {
		q = append(q, "_pragma=cache_size(-16384)") // 16 MiB a reader
	}
	if !writer {
		q = append(q, "_pragma=query_only(1)")
	}
	return fileURI(path) + "?" + strings.Join(q, "&")
}

// fileURI is path as a file: URI, with the characters a URI gives a
// meaning escaped, so that any path is taken literally.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

func (s *Store) open(ctx context.Context, readOnly bool) error {
	var err error
	if !readOnly {
		if s.write, err = sql.Open("sqlite", dsn(s.path, false, true)); err != nil {
			return s.unavailable(err)
		}
		s.write.SetMaxOpenConns(1)
		s.write.SetMaxIdleConns(1)
		s.write.SetConnMaxLifetime(0)
		s.write.SetConnMaxIdleTime(0)
		// The page size counts only for a new database, before WAL mode
		// (which is kept in the file) writes its first page: 16 KiB pages
		// write a batch of the log in a quarter of the WAL frames, and
		// syscalls, of SQLite's 4 KiB.
		for _, pragma := range []string{`PRAGMA page_size = 16384`, `PRAGMA journal_mode = WAL`} {
			if _, err := s.write.ExecContext(ctx, pragma); err != nil {
				return s.unavailable(err)
			}
		}
		if err := s.migrate(ctx); err != nil {
			return err
		}
	}
	if s.read, err = sql.Open("sqlite", dsn(s.path, readOnly, false)); err != nil {
		return s.unavailable(err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	s.read.SetConnMaxIdleTime(5 * time.Minute)
	if readOnly {
		return s.checkSchema(ctx)
	}
	return nil
}

func (s *Store) unavailable(err error) error {
	return rung.Errorf(rung.EUNAVAILABLE, "cannot open database %s: %v", s.path, err)
}

// migrate applies the migrations the database has not seen, each in its
// own transaction.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return s.unavailable(err)
	}
	applied, err := s.appliedMigrations(ctx, s.write)
	if err != nil {
		return err
	}
	pending, err := store.Pending(ms, applied)
	if err != nil {
		return rung.Errorf(rung.EUNAVAILABLE, "database %s: %s", s.path, rung.ErrorMessage(err))
	}
	for _, m := range pending {
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return s.unavailable(err)
		}
		_, err = tx.ExecContext(ctx, m.SQL)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixNano())
		}
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

func (s *Store) migrations() ([]store.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return store.ReadMigrations(sub)
}

// appliedMigrations returns the versions of the migrations applied.
func (s *Store) appliedMigrations(ctx context.Context, db *sql.DB) ([]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, s.unavailable(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, s.unavailable(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable(err)
	}
	return vs, nil
}

// AppliedMigrations returns the migrations applied to the database.
func (s *Store) AppliedMigrations(ctx context.Context) ([]store.Migration, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: applied migrations: %w", err)
	}
	defer rows.Close()
	out := []store.Migration{}
	for rows.Next() {
		var m store.Migration
		if err := rows.Scan(&m.Version, &m.Name); err != nil {
			return nil, fmt.Errorf("sqlite: applied migrations: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// checkSchema makes sure a database opened read-only has the schema this
// binary knows.
func (s *Store) checkSchema(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	applied, err := s.appliedMigrations(ctx, s.read)
	if err != nil {
		return err
	}
	pending, err := store.Pending(ms, applied)
	if err == nil && len(pending) > 0 {
		err = fmt.Errorf("migration %s is not applied", pending[0].Name)
	}
	if err != nil {
		return rung.Errorf(rung.EUNAVAILABLE,
			"database %s: %s: open it read-write once with a matching rung", s.path, rung.ErrorMessage(err))
	}
	return nil
}

// Close closes both pools and releases the lock.
func (s *Store) Close() error {
	var errs []error
	s.mu.Lock()
	for n, st := range s.insertRows {
		errs = append(errs, st.Close())
		delete(s.insertRows, n)
	}
	if s.lastSeq != nil {
		errs = append(errs, s.lastSeq.Close())
		s.lastSeq = nil
	}
	s.mu.Unlock()
	s.logs.close()
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.lockFile != nil {
		errs = append(errs, unlock(s.lockFile), s.lockFile.Close())
		s.lockFile = nil
	}
	return errors.Join(errs...)
}

func (s *Store) writable() error {
	if s.write == nil {
		return rung.Errorf(rung.EINVALID, "database %s is open read-only", s.path)
	}
	return nil
}

// isConstraint reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}
