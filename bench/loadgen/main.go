// Command loadgen drives a running Rung server over HTTP with one scenario
// per invocation and reports throughput and latency:
//
//	loadgen --url http://127.0.0.1:8080 --key KEY setup        partners and members (concurrent PUTs)
//	loadgen --url ... --key KEY batch                            POSTs of 5,000 events from 4 clients
//	loadgen --url ... --key KEY single                           one event per POST from 64 clients
//	loadgen --url ... --key KEY leaderboard                      top-100 and rank-of-one reads
//	loadgen --url ... --key KEY ceiling                          GET /healthz: what HTTP alone allows here
//
// Every run is bounded by --duration and --count and stops by itself; it
// only targets loopback addresses. Each simulated client has a keep-alive
// connection of its own. With --http loop (the default) every client's
// connection is driven from one OS thread with epoll (h1.Loop, as wrk
// does); with --http lean each client is a goroutine with the HTTP/1.1
// client of bench/internal/h1 (about a third more CPU per request), with
// --http net one with net/http's client (about twice lean's). Setup always
// uses lean. It prints one JSON line on stdout (the
// figure a script takes the median of is "rate") and one sentence on
// stderr. The exit status is 1 when any item failed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rung-dev/rung/bench/internal/h1"
	"github.com/rung-dev/rung/bench/internal/workload"
)

const usage = `usage: loadgen [flags] setup|batch|single|leaderboard

Scenarios:
  setup        PUT --partners partners and --members members (default 1,000 / 100,000)
  batch        POST batches of --batch events (default 5,000) from --clients clients (default 4)
  single       POST one event per request from --clients clients (default 64)
  leaderboard  GET the top 100 and rank-of-one (around=) from --clients clients (default 8)
  ceiling      GET /healthz from --clients clients (default 8): the most requests/s HTTP
               allows on this machine with this client, for reading the others

Flags:
`

// config is what the flags say.
type config struct {
	url      string
	key      string
	scenario string
	clients  int
	duration time.Duration
	count    int64
	batch    int
	partners int
	members  int
	board    string
	reads    string
	run      string
	wait     time.Duration
	maxTime  time.Duration
	http     string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startProfile(os.Getenv("LOADGEN_CPUPROFILE"))
	rep, err := run(ctx, os.Args[1:])
	stopProfile()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	rep.Print(os.Stdout, os.Stderr)
	if rep.Failed > 0 {
		os.Exit(1)
	}
}

// startProfile writes the load generator's CPU profile to file, when it is
// set, until the function it returns is called: where the client's share of
// the machine goes.
func startProfile(file string) (stop func()) {
	if file == "" {
		return func() {}
	}
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: LOADGEN_CPUPROFILE:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: LOADGEN_CPUPROFILE:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

func run(ctx context.Context, args []string) (*workload.Report, error) {
	cfg, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.maxTime)
	defer cancel()
	c := newClient(cfg)
	if err := c.waitReady(ctx, cfg.wait); err != nil {
		return nil, err
	}
	var rep *workload.Report
	switch cfg.scenario {
	case "setup":
		rep, err = c.setup(ctx)
	case "batch":
		rep, err = c.ingest(ctx, cfg.batch)
	case "single":
		rep, err = c.ingest(ctx, 0)
	case "leaderboard":
		rep, err = c.leaderboard(ctx)
	case "ceiling":
		rep, err = c.ceiling(ctx)
	default:
		return nil, fmt.Errorf("unknown scenario %q: use setup, batch, single, leaderboard or ceiling", cfg.scenario)
	}
	if rep != nil {
		rep.HTTP = cfg.http
	}
	return rep, err
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.url, "url", envOr("RUNG_URL", "http://127.0.0.1:8080"), "the server's base URL, loopback only (RUNG_URL)")
	fs.StringVar(&cfg.key, "key", os.Getenv("RUNG_KEY"), "API key with scope admin, or ingest for writes and read for reads (RUNG_KEY)")
	fs.StringVar(&cfg.scenario, "scenario", "", "setup, batch, single, leaderboard or ceiling (or give it as the argument)")
	fs.IntVar(&cfg.clients, "clients", 0, "concurrent clients (default: setup 32, batch 4, single 64, leaderboard and ceiling 8)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long batch, single and leaderboard run")
	fs.Int64Var(&cfg.count, "count", 0, "stop after this many events (batch, single) or requests (leaderboard, ceiling); 0: run for --duration")
	fs.IntVar(&cfg.batch, "batch", 5000, "events per request in the batch scenario (at most 5,000)")
	fs.IntVar(&cfg.partners, "partners", 1000, "synthetic partners (setup creates them; events use them)")
	fs.IntVar(&cfg.members, "members", 100000, "synthetic members (setup creates them; events use them)")
	fs.StringVar(&cfg.board, "board", "quarter-points", "leaderboard to read")
	fs.StringVar(&cfg.reads, "reads", "mix", "leaderboard reads: top (top 100), around (rank of one member) or mix (alternate)")
	fs.StringVar(&cfg.run, "run", "", "run id that makes event ids unique (default: from the clock)")
	fs.DurationVar(&cfg.wait, "wait", 30*time.Second, "how long to wait for the server to answer /healthz")
	fs.DurationVar(&cfg.maxTime, "max-time", 10*time.Minute, "hard limit on the whole invocation")
	fs.StringVar(&cfg.http, "http", "loop", "HTTP client: loop (every client's keep-alive connection driven from one thread with epoll, as wrk does; single, leaderboard and ceiling), lean (a goroutine and a keep-alive connection per client, requests written and answers parsed by hand) or net (net/http's client)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 1 || (fs.NArg() == 1 && cfg.scenario != "") {
		return cfg, errors.New("give one scenario")
	}
	if fs.NArg() == 1 {
		cfg.scenario = fs.Arg(0)
	}
	if cfg.scenario == "" {
		fs.Usage()
		return cfg, errors.New("no scenario given")
	}
	if cfg.key == "" {
		return cfg, errors.New("no API key: pass --key or set RUNG_KEY (rung apikey create --scope admin)")
	}
	if err := workload.CheckLoopbackURL(cfg.url); err != nil {
		return cfg, err
	}
	if cfg.clients <= 0 {
		cfg.clients = map[string]int{"setup": 32, "batch": 4, "single": 64, "leaderboard": 8, "ceiling": 8}[cfg.scenario]
	}
	if cfg.batch < 1 || cfg.batch > 5000 {
		return cfg, fmt.Errorf("--batch %d: give 1 to 5,000", cfg.batch)
	}
	if cfg.partners < 1 || cfg.members < 1 {
		return cfg, errors.New("--partners and --members must be at least 1")
	}
	if cfg.duration <= 0 || cfg.maxTime <= 0 {
		return cfg, errors.New("--duration and --max-time must be positive")
	}
	if cfg.http != "loop" && cfg.http != "lean" && cfg.http != "net" {
		return cfg, fmt.Errorf("--http %q: use loop, lean or net", cfg.http)
	}
	if cfg.reads != "mix" && cfg.reads != "top" && cfg.reads != "around" {
		return cfg, fmt.Errorf("--reads %q: use top, around or mix", cfg.reads)
	}
	if cfg.run == "" {
		cfg.run = workload.RunID()
	}
	return cfg, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// client is the HTTP side. Each simulated client has a keep-alive
// connection of its own (a conn); --http says which client code drives it.
type client struct {
	cfg  config
	base string
	std  *http.Client // --http net
}

// conn is one simulated client's connection: Do sends a request (a body,
// when not nil, as JSON) and reads the whole answer into buf.
type conn interface {
	Do(method, path string, body []byte, buf *bytes.Buffer) (int, error)
	Close() error
}

func newClient(cfg config) *client {
	c := &client{cfg: cfg, base: cfg.url}
	if cfg.http == "net" {
		tr := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        cfg.clients + 16,
			MaxIdleConnsPerHost: max(64, cfg.clients+16),
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		}
		c.std = &http.Client{Transport: tr, Timeout: h1.Timeout}
	}
	return c
}

// conn returns a new connection for one simulated client; the caller
// closes it.
func (c *client) conn(ctx context.Context) conn {
	if c.std != nil {
		return &stdConn{ctx: ctx, c: c}
	}
	hc, err := h1.New(c.base, c.cfg.key)
	if err != nil {
		panic(err) // the URL was checked when the flags were read
	}
	return hc
}

// stdConn is a conn through net/http's client (--http net), the load
// generator's client before the lean one: kept to compare the two.
type stdConn struct {
	ctx context.Context
	c   *client
}

func (s *stdConn) Close() error { return nil }

func (s *stdConn) Do(method, path string, body []byte, buf *bytes.Buffer) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(s.ctx, method, s.c.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.c.cfg.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.c.std.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// drive runs a scenario's exchange on --clients clients: with --http loop
// all on one epoll loop (h1.Loop), otherwise a goroutine a client, each
// with a connection of its own. It returns the wall time of the run.
func (c *client) drive(ctx context.Context, ex h1.Exchange) (time.Duration, error) {
	if c.cfg.http == "loop" {
		return h1.Loop(c.base, c.cfg.key, c.cfg.clients, ex)
	}
	return workload.Drive(c.cfg.clients, func(cl int) {
		hc := c.conn(ctx)
		defer hc.Close()
		var req h1.Request
		var buf bytes.Buffer
		for ex.Next(cl, &req) {
			t := time.Now()
			code, err := hc.Do(req.Method, req.Path, req.Body, &buf)
			ex.Done(cl, code, buf.Bytes(), time.Since(t), err)
		}
	}), nil
}

// waitReady polls /healthz until the server answers or d has passed.
func (c *client) waitReady(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	var buf bytes.Buffer
	for {
		hc := c.conn(ctx)
		code, err := hc.Do(http.MethodGet, "/healthz", nil, &buf)
		hc.Close()
		if err == nil && code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err == nil {
				err = fmt.Errorf("status %d", code)
			}
			return fmt.Errorf("the server at %s is not answering /healthz: %v", c.base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setup creates the partners, then the members, with concurrent PUTs.
func (c *client) setup(ctx context.Context) (*workload.Report, error) {
	cfg := c.cfg
	var done, failed, requests atomic.Int64
	var fails workload.Failures
	lats := make([]workload.Latencies, cfg.clients)
	phase := func(n int, put func(i int) (string, []byte)) {
		var next atomic.Int64
		workload.Drive(cfg.clients, func(cl int) {
			var buf bytes.Buffer
			hc := c.conn(ctx)
			defer hc.Close()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				path, body := put(i)
				t := time.Now()
				code, err := hc.Do(http.MethodPut, path, body, &buf)
				lats[cl].Add(time.Since(t))
				requests.Add(1)
				switch {
				case err != nil:
					failed.Add(1)
					fails.Add(fmt.Sprintf("PUT %s: %v", path, err))
				case code != http.StatusOK && code != http.StatusCreated:
					failed.Add(1)
					fails.Add(fmt.Sprintf("PUT %s: status %d: %s", path, code, buf.String()))
				default:
					done.Add(1)
				}
			}
		})
	}
	start := time.Now()
	phase(cfg.partners, func(i int) (string, []byte) {
		body, _ := json.Marshal(map[string]string{
			"name":   fmt.Sprintf("Bench Partner %d", i),
			"size":   workload.Sizes[i%len(workload.Sizes)],
			"region": workload.Regions[(i/3)%len(workload.Regions)],
			"type":   workload.Types[(i/9)%len(workload.Types)],
		})
		return "/api/v1/partners/" + workload.PartnerID(i), body
	})
	if failed.Load() == 0 {
		phase(cfg.members, func(i int) (string, []byte) {
			body, _ := json.Marshal(map[string]string{
				"partner": workload.PartnerID(workload.PartnerOf(i, cfg.partners)),
				"name":    fmt.Sprintf("Bench Member %d", i),
			})
			return "/api/v1/members/" + workload.MemberID(i), body
		})
	}
	took := time.Since(start)
	if ctx.Err() != nil {
		fails.Add("stopped before the end: " + ctx.Err().Error())
		failed.Add(int64(cfg.partners+cfg.members) - done.Load() - failed.Load())
	}
	rep := &workload.Report{
		Tool: "rung", Scenario: "setup", Clients: cfg.clients, Seconds: took.Seconds(),
		Requests: requests.Load(), Items: done.Load(), Failed: failed.Load(),
		Rate: float64(done.Load()) / took.Seconds(), Unit: "PUTs/s", Errors: fails.List(),
	}
	rep.SetLatency(workload.Merge(lats).Summarize())
	return rep, nil
}

var accepted = []byte(`"status":"accepted"`)

// ingest posts events: batches of size events wrapped in {"events": [...]},
// or, when size is 0, one bare event per request. Every result must be
// accepted; event ids are unique to the run.
func (c *client) ingest(ctx context.Context, size int) (*workload.Report, error) {
	cfg := c.cfg
	scenario, per := "batch", size
	if size == 0 {
		scenario, per = "single", 1
	}
	from, to := workload.QuarterWindow(time.Now())
	budget := workload.NewBudget(cfg.count, cfg.duration)
	var events, failed, requests atomic.Int64
	var fails workload.Failures
	lats := make([]workload.Latencies, cfg.clients)
	gens := make([]*workload.Generator, cfg.clients)
	sent := make([]int, cfg.clients) // events in each client's request out
	took, err := c.drive(ctx, h1.Exchange{
		Next: func(cl int, req *h1.Request) bool {
			if ctx.Err() != nil {
				return false
			}
			n := budget.Take(per)
			if n == 0 {
				return false
			}
			if gens[cl] == nil {
				gens[cl] = workload.NewGenerator(cfg.run, cl, cfg.partners, cfg.members, from, to)
			}
			body := req.Body[:0]
			if size > 0 {
				body = append(body, `{"events":[`...)
			}
			for i := range n {
				if i > 0 {
					body = append(body, ',')
				}
				body, _ = gens[cl].Append(body)
			}
			if size > 0 {
				body = append(body, "]}"...)
			}
			req.Method, req.Path, req.Body = http.MethodPost, "/api/v1/events", body
			sent[cl] = n
			return true
		},
		Done: func(cl, code int, body []byte, took time.Duration, err error) {
			n := sent[cl]
			lats[cl].Add(took)
			requests.Add(1)
			switch {
			case err != nil:
				failed.Add(int64(n))
				fails.Add(fmt.Sprintf("POST /api/v1/events: %v", err))
				return
			case code != http.StatusOK:
				failed.Add(int64(n))
				fails.Add(fmt.Sprintf("POST /api/v1/events: status %d: %s", code, body))
				return
			}
			ok := bytes.Count(body, accepted)
			if ok != n {
				ok = countAccepted(body, n, &fails)
			}
			events.Add(int64(ok))
			failed.Add(int64(n - ok))
		},
	})
	if err != nil {
		return nil, err
	}
	rep := &workload.Report{
		Tool: "rung", Scenario: scenario, Clients: cfg.clients, Seconds: took.Seconds(),
		Requests: requests.Load(), Items: events.Load(), Failed: failed.Load(),
		Rate: float64(events.Load()) / took.Seconds(), Unit: "events/s", Errors: fails.List(),
	}
	rep.SetLatency(workload.Merge(lats).Summarize())
	return rep, nil
}

// countAccepted decodes an ingest answer properly (the fast count did not
// match) and notes the results that were not accepted.
func countAccepted(body []byte, want int, fails *workload.Failures) int {
	var out struct {
		Results []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		fails.Add(fmt.Sprintf("unreadable answer: %v", err))
		return 0
	}
	if len(out.Results) != want {
		fails.Add(fmt.Sprintf("%d results for %d events", len(out.Results), want))
	}
	ok := 0
	for _, r := range out.Results {
		if r.Status == "accepted" {
			ok++
			continue
		}
		fails.Add(fmt.Sprintf("event %s: %s %s", r.ID, r.Status, r.Error))
	}
	return ok
}

// leaderboard reads the board: the top 100 and one member's rank
// (around=MEMBER&limit=1), alternating per client under --reads mix. The
// members asked about are sampled from the board first, so every read
// finds its subject.
func (c *client) leaderboard(ctx context.Context) (*workload.Report, error) {
	cfg := c.cfg
	path := "/api/v1/leaderboards/" + url.PathEscape(cfg.board)
	subjects, total, err := c.sampleBoard(ctx, path)
	if err != nil {
		return nil, err
	}
	budget := workload.NewBudget(cfg.count, cfg.duration)
	var reads, failed atomic.Int64
	var fails workload.Failures
	top := make([]workload.Latencies, cfg.clients)
	around := make([]workload.Latencies, cfg.clients)
	gens := make([]*workload.Generator, cfg.clients)
	sent := make([]int, cfg.clients)
	isTop := make([]bool, cfg.clients)
	asked := make([]string, cfg.clients)
	took, err := c.drive(ctx, h1.Exchange{
		Next: func(cl int, req *h1.Request) bool {
			if ctx.Err() != nil || budget.Take(1) == 0 {
				return false
			}
			if gens[cl] == nil {
				gens[cl] = workload.NewGenerator(cfg.run, cl, 1, 1, time.Now(), time.Now())
			}
			i := sent[cl]
			sent[cl]++
			req.Method, req.Path, req.Body = http.MethodGet, path+"?limit=100", nil
			isTop[cl] = true
			if cfg.reads == "around" || (cfg.reads == "mix" && (i+cl)%2 == 1) {
				req.Path, isTop[cl] = path+"?limit=1&around="+url.QueryEscape(subjects[gens[cl].Intn(len(subjects))]), false
			}
			asked[cl] = req.Path
			return true
		},
		Done: func(cl, code int, body []byte, took time.Duration, err error) {
			if isTop[cl] {
				top[cl].Add(took)
			} else {
				around[cl].Add(took)
			}
			switch {
			case err != nil:
				failed.Add(1)
				fails.Add(fmt.Sprintf("GET %s: %v", asked[cl], err))
			case code != http.StatusOK || !bytes.Contains(body, []byte(`"rank":`)):
				failed.Add(1)
				fails.Add(fmt.Sprintf("GET %s: status %d: %s", asked[cl], code, body))
			default:
				reads.Add(1)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	tops, arounds := workload.Merge(top), workload.Merge(around)
	requests := int64(len(tops) + len(arounds))
	rep := &workload.Report{
		Tool: "rung", Scenario: "leaderboard", Clients: cfg.clients, Seconds: took.Seconds(),
		Requests: requests, Items: reads.Load(), Failed: failed.Load(),
		Rate: float64(reads.Load()) / took.Seconds(), Unit: "requests/s", Errors: fails.List(),
		Extra: map[string]float64{"board_total": float64(total), "sampled_subjects": float64(len(subjects))},
	}
	ts, as := tops.Summarize(), arounds.Summarize()
	rep.SetLatency(workload.Merge([]workload.Latencies{tops, arounds}).Summarize())
	rep.Extra["top100_requests"] = float64(len(tops))
	rep.Extra["top100_p50_ms"], rep.Extra["top100_p99_ms"] = ts.P50, ts.P99
	rep.Extra["around_requests"] = float64(len(arounds))
	rep.Extra["around_p50_ms"], rep.Extra["around_p99_ms"] = as.P50, as.P99
	return rep, nil
}

// sampleBoard returns up to 10,000 subjects spread over the whole board,
// and how many the board has.
func (c *client) sampleBoard(ctx context.Context, path string) ([]string, int, error) {
	type page struct {
		Total   int `json:"total"`
		Entries []struct {
			Subject string `json:"subject"`
		} `json:"entries"`
	}
	hc := c.conn(ctx)
	defer hc.Close()
	get := func(offset, limit int) (page, error) {
		var buf bytes.Buffer
		var p page
		q := path + "?limit=" + strconv.Itoa(limit) + "&offset=" + strconv.Itoa(offset)
		code, err := hc.Do(http.MethodGet, q, nil, &buf)
		if err != nil {
			return p, err
		}
		if code != http.StatusOK {
			return p, fmt.Errorf("GET %s: status %d: %s", q, code, buf.String())
		}
		return p, json.Unmarshal(buf.Bytes(), &p)
	}
	first, err := get(0, 1)
	if err != nil {
		return nil, 0, err
	}
	if first.Total == 0 {
		return nil, 0, fmt.Errorf("leaderboard %s is empty: run the batch scenario first", c.cfg.board)
	}
	var subjects []string
	for i := range 10 {
		p, err := get(i*first.Total/10, 1000)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range p.Entries {
			subjects = append(subjects, e.Subject)
		}
	}
	return subjects, first.Total, nil
}

// ceiling reads /healthz, which does no work: the requests/s this machine
// and this client allow over HTTP at all, to read the other figures
// against.
func (c *client) ceiling(ctx context.Context) (*workload.Report, error) {
	cfg := c.cfg
	budget := workload.NewBudget(cfg.count, cfg.duration)
	var ok, failed atomic.Int64
	var fails workload.Failures
	lats := make([]workload.Latencies, cfg.clients)
	took, err := c.drive(ctx, h1.Exchange{
		Next: func(cl int, req *h1.Request) bool {
			req.Method, req.Path, req.Body = http.MethodGet, "/healthz", nil
			return ctx.Err() == nil && budget.Take(1) > 0
		},
		Done: func(cl, code int, body []byte, took time.Duration, err error) {
			lats[cl].Add(took)
			if err != nil || code != http.StatusOK {
				failed.Add(1)
				fails.Add(fmt.Sprintf("GET /healthz: status %d, %v", code, err))
				return
			}
			ok.Add(1)
		},
	})
	if err != nil {
		return nil, err
	}
	all := workload.Merge(lats)
	rep := &workload.Report{
		Tool: "rung", Scenario: "ceiling", Clients: cfg.clients, Seconds: took.Seconds(),
		Requests: int64(len(all)), Items: ok.Load(), Failed: failed.Load(),
		Rate: float64(ok.Load()) / took.Seconds(), Unit: "requests/s", Errors: fails.List(),
	}
	rep.SetLatency(all.Summarize())
	return rep, nil
}
