package postgres

// SetPageSize makes Records read n rows per query, to test paging.
func SetPageSize(s *Store, n int) { s.pageSize = n }
