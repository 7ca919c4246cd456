package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape reads /metrics and parses it strictly: every line is a comment
// (HELP or TYPE) or a sample of a family whose TYPE came first.
func scrape(t *testing.T, url string) []sample {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	types := map[string]string{}
	var out []sample
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			types[name] = typ
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		family := m[1]
		if types[family] == "" {
			family = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(family, "_bucket"), "_sum"), "_count")
		}
		if types[family] == "" {
			t.Fatalf("sample %q before its TYPE", line)
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			t.Fatalf("value in %q: %v", line, err)
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[3], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// value returns the sample with the name and every label given (0 when
// absent).
func value(ss []sample, name string, labels ...string) float64 {
	for _, s := range ss {
		if s.name != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && s.labels[labels[i]] == labels[i+1]
		}
		if ok {
			return s.value
		}
	}
	return 0
}

func TestMetricsEndpointCountsIngestRequestsAndJobs(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	if out, err := runCmd(t, "program", "apply", writeFile(t, dir, "program.yaml", badgeProgram), "--db", db); err != nil {
		t.Fatalf("program apply: %v\n%s", err, out)
	}
	out, err := runCmd(t, "apikey", "create", "--scope", "admin", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	key := lastLine(out)
	url, logs, _ := serveUntil(t, db, "--credentials-every", "50ms")
	before := scrape(t, url)

	if code, _ := call(t, "PUT", url+"/api/v1/partners/p1", key, `{"name": "Initech"}`); code != 201 {
		t.Fatalf("put partner: %d", code)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if code, res := call(t, "POST", url+"/api/v1/events", key, `{"events": [
		{"id": "lms:1", "type": "certification.earned", "partner": "p1", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"cert_id": "A-1"}},
		{"id": "lms:2", "type": "certification.earned", "partner": "p1", "occurred_at": "2026-11-02T11:00:00Z", "attrs": {"cert_id": "A-2"}},
		{"id": "lms:3", "type": "certification.earned", "partner": "nobody", "occurred_at": "2026-11-02T11:00:00Z"},
		{"id": "lms:4", "type": "certification.earned", "partner": "p1", "occurred_at": "`+future+`"}]}`); code != 200 {
		t.Fatalf("events: %d %v", code, res)
	}

	// the caller's request id comes back and is in the log line
	req, _ := http.NewRequest("GET", url+"/api/v1/program", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-Id", "trace-4711")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if got := res.Header.Get("X-Request-Id"); got != "trace-4711" {
		t.Errorf("X-Request-Id = %q, want the caller's", got)
	}
	waitLog(t, logs, "http request", "request_id=trace-4711", "route=/api/v1/program", "status=200")
	// without one, the server makes one up
	res, err = http.Get(url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(res.Header.Get("X-Request-Id")) != 24 {
		t.Errorf("made-up request id %q", res.Header.Get("X-Request-Id"))
	}
	waitLog(t, logs, "scheduler: job done", "job=credential-issuance")

	after := scrape(t, url)
	delta := func(name string, labels ...string) float64 {
		return value(after, name, labels...) - value(before, name, labels...)
	}
	if d := delta("rung_events_ingested_total", "status", "accepted"); d != 2 {
		t.Errorf("accepted events: +%v, want +2", d)
	}
	if d := delta("rung_events_ingested_total", "status", "rejected"); d != 2 {
		t.Errorf("rejected events: +%v, want +2", d)
	}
	if d := delta("rung_events_rejected_total", "reason", "unknown_partner"); d != 1 {
		t.Errorf("rejected for an unknown partner: +%v, want +1", d)
	}
	if d := delta("rung_events_rejected_total", "reason", "future"); d != 1 {
		t.Errorf("rejected for the future: +%v, want +1", d)
	}
	// the POST is in the latency histogram of its route; buckets are
	// cumulative and end with +Inf = count
	route := []string{"route", "/api/v1/events", "method", "POST", "code", "2xx"}
	count := value(after, "rung_http_request_duration_seconds_count", route...)
	if count < 1 {
		t.Fatalf("no latency for POST /api/v1/events: %v", after)
	}
	prev := 0.0
	for _, s := range after {
		if s.name != "rung_http_request_duration_seconds_bucket" || s.labels["route"] != "/api/v1/events" || s.labels["method"] != "POST" {
			continue
		}
		if s.value < prev {
			t.Errorf("buckets not cumulative at le=%s", s.labels["le"])
		}
		prev = s.value
		if s.labels["le"] == "+Inf" && s.value != count {
			t.Errorf("+Inf bucket %v != count %v", s.value, count)
		}
	}
	// The partner and the two accepted events were stored by two
	// commits; only the second stored event records, both in one group.
	if d := delta("rung_store_commit_seconds_count"); d < 2 {
		t.Errorf("commits timed: +%v, want at least +2", d)
	}
	if d := delta("rung_store_commit_seconds_sum"); d <= 0 {
		t.Errorf("commit time: +%v s, want more than 0", d)
	}
	if d := delta("rung_ingest_group_events_count"); d != 1 {
		t.Errorf("groups of events stored: +%v, want +1", d)
	}
	if d := delta("rung_ingest_group_events_sum"); d != 2 {
		t.Errorf("event records in groups: +%v, want +2", d)
	}
	if d1, d2 := delta("rung_ingest_group_events_bucket", "le", "1"), delta("rung_ingest_group_events_bucket", "le", "2"); d1 != 0 || d2 != 1 {
		t.Errorf("group of 2 counted in buckets le=1 +%v, le=2 +%v; want +0, +1", d1, d2)
	}
	if d := delta("rung_ingest_apply_seconds_count"); d < 2 {
		t.Errorf("groups applied after a timed commit: +%v, want at least +2", d)
	}
	if v := value(after, "rung_job_runs_total", "job", "credential-issuance", "outcome", "ok"); v < 1 {
		t.Errorf("job runs of credential-issuance: %v", v)
	}
	// The backlog moves as the outbox works (TestOutboxBacklogCounts
	// checks the count); here it must be reported, as a count.
	found := false
	for _, s := range after {
		if s.name == "rung_outbox_backlog" {
			found = true
			if s.value < 0 || s.value != s.value || s.value != float64(int64(s.value)) {
				t.Errorf("outbox backlog %v is not a count", s.value)
			}
		}
	}
	if !found {
		t.Errorf("no rung_outbox_backlog")
	}
}

// TestOutboxBacklogCounts checks what /metrics reports as the outbox
// backlog: messages not yet handed to every endpoint.
func TestOutboxBacklogCounts(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v := outboxBacklog(st); v != 0 {
		t.Fatalf("empty outbox: backlog %v", v)
	}
	var msgs []store.OutboxMessage
	for i := range 3 {
		m, err := outbox.New(outbox.PointsChanged, "member:m1", fmt.Sprintf("points.changed:member:m1:%d", i), map[string]int{"balance": i}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if err := st.EnqueueOutbox(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if v := outboxBacklog(st); v != 3 {
		t.Errorf("three messages waiting: backlog %v", v)
	}
}
