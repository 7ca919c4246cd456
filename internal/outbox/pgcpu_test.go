package outbox_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// postgresCPU returns the CPU time all PostgreSQL processes on this
// machine have used, read from /proc (0 where there is none): what a
// benchmark's statements cost the server, as long as nothing else uses
// it meanwhile.
func postgresCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != "postgres" {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(fields[11], 10, 64)
		k, _ := strconv.ParseInt(fields[12], 10, 64)
		ticks += u + k
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}
