package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/codec"
)

// UnixNanos converts t for a nullable INTEGER (BIGINT) column holding unix
// nanoseconds: nil for the zero time, an int64 otherwise. Times outside the
// years 1678 to 2262, which an int64 of nanoseconds cannot hold, are an
// EINVALID error. Both stores keep every time this way, so nanoseconds
// survive (PostgreSQL's timestamptz keeps only microseconds) and times read
// back are in UTC.
func UnixNanos(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if !codec.InNanoRange(t) {
		return nil, rung.Errorf(rung.EINVALID, "time %s is out of range: Rung stores times from 1678 to 2262", t.Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// TimeFromNanos converts a column written with UnixNanos back: the zero time
// for NULL, a UTC time otherwise.
func TimeFromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// Migration is one numbered change to a store's schema, read from a file
// named like 0001_init.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ReadMigrations reads the *.sql files of fsys's root, ordered by number.
// Each store keeps its own folder, and the numbers of the folders are kept
// in step: migration N brings every store to the same schema version N.
// Numbers must start at 1 and leave no gap.
func ReadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must look like 0001_what.sql", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: strings.TrimSuffix(path.Base(name), ".sql"), SQL: string(b)})
	}
	// fs.Glob returns names sorted; zero-padded numbers sort numerically.
	// Numbers may leave gaps (a branch may add 0003 before 0002 lands), but
	// no number may be used twice.
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			return nil, fmt.Errorf("migration %s: number %d is used twice", ms[i].Name, ms[i].Version)
		}
	}
	return ms, nil
}

// Pending returns the migrations of ms whose version is not in applied, in
// order: a migration numbered below one already applied (0002 landing after
// 0003 ran) still runs. A version in applied that ms does not know means the
// database was migrated by a newer binary: EUNAVAILABLE.
func Pending(ms []Migration, applied []int) ([]Migration, error) {
	known := make(map[int]bool, len(ms))
	for _, m := range ms {
		known[m.Version] = true
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		if !known[v] {
			return nil, rung.Errorf(rung.EUNAVAILABLE, "the database has schema migration %d, which this rung binary does not know: upgrade rung", v)
		}
		done[v] = true
	}
	var out []Migration
	for _, m := range ms {
		if !done[m.Version] {
			out = append(out, m)
		}
	}
	return out, nil
}

// MarshalPartner encodes p for a JSON body column.
func MarshalPartner(p *rung.Partner) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, rung.Errorf(rung.EINVALID, "partner %q: %v", p.ID, err)
	}
	return b, nil
}

// UnmarshalPartner decodes a JSON body column into p, with times in UTC.
func UnmarshalPartner(b []byte, p *rung.Partner) error {
	if err := json.Unmarshal(b, p); err != nil {
		return fmt.Errorf("partner body: %w", err)
	}
	p.JoinedAt = p.JoinedAt.UTC()
	return nil
}

// MarshalMember encodes m for a JSON body column.
func MarshalMember(m *rung.Member) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, rung.Errorf(rung.EINVALID, "member %q: %v", m.ID, err)
	}
	return b, nil
}

// UnmarshalMember decodes a JSON body column into m, with times in UTC.
func UnmarshalMember(b []byte, m *rung.Member) error {
	if !decodeMember(b, m) {
		if err := json.Unmarshal(b, m); err != nil {
			return fmt.Errorf("member body: %w", err)
		}
	}
	m.JoinedAt = m.JoinedAt.UTC()
	for i := range m.Memberships {
		ms := &m.Memberships[i]
		ms.JoinedAt, ms.LeftAt = ms.JoinedAt.UTC(), ms.LeftAt.UTC()
	}
	return nil
}
