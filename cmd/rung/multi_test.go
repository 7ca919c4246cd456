package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store/postgres"
)

const multiProgram = `name: Multi
timezone: UTC
points:
  rules:
    - {id: win, on: deal.won, award: 10}
leaderboards:
  - {id: member-points, metric: points, for: member, window: all}
  - {id: partner-points, metric: points, for: partner, window: all}
`

// process is one `rung serve` running as a process of its own.
type process struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan struct{}
}

// syncBuffer is a bytes.Buffer safe for a writer and readers at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// buildRung builds the rung binary into a temporary directory.
func buildRung(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rung")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess starts `rung serve` on db and waits until it serves.
func startProcess(t *testing.T, bin, db string) *process {
	t.Helper()
	p := &process{logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0")
	p.cmd.Stderr = p.logs
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "Rung is serving on "); ok {
				urls <- u
			}
		}
	}()
	select {
	case p.url = <-urls:
	case <-p.done:
		t.Fatalf("rung serve stopped:\n%s", p.logs)
	case <-time.After(60 * time.Second):
		// Where it waits: SIGQUIT makes the Go runtime print every
		// goroutine's stack to stderr, which the logs hold.
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
		t.Fatalf("rung serve did not start in 60 s; its log and stacks:\n%s", p.logs)
	}
	return p
}

func (p *process) leads() bool {
	return strings.Contains(p.logs.String(), "this instance leads the scheduled jobs")
}

// post sends a body and decodes the answer; a transport error is returned.
func post(client *http.Client, method, url, key, body string) (int, []byte, error) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Three `rung serve` processes on one PostgreSQL schema and eight clients
// sending overlapping batches with duplicates; the process that leads the
// scheduler is killed with SIGKILL in the middle. Every acknowledged event
// is in the log once, the survivors and a restarted process agree on every
// leaderboard, and the scheduler's leadership moves to a survivor.
func TestKillOneOfThreeServers(t *testing.T) {
	if os.Getenv("RUNG_TEST_POSTGRES") == "" {
		t.Skip("RUNG_TEST_POSTGRES is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run several rung serve processes on one database")
	}
	url := pgCopyURL(t)
	ctx := context.Background()
	// The schema named by search_path must exist for rung serve.
	schema := url[strings.LastIndex(url, "=")+1:]
	admin, err := pgx.Connect(ctx, os.Getenv("RUNG_TEST_POSTGRES"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	bin := buildRung(t)
	dir := t.TempDir()
	if out, err := runCmd(t, "program", "apply", writeFile(t, dir, "program.yaml", multiProgram), "--db", url); err != nil {
		t.Fatalf("program apply: %v\n%s", err, out)
	}
	out, err := runCmd(t, "apikey", "create", "--scope", "admin", "--db", url)
	if err != nil {
		t.Fatal(err)
	}
	key := lastLine(out)

	procs := []*process{startProcess(t, bin, url), startProcess(t, bin, url), startProcess(t, bin, url)}
	client := &http.Client{Timeout: 20 * time.Second}
	const partners, members = 10, 60
	for i := range partners {
		code, body, err := post(client, "PUT", procs[i%3].url+fmt.Sprintf("/api/v1/partners/p%d", i), key, `{"name": "Partner", "size": "mid"}`)
		if err != nil || code != 201 {
			t.Fatalf("put partner: %d %s %v", code, body, err)
		}
	}
	time.Sleep(500 * time.Millisecond) // the partners reach every instance
	var leader *process
	for leader == nil {
		for _, p := range procs {
			if p.leads() {
				leader = p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Event i always has the same content, so a resent one is a duplicate.
	const events, clients, batches, perBatch = 6000, 8, 12, 250
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	eventJSON := func(i int) string {
		m := i % members
		return fmt.Sprintf(`{"id": "crm:%d:deal.won", "type": "deal.won", "partner": "p%d", "member": "m%d", "occurred_at": %q}`,
			i, m%partners, m, at.Add(-time.Duration(i)*time.Second).Format(time.RFC3339))
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	alive := func(p *process) bool {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	var wg sync.WaitGroup
	sent := make(chan struct{}, clients*batches)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(c), 11))
			for b := range batches {
				parts := make([]string, perBatch)
				for k := range parts {
					parts[k] = eventJSON(rnd.IntN(events))
				}
				body := `{"events": [` + strings.Join(parts, ",") + `]}`
				// Sent until one instance acknowledges it; a dead one is
				// skipped.
				for try := 0; ; try++ {
					if try == 50 {
						t.Errorf("client %d: batch %d not acknowledged after 50 tries", c, b)
						return
					}
					p := procs[(c+b+try)%3]
					if !alive(p) {
						continue
					}
					code, resp, err := post(client, "POST", p.url+"/api/v1/events", key, body)
					if err != nil || code == http.StatusServiceUnavailable {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					var res struct {
						Results []struct{ ID, Status, Error string }
					}
					if code != 200 || json.Unmarshal(resp, &res) != nil {
						t.Errorf("client %d: %d %s", c, code, resp)
						return
					}
					mu.Lock()
					for _, r := range res.Results {
						if r.Status != "accepted" && r.Status != "duplicate" {
							t.Errorf("event %s: %s %s", r.ID, r.Status, r.Error)
						}
						acked[r.ID] = true
					}
					mu.Unlock()
					break
				}
				sent <- struct{}{}
			}
		}()
	}
	// Kill the leader once a third of the batches are in, while the
	// clients keep sending.
	for range clients * batches / 3 {
		<-sent
	}
	var survivors []*process
	for _, p := range procs {
		if p != leader {
			survivors = append(survivors, p)
		}
	}
	killed := time.Now()
	if err := leader.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	moved := make(chan time.Duration, 1)
	go func() {
		for time.Since(killed) < 10*time.Second {
			for _, p := range survivors {
				if p.leads() {
					moved <- time.Since(killed)
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(moved)
	}()
	<-leader.done
	wg.Wait()
	took, ok := <-moved
	if !ok {
		t.Fatal("no survivor took over the scheduler within 10 s of the kill")
	}
	t.Logf("a survivor led the scheduler %v after the kill", took.Round(time.Millisecond))

	// Every acknowledged event is in the log, each once.
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logged := map[string]bool{}
	err = st.Records(ctx, 0, func(r *rung.Record) error {
		if logged[r.Event.ID] || r.Version != 1 {
			return fmt.Errorf("event %s stored twice (version %d)", r.Event.ID, r.Version)
		}
		logged[r.Event.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !logged[id] {
			t.Errorf("acknowledged event %s is not in the log", id)
		}
	}
	t.Logf("%d events acknowledged, %d in the log", len(acked), len(logged))

	// The survivors and a restarted instance agree on every board, and
	// every logged event counts once: 10 points each.
	restarted := startProcess(t, bin, url)
	boards := func(p *process) string {
		var all []string
		for _, b := range []string{"member-points", "partner-points"} {
			code, body, err := post(client, "GET", p.url+"/api/v1/leaderboards/"+b+"?limit=100", key, "")
			if err != nil || code != 200 {
				t.Fatalf("leaderboard %s: %d %s %v", b, code, body, err)
			}
			var page struct{ Entries []map[string]any }
			json.Unmarshal(body, &page)
			e, _ := json.Marshal(page.Entries)
			all = append(all, string(e))
		}
		return strings.Join(all, "\n")
	}
	total := func(p *process) float64 {
		code, body, _ := post(client, "GET", p.url+"/api/v1/leaderboards/partner-points?limit=100", key, "")
		var page struct{ Entries []struct{ Value float64 } }
		if code != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("leaderboard: %d %s", code, body)
		}
		sum := 0.0
		for _, e := range page.Entries {
			sum += e.Value
		}
		return sum
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, b, c := boards(survivors[0]), boards(survivors[1]), boards(restarted)
		if a == b && b == c {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instances' boards differ:\n%s\n%s\n%s", a, b, c)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got, want := total(restarted), float64(10*len(logged)); got != want {
		t.Fatalf("partners' points add up to %v, want %v (10 per logged event)", got, want)
	}
}
