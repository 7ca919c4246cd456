//go:build !linux

package h1

import (
	"errors"
	"time"
)

// Request is what a loop client sends next (see loop_linux.go).
type Request struct {
	Method, Path string
	Body         []byte
}

// Exchange is a scenario's side of a loop (see loop_linux.go).
type Exchange struct {
	Next func(client int, req *Request) bool
	Done func(client int, code int, body []byte, took time.Duration, err error)
}

// Loop needs epoll: on other systems use Conn.
func Loop(base, key string, clients int, ex Exchange) (time.Duration, error) {
	return 0, errors.New("the loop client needs Linux (epoll); use --http lean")
}
