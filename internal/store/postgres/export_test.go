package postgres

// SetPageSize makes Records read n rows per query, to test paging.
func SetPageSize(s *Store, n int) { s.pageSize = n }

// LeasePID is the backend pid of the session that holds a lease.
func LeasePID(l any) uint32 { return l.(*lease).conn.PgConn().PID() }
