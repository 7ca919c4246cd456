package sqlite

import (
	"context"
	"fmt"
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
	path string
	tls  *libc.TLS
	db   uintptr // sqlite3*
	stmt uintptr // sqlite3_stmt* of logQuery
	// broken is set when a call of SQLite failed (or ctx ended while it
	// waited for a lock): the connection is then closed, not kept for the
	// next read.
	broken bool
}

const logQuery = `SELECT seq, id, version, body FROM events WHERE seq > ? ORDER BY seq`

// openLogReader opens a query-only connection to the database at path,
// read-only when readOnly (the file may be one the process cannot write).
// Reading the schema may wait for a lock (see wait).
func openLogReader(ctx context.Context, path string, readOnly bool) (_ *logReader, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &logReader{path: path, tls: libc.NewTLS()}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	cURI, err := libc.CString(fileURI(path))
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(r.tls, cURI)
	pdb := r.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer r.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	*(*uintptr)(cmem(pdb)) = 0
	flags := int32(sqlite3.SQLITE_OPEN_READWRITE | sqlite3.SQLITE_OPEN_NOMUTEX | sqlite3.SQLITE_OPEN_URI)
	if readOnly {
		flags = sqlite3.SQLITE_OPEN_READONLY | sqlite3.SQLITE_OPEN_NOMUTEX | sqlite3.SQLITE_OPEN_URI
	}
	rc := sqlite3.Xsqlite3_open_v2(r.tls, cURI, pdb, flags, 0)
	r.db = *(*uintptr)(cmem(pdb))
	if rc != sqlite3.SQLITE_OK {
		return nil, r.err(ctx, "open the database", rc)
	}
	for _, pragma := range []string{"PRAGMA query_only = 1", "PRAGMA cache_size = -1024"} {
		if err := r.exec(ctx, pragma); err != nil {
			return nil, err
		}
	}
	if r.stmt, err = r.prepare(ctx, logQuery); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *logReader) exec(ctx context.Context, sql string) error {
	c, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(r.tls, c)
	for waited := time.Duration(0); ; {
		rc := sqlite3.Xsqlite3_exec(r.tls, r.db, c, 0, 0, 0)
		if rc == sqlite3.SQLITE_OK {
			return nil
		}
		if !busy(rc) || !wait(ctx, &waited) {
			return r.err(ctx, "set up the connection ("+sql+")", rc)
		}
	}
}

func (r *logReader) prepare(ctx context.Context, sql string) (uintptr, error) {
	c, err := libc.CString(sql)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(r.tls, c)
	pp := r.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer r.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	for waited := time.Duration(0); ; {
		*(*uintptr)(cmem(pp)) = 0
		rc := sqlite3.Xsqlite3_prepare_v2(r.tls, r.db, c, -1, pp, 0)
		if rc == sqlite3.SQLITE_OK {
			return *(*uintptr)(cmem(pp)), nil
		}
		if !busy(rc) || !wait(ctx, &waited) {
			return 0, r.err(ctx, "prepare its query", rc)
		}
	}
}

// busy reports whether a result code says another connection holds a lock
// the call needed.
func busy(rc int32) bool { return rc&0xff == sqlite3.SQLITE_BUSY }

// wait sleeps before a call that found the database locked is made again,
// as the driver's busy handler does for the store's other connections: a
// little longer each time, up to busyTimeout in all. It returns false,
// at once, when that time is spent or ctx ends. (SQLite's own handler
// would sleep inside the call, deaf to ctx.)
func wait(ctx context.Context, waited *time.Duration) bool {
	if *waited >= busyTimeout || ctx.Err() != nil {
		return false
	}
	d := min(max(*waited/4, time.Millisecond), 50*time.Millisecond, busyTimeout-*waited)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		*waited += d
		return true
	}
}

// err is the error for a result code of SQLite: the context's error when
// it ended while the call waited for a lock, else SQLite's message, naming
// the database and what failed. Either way the connection is not kept.
func (r *logReader) err(ctx context.Context, what string, rc int32) error {
	r.broken = true
	if busy(rc) && ctx.Err() != nil {
		return ctx.Err()
	}
	msg := ""
	if r.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(r.tls, r.db))
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(r.tls, rc))
	}
	return fmt.Errorf("reading the log of %s: %s: %s (SQLite code %d)", r.path, what, msg, rc)
}

// read emits the rows of the log after a seq, in one statement, so in one
// read transaction. The body it emits is SQLite's memory, valid until the
// next row: store.RowFunc copies it. An error of emit is returned as it is.
func (r *logReader) read(ctx context.Context, after int64, emit store.RowFunc) error {
	defer sqlite3.Xsqlite3_reset(r.tls, r.stmt)
	if rc := sqlite3.Xsqlite3_bind_int64(r.tls, r.stmt, 1, after); rc != sqlite3.SQLITE_OK {
		return r.err(ctx, "bind its query", rc)
	}
	var waited time.Duration
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch rc := sqlite3.Xsqlite3_step(r.tls, r.stmt); {
		case rc == sqlite3.SQLITE_ROW:
		case rc == sqlite3.SQLITE_DONE:
			return nil
		case n == 0 && busy(rc) && wait(ctx, &waited):
			// The statement has begun no read transaction: it is
			// stepped again from the start.
			sqlite3.Xsqlite3_reset(r.tls, r.stmt)
			n--
			continue
		default:
			return r.err(ctx, "read a row", rc)
		}
		seq := sqlite3.Xsqlite3_column_int64(r.tls, r.stmt, 0)
		pid := sqlite3.Xsqlite3_column_text(r.tls, r.stmt, 1)
		nid := sqlite3.Xsqlite3_column_bytes(r.tls, r.stmt, 1)
		version := sqlite3.Xsqlite3_column_int64(r.tls, r.stmt, 2)
		pbody := sqlite3.Xsqlite3_column_blob(r.tls, r.stmt, 3)
		nbody := sqlite3.Xsqlite3_column_bytes(r.tls, r.stmt, 3)
		var id []byte
		if pid != 0 && nid > 0 {
			id = unsafe.Slice((*byte)(cmem(pid)), nid)
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
func (p *logReaders) get(ctx context.Context, path string, readOnly bool) (*logReader, error) {
	p.mu.Lock()
	r, closed := p.idle, p.closed
	p.idle = nil
	p.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("reading the log of %s: the store is closed", path)
	}
	if r != nil {
		return r, nil
	}
	return openLogReader(ctx, path, readOnly)
}

// put keeps r for the next get, or closes it when one is kept already, the
// store has closed or r is broken.
func (p *logReaders) put(r *logReader) {
	p.mu.Lock()
	if p.idle == nil && !p.closed && !r.broken {
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
