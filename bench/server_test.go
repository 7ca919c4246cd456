// Package bench holds benchmarks of the whole Rung server in one process:
// a SQLite store in a temporary directory, the service and the JSON API
// behind the request middleware of `rung serve` (request ids, latency
// metrics, a log line per request, to a file) and a real HTTP listener on
// loopback, driven by the load generator's lean HTTP/1.1 client
// (bench/internal/h1) in the same process. They exist to profile the server
// end to end:
//
//	go test ./bench -run '^$' -bench ServerIngestBatch -benchtime 40x -cpuprofile cpu.out
//	go tool pprof -top -nodecount 40 cpu.out
//
// -cpuprofile also covers building the shared server (100,000 members); set
// RUNG_BENCH_PROFILE=DIR instead to get DIR/<benchmark>.cpu covering only
// the timed loop of each benchmark's last round. The client side (building
// bodies, reading answers) is in either profile; bench/loadgen against
// `rung serve` gives the figures to report.
// The synthetic program is sized by RUNG_BENCH_PARTNERS and
// RUNG_BENCH_MEMBERS (default 1,000 and 100,000). The API's reads go
// through a lane (internal/lane) in front of net/http, as with `rung
// serve`; RUNG_BENCH_LANE=off leaves every request to net/http.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/bench/internal/h1"
	"github.com/rung-dev/rung/bench/internal/workload"
	"github.com/rung-dev/rung/internal/api"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/lane"
	"github.com/rung-dev/rung/internal/opsmetrics"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// server is the one in-process server all benchmarks share; building it
// (100,000 members) takes longer than any one benchmark.
type server struct {
	url      string
	key      string
	partners int
	members  int
	run      string
	streams  atomic.Int64 // generator streams handed out, so event ids never repeat
	seedOnce sync.Once
	seedErr  error
}

var (
	shared    *server
	sharedErr error
	sharedDir string
	closeAll  func()
	startOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if closeAll != nil {
		closeAll()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// start returns the shared server, building it on first use: the demo
// program, an admin key, the partners and the members.
func start(b *testing.B) *server {
	startOnce.Do(func() { shared, sharedErr = build() })
	if sharedErr != nil {
		b.Fatal(sharedErr)
	}
	return shared
}

func build() (*server, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "rung-bench-")
	if err != nil {
		return nil, err
	}
	sharedDir = dir
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return nil, err
	}
	// The server logs as `rung serve` does: a line per request, to a file.
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	log := slog.New(opsmetrics.WithRequestID(opsmetrics.NewTextHandler(logf)))
	svc, err := service.Open(ctx, st, service.Options{Logger: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: opsmetrics.Middleware(api.New(svc, log), log)}
	var ls *lane.Server
	if os.Getenv("RUNG_BENCH_LANE") != "off" {
		var rest net.Listener
		ls, rest = lane.New(ln, hs, api.Simple) // as `rung serve` does
		go hs.Serve(api.Listen(hs, rest))
		go ls.Serve()
	} else {
		go hs.Serve(api.Listen(hs, ln))
	}
	ts := struct{ URL string }{"http://" + ln.Addr().String()}
	closeAll = func() {
		if ls != nil {
			ls.Close()
		}
		hs.Close()
		svc.Close()
		st.Close()
		logf.Close()
	}
	if _, err := svc.ApplyProgram(ctx, demo.Program, time.Time{}, "bench"); err != nil {
		return nil, fmt.Errorf("apply the demo program: %w", err)
	}
	_, secret, err := svc.CreateAPIKey(ctx, "bench", rung.ScopeAdmin, "bench")
	if err != nil {
		return nil, err
	}
	s := &server{
		url: ts.URL, key: secret, run: workload.RunID(),
		partners: envInt("RUNG_BENCH_PARTNERS", 1000),
		members:  envInt("RUNG_BENCH_MEMBERS", 100000),
	}
	joined := time.Now().AddDate(-1, 0, 0)
	if err := parallel(64, s.partners, func(i int) error {
		_, err := svc.PutPartner(ctx, rung.Partner{
			ID: workload.PartnerID(i), Name: "Bench Partner " + strconv.Itoa(i), JoinedAt: joined,
			Size: workload.Sizes[i%3], Region: workload.Regions[(i/3)%3], Type: workload.Types[(i/9)%3],
		})
		return err
	}); err != nil {
		return nil, fmt.Errorf("create partners: %w", err)
	}
	if err := parallel(64, s.members, func(i int) error {
		_, err := svc.PutMember(ctx, rung.Member{
			ID: workload.MemberID(i), Partner: workload.PartnerID(workload.PartnerOf(i, s.partners)),
			Name: "Bench Member " + strconv.Itoa(i), JoinedAt: joined,
		})
		return err
	}); err != nil {
		return nil, fmt.Errorf("create members: %w", err)
	}
	return s, nil
}

// parallel calls fn for 0..n-1 from workers goroutines and returns the
// first error.
func parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var mu sync.Mutex
	workload.Drive(workers, func(int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				return
			}
		}
	})
	return first
}

// generator returns a generator with a stream no other has used.
func (s *server) generator() *workload.Generator {
	from, to := workload.QuarterWindow(time.Now())
	return workload.NewGenerator(s.run, int(s.streams.Add(1)), s.partners, s.members, from, to)
}

// conn returns a new client connection to the server (bench/loadgen's
// lean HTTP/1.1 client); the caller closes it.
func (s *server) conn(b *testing.B) *h1.Conn {
	c, err := h1.New(s.url, s.key)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// post sends one ingest body and checks that all n events were accepted.
func (s *server) post(c *h1.Conn, body []byte, n int, buf *bytes.Buffer) error {
	if err := s.send(c, http.MethodPost, "/api/v1/events", body, buf); err != nil {
		return err
	}
	if got := bytes.Count(buf.Bytes(), []byte(`"status":"accepted"`)); got != n {
		return fmt.Errorf("%d of %d events accepted: %.300s", got, n, buf.String())
	}
	return nil
}

// get reads path and checks it answered 200.
func (s *server) get(c *h1.Conn, path string, buf *bytes.Buffer) error {
	return s.send(c, http.MethodGet, path, nil, buf)
}

func (s *server) send(c *h1.Conn, method, path string, body []byte, buf *bytes.Buffer) error {
	code, err := c.Do(method, path, body, buf)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %.300s", method, path, code, buf.String())
	}
	return nil
}

// batchBody builds {"events": [...]} with n events.
func batchBody(g *workload.Generator, n int, body []byte) []byte {
	body = append(body[:0], `{"events":[`...)
	for i := range n {
		if i > 0 {
			body = append(body, ',')
		}
		body, _ = g.Append(body)
	}
	return append(body, "]}"...)
}

// seed puts enough events in that most members are on the quarter's
// boards, once, for the read benchmarks.
func (s *server) seed(b *testing.B) {
	s.seedOnce.Do(func() {
		g := s.generator()
		var body []byte
		var buf bytes.Buffer
		c := s.conn(b)
		defer c.Close()
		for range (2*s.members + 4999) / 5000 {
			body = batchBody(g, 5000, body)
			if s.seedErr = s.post(c, body, 5000, &buf); s.seedErr != nil {
				return
			}
		}
	})
	if s.seedErr != nil {
		b.Fatal(s.seedErr)
	}
}

// clients runs body on n goroutines in total (b.RunParallel runs a multiple
// of GOMAXPROCS), under a CPU profile when RUNG_BENCH_PROFILE names a
// directory and an execution trace when RUNG_BENCH_TRACE does (for
// `go tool trace -pprof=syscall|sync|sched FILE`: where the time waiting
// goes).
func clients(b *testing.B, n int, body func(pb *testing.PB)) {
	b.SetParallelism(max(1, (n+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
	name := strings.ReplaceAll(b.Name(), "/", "_")
	if dir := os.Getenv("RUNG_BENCH_PROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, name+".cpu"))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if dir := os.Getenv("RUNG_BENCH_TRACE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, name+".trace"))
		if err != nil {
			b.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			b.Fatal(err)
		}
		defer func() {
			trace.Stop()
			f.Close()
		}()
	}
	b.RunParallel(body)
}

// BenchmarkServerIngestBatch posts batches of 5,000 events from 4 clients;
// one op is one batch.
func BenchmarkServerIngestBatch(b *testing.B) {
	s := start(b)
	b.ResetTimer()
	cpu0 := workload.ProcessCPU()
	clients(b, 4, func(pb *testing.PB) {
		g := s.generator()
		var body []byte
		var buf bytes.Buffer
		c := s.conn(b)
		defer c.Close()
		for pb.Next() {
			body = batchBody(g, 5000, body)
			if err := s.post(c, body, 5000, &buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)*5000/b.Elapsed().Seconds(), "events/s")
	reportCPU(b, cpu0, b.N*5000, "event")
}

// reportCPU reports the process's CPU time (server and client, every
// goroutine, the collector included) per item (an event, a request) since
// cpu0. On a machine shared with other work the wall-clock rate varies
// from run to run; the CPU an item costs varies much less, and 2 cores ÷
// it bounds the rate.
func reportCPU(b *testing.B, cpu0 float64, items int, unit string) {
	if items == 0 {
		return
	}
	us := (workload.ProcessCPU() - cpu0) * 1e6 / float64(items)
	b.ReportMetric(us, "cpu-µs/"+unit)
}

// BenchmarkServerIngestSingle posts one event per request from 64 clients.
func BenchmarkServerIngestSingle(b *testing.B) {
	s := start(b)
	b.ResetTimer()
	cpu0 := workload.ProcessCPU()
	clients(b, 64, func(pb *testing.PB) {
		g := s.generator()
		var body []byte
		var buf bytes.Buffer
		c := s.conn(b)
		defer c.Close()
		for pb.Next() {
			body, _ = g.Append(body[:0])
			if err := s.post(c, body, 1, &buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	reportCPU(b, cpu0, b.N, "event")
}

// BenchmarkServerLeaderboardTop100 reads the top 100 of the members'
// quarter board from 8 clients.
func BenchmarkServerLeaderboardTop100(b *testing.B) {
	s := start(b)
	s.seed(b)
	b.ResetTimer()
	cpu0 := workload.ProcessCPU()
	clients(b, 8, func(pb *testing.PB) {
		var buf bytes.Buffer
		c := s.conn(b)
		defer c.Close()
		for pb.Next() {
			if err := s.get(c, "/api/v1/leaderboards/quarter-points?limit=100", &buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	reportCPU(b, cpu0, b.N, "request")
}

// BenchmarkServerLeaderboardAround reads one member's rank
// (around=MEMBER&limit=1) from 8 clients. A member with no points this
// quarter is a 404, which ends the benchmark: seed puts most on the board,
// and the read tries the next member until one is found.
func BenchmarkServerLeaderboardAround(b *testing.B) {
	s := start(b)
	s.seed(b)
	var buf bytes.Buffer
	var onBoard []string
	c := s.conn(b)
	for i := 0; len(onBoard) < 1000 && i < s.members; i++ {
		id := workload.MemberID(i)
		if s.get(c, "/api/v1/leaderboards/quarter-points?limit=1&around="+id, &buf) == nil {
			onBoard = append(onBoard, id)
		}
	}
	c.Close()
	if len(onBoard) == 0 {
		b.Fatal("no member is on the board")
	}
	b.ResetTimer()
	cpu0 := workload.ProcessCPU()
	clients(b, 8, func(pb *testing.PB) {
		g := s.generator()
		var buf bytes.Buffer
		c := s.conn(b)
		defer c.Close()
		for pb.Next() {
			id := onBoard[g.Intn(len(onBoard))]
			if err := s.get(c, "/api/v1/leaderboards/quarter-points?limit=1&around="+id, &buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	reportCPU(b, cpu0, b.N, "request")
}

// BenchmarkServerHealthz reads /healthz from 8 clients: what HTTP alone
// costs here (bench/run.sh's "ceiling").
func BenchmarkServerHealthz(b *testing.B) {
	s := start(b)
	b.ResetTimer()
	cpu0 := workload.ProcessCPU()
	clients(b, 8, func(pb *testing.PB) {
		var buf bytes.Buffer
		c := s.conn(b)
		defer c.Close()
		for pb.Next() {
			if err := s.get(c, "/healthz", &buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	reportCPU(b, cpu0, b.N, "request")
}
