package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rung-dev/rung/internal/store"
)

// logReader reads the log through SQLite's C interface (as transpiled by
// modernc.org/sqlite) on a connection of its own, opened without SQLite's
// mutexes: one goroutine uses it at a time. Reading the whole log is what a
// start or `rung rebuild` spends a third of its time on, and through
// database/sql each row paid for the driver's mutex around every call,
// a copy of its body into a fresh slice, boxed values and database/sql's
// own locks; here a row costs SQLite's step and one copy of its body,
// which the caller makes (store.RowFunc).
type logReader struct {
	tls  *libc.TLS
	db   uintptr // sqlite3*
	stmt uintptr // sqlite3_stmt* of logQuery
}

const logQuery = `SELECT seq, id, version, body FROM events WHERE seq > ? ORDER BY seq`

// openLogReader opens a query-only connection to the database at path,
// read-only when readOnly (the file may be one the process cannot write).
func openLogReader(path string, readOnly bool) (_ *logReader, err error) {
	r := &logReader{tls: libc.NewTLS()}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	cURI, err := libc.CString(uri)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(r.tls, cURI)
	pdb := libc.Xmalloc(r.tls, 8)
	if pdb == 0 {
		return nil, errors.New("out of memory")
	}
	defer libc.Xfree(r.tls, pdb)
	*(*uintptr)(cmem(pdb)) = 0
	flags := int32(sqlite3.SQLITE_OPEN_READWRITE | sqlite3.SQLITE_OPEN_NOMUTEX | sqlite3.SQLITE_OPEN_URI)
	if readOnly {
		flags = sqlite3.SQLITE_OPEN_READONLY | sqlite3.SQLITE_OPEN_NOMUTEX | sqlite3.SQLITE_OPEN_URI
	}
	rc := sqlite3.Xsqlite3_open_v2(r.tls, cURI, pdb, flags, 0)
	r.db = *(*uintptr)(cmem(pdb))
	if rc != sqlite3.SQLITE_OK {
		return nil, r.err("open", rc)
	}
	sqlite3.Xsqlite3_busy_timeout(r.tls, r.db, int32(busyTimeout/time.Millisecond))
	for _, pragma := range []string{"PRAGMA query_only = 1", "PRAGMA cache_size = -1024"} {
		if err := r.exec(pragma); err != nil {
			return nil, err
		}
	}
	if r.stmt, err = r.prepare(logQuery); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *logReader) exec(sql string) error {
	c, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(r.tls, c)
	if rc := sqlite3.Xsqlite3_exec(r.tls, r.db, c, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return r.err(sql, rc)
	}
	return nil
}

func (r *logReader) prepare(sql string) (uintptr, error) {
	c, err := libc.CString(sql)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(r.tls, c)
	pp := libc.Xmalloc(r.tls, 8)
	if pp == 0 {
		return 0, errors.New("out of memory")
	}
	defer libc.Xfree(r.tls, pp)
	*(*uintptr)(cmem(pp)) = 0
	if rc := sqlite3.Xsqlite3_prepare_v2(r.tls, r.db, c, -1, pp, 0); rc != sqlite3.SQLITE_OK {
		return 0, r.err("prepare", rc)
	}
	return *(*uintptr)(cmem(pp)), nil
}

// err is SQLite's message for a result code, with what failed.
func (r *logReader) err(what string, rc int32) error {
	msg := ""
	if r.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(r.tls, r.db))
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(r.tls, rc))
	}
	return fmt.Errorf("%s: %s (%d)", what, msg, rc)
}

// read emits the rows of the log after a seq, in one statement, so in one
// read transaction. The body it emits is SQLite's memory, valid until the
// next row: store.RowFunc copies it.
func (r *logReader) read(ctx context.Context, after int64, emit store.RowFunc) error {
	defer sqlite3.Xsqlite3_reset(r.tls, r.stmt)
	if rc := sqlite3.Xsqlite3_bind_int64(r.tls, r.stmt, 1, after); rc != sqlite3.SQLITE_OK {
		return r.err("bind", rc)
	}
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch rc := sqlite3.Xsqlite3_step(r.tls, r.stmt); rc {
		case sqlite3.SQLITE_ROW:
		case sqlite3.SQLITE_DONE:
			return nil
		default:
			return r.err("read the log", rc)
		}
		seq := sqlite3.Xsqlite3_column_int64(r.tls, r.stmt, 0)
		pid := sqlite3.Xsqlite3_column_text(r.tls, r.stmt, 1)
		nid := sqlite3.Xsqlite3_column_bytes(r.tls, r.stmt, 1)
		version := sqlite3.Xsqlite3_column_int64(r.tls, r.stmt, 2)
		pbody := sqlite3.Xsqlite3_column_blob(r.tls, r.stmt, 3)
		nbody := sqlite3.Xsqlite3_column_bytes(r.tls, r.stmt, 3)
		var id string
		if pid != 0 && nid > 0 {
			id = string(unsafe.Slice((*byte)(cmem(pid)), nid))
		}
		var body []byte
		if pbody != 0 && nbody > 0 {
			body = unsafe.Slice((*byte)(cmem(pbody)), nbody)
		}
		if err := emit(seq, id, int(version), body); err != nil {
			return err
		}
	}
}

// cmem is the memory at an address SQLite returned: memory of its own
// allocator, outside the Go heap, so the collector neither moves nor frees
// it. (Converting through a pointer to the address, rather than
// unsafe.Pointer(p), is what go vet accepts for such an address.)
func cmem(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

func (r *logReader) close() {
	if r.stmt != 0 {
		sqlite3.Xsqlite3_finalize(r.tls, r.stmt)
		r.stmt = 0
	}
	if r.db != 0 {
		sqlite3.Xsqlite3_close_v2(r.tls, r.db)
		r.db = 0
	}
	if r.tls != nil {
		r.tls.Close()
		r.tls = nil
	}
}

// logReaders keeps one idle logReader for the next read of the log.
type logReaders struct {
	mu     sync.Mutex
	idle   *logReader
	closed bool
}

// get returns the idle reader, or a new one; it fails once the store has
// closed.
func (p *logReaders) get(path string, readOnly bool) (*logReader, error) {
	p.mu.Lock()
	r, closed := p.idle, p.closed
	p.idle = nil
	p.mu.Unlock()
	if closed {
		return nil, errors.New("the store is closed")
	}
	if r != nil {
		return r, nil
	}
	return openLogReader(path, readOnly)
}

// put keeps r for the next get, or closes it when one is kept already or
// the store has closed.
func (p *logReaders) put(r *logReader) {
	p.mu.Lock()
	if p.idle == nil && !p.closed {
		p.idle, r = r, nil
	}
	p.mu.Unlock()
	if r != nil {
		r.close()
	}
}

// close closes the idle reader; one in use closes when it is put back.
func (p *logReaders) close() {
	p.mu.Lock()
	r := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	if r != nil {
		r.close()
	}
}
