//go:build !linux

package h1

import (
	"errors"
	"time"
)

// Loop needs epoll (see loop_linux.go): on other systems use Conn.
func Loop(base, key string, clients int, ex Exchange) (time.Duration, error) {
	return 0, errors.New("the loop client needs Linux (epoll); use --http lean")
}
