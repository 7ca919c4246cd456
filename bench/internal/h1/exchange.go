package h1

import "time"

// Request is what a loop client sends next. The loop keeps one per
// client and hands the same one back each time, so Body's memory can be
// reused.
type Request struct {
	Method, Path string
	Body         []byte // sent as application/json when not nil
}

// Exchange is a scenario's side of a loop: Next fills a client's next
// request (false: this client is done), Done takes its answer (body is
// valid only during the call). On a Loop both run on its thread, one call
// at a time; driven a goroutine a client (the load generator's --http lean
// and net), calls for different clients may run at once, so state shared
// between clients needs atomics or a lock.
type Exchange struct {
	Next func(client int, req *Request) bool
	Done func(client int, code int, body []byte, took time.Duration, err error)
}
