package postgres

// SetPageSize makes Records read n rows per query, to test paging.
func SetPageSize(s *Store, n int) { s.pageSize = n }

// WriterPID is the backend pid of the session holding the writer lock.
func WriterPID(s *Store) uint32 { return s.writer.Conn().PgConn().PID() }
