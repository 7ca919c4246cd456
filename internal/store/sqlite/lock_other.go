//go:build !unix && !windows

package sqlite

import "os"

// tryLock cannot lock on this platform; the caller must make sure one
// process writes a database file at a time.
func tryLock(f *os.File) (bool, error) { return true, nil }

func unlock(f *os.File) error { return nil }
