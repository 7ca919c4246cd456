package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

const e2eProgram = `name: E2E
timezone: Europe/Berlin
metrics:
  wins: {count: deal.won}
points:
  rules:
    - {id: win, on: deal.won, award: "min(1000, event.attrs.amount / 100)"}
    - {id: training, on: training.completed, when: "event.attrs.score >= 80", award: 50}
leaderboards:
  - {id: all-points, metric: points, for: member, window: all}
`

// runCmd runs a rung command in process and returns its stdout.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String() + errb.String(), err
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startServer runs `rung serve` on a free port until the test ends.
func startServer(t *testing.T, db string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "Rung is serving on "); ok {
			go io.Copy(io.Discard, pr)
			return u
		}
	}
	t.Fatal("the server did not start")
	return ""
}

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestServerEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	prog := writeFile(t, dir, "program.yaml", e2eProgram)
	if out, err := runCmd(t, "program", "apply", prog, "--db", db); err != nil {
		t.Fatalf("program apply: %v\n%s", err, out)
	}
	out, err := runCmd(t, "apikey", "create", "--scope", "admin", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	key := lastLine(out)
	if !strings.HasPrefix(key, "rung_admin_") {
		t.Fatalf("the key is not alone on the last line: %q", out)
	}
	url := startServer(t, db)

	// A second process on the same database is refused while it serves.
	if _, err := runCmd(t, "rebuild", "--db", db); rung.ErrorCode(err) != rung.EUNAVAILABLE {
		t.Fatalf("second writer on the database: %v", err)
	}

	code, _ := call(t, "PUT", url+"/api/v1/partners/p1", key, `{"name": "Initech", "size": "smb"}`)
	if code != 201 {
		t.Fatalf("put partner: %d", code)
	}
	code, res := call(t, "POST", url+"/api/v1/events", key, `{"events": [
		{"id": "crm:1:deal.won", "type": "deal.won", "partner": "p1", "member": "peter", "occurred_at": "2026-11-02T10:00:00Z", "attrs": {"amount": 64000}},
		{"id": "lms:1:training.completed", "type": "training.completed", "partner": "p1", "member": "peter", "occurred_at": "2026-11-03T10:00:00Z", "attrs": {"score": 95}}]}`)
	if code != 200 {
		t.Fatalf("events: %d %v", code, res)
	}
	code, sc := call(t, "GET", url+"/api/v1/members/peter/scorecard", key, "")
	if code != 200 || sc["points"].(map[string]any)["lifetime"].(float64) != 690 {
		t.Fatalf("scorecard: %d %v", code, sc)
	}
	code, ev := call(t, "GET", url+"/api/v1/events/crm:1:deal.won", key, "")
	awards := ev["effects"].(map[string]any)["awards"].([]any)
	if code != 200 || len(awards) != 1 || awards[0].(map[string]any)["rule"] != "win" {
		t.Fatalf("event: %d %v", code, ev)
	}

	// An online backup beside the running server holds the same log.
	bak := filepath.Join(dir, "backup.db")
	if out, err := runCmd(t, "backup", bak, "--db", db); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "rebuild", "--db", bak); err != nil || !strings.Contains(out, "from 2 log records") {
		t.Fatalf("rebuild of the backup: %v\n%s", err, out)
	}
}

func TestProgramValidateReportsLines(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "name: Bad\npoints:\n  rules:\n    - id: a\n      on: deal.won\n      award: [1]\n")
	out, err := runCmd(t, "program", "validate", bad)
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "line 6") {
		t.Fatalf("validate bad: exit %d, %v\n%s", exitCode(err), err, out)
	}
	good := writeFile(t, dir, "good.yaml", e2eProgram)
	if out, err := runCmd(t, "program", "validate", good); err != nil || !strings.Contains(out, "is valid") {
		t.Fatalf("validate good: %v\n%s", err, out)
	}
}

func TestImportReportsRowsAndResumes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	prog := writeFile(t, dir, "program.yaml", e2eProgram)
	if out, err := runCmd(t, "program", "apply", prog, "--db", db); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var csv strings.Builder
	csv.WriteString("id,type,partner,member,occurred_at,amount,score\n")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&csv, "crm:%d:deal.won,deal.won,p1,m%d,2026-11-0%dT10:00:00Z,%d,\n", i, i%4, i%9+1, 1000*(i+1))
	}
	csv.WriteString("bad-1,deal.won,nobody,,2026-11-02T10:00:00Z,100,\n")
	csv.WriteString("bad-2,deal.won,p1,m1,not a time,100,\n")
	file := writeFile(t, dir, "events.csv", csv.String())

	// Without the partner, every row is rejected with its line.
	out, err := runCmd(t, "import", file, "--db", db, "--quiet")
	if err == nil || !strings.Contains(out, "line 2: crm:0:deal.won: partner \"p1\" does not exist") {
		t.Fatalf("import without partner: %v\n%s", err, out)
	}
	// The cause fixed, the same file again imports the good rows and
	// reports the two bad ones.
	ctx := context.Background()
	svc, store, err := openService(ctx, db, quietLog(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech"})
	svc.Close()
	store.Close()
	out, err = runCmd(t, "import", file, "--db", db, "--quiet")
	if !strings.Contains(out, "30 accepted") || !strings.Contains(out, "2 rejected") ||
		!strings.Contains(out, "line 33: bad-2: occurred_at \"not a time\"") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	// Again: the lines done are skipped, the rejected ones retried.
	out, _ = runCmd(t, "import", file, "--db", db, "--quiet")
	if !strings.Contains(out, "0 accepted") || !strings.Contains(out, "30 skipped") || !strings.Contains(out, "2 rejected") {
		t.Fatalf("re-import: %s", out)
	}
	// The same rows in another file (here, in another order) are
	// duplicates, not new points.
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	slices.Reverse(lines[1:])
	file3 := writeFile(t, dir, "events3.csv", strings.Join(lines, "\n")+"\n")
	out, _ = runCmd(t, "import", file3, "--db", db, "--quiet")
	if !strings.Contains(out, "0 accepted") || !strings.Contains(out, "30 duplicate") {
		t.Fatalf("import of the same rows: %s", out)
	}
}

func TestUnknownCommand(t *testing.T) {
	if _, err := runCmd(t, "frobnicate"); exitCode(err) != 2 {
		t.Fatalf("unknown command: %v", err)
	}
}

// The import cursor follows the file's content: another file with the same
// name, size and times is imported, not skipped.
func TestImportCursorFollowsContent(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	if out, err := runCmd(t, "program", "apply", writeFile(t, dir, "p.yaml", e2eProgram), "--db", db); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ctx := context.Background()
	svc, st, err := openService(ctx, db, quietLog(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech"})
	svc.Close()
	st.Close()
	rows := func(prefix string) string {
		var b strings.Builder
		b.WriteString("id,type,partner,occurred_at\n")
		for i := 0; i < 10; i++ {
			fmt.Fprintf(&b, "%s:%d,deal.won,p1,2026-11-02T10:00:00Z\n", prefix, i)
		}
		return b.String()
	}
	file := writeFile(t, dir, "export.csv", rows("monday"))
	mt := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(file, mt, mt)
	if out, _ := runCmd(t, "import", file, "--db", db, "--quiet"); !strings.Contains(out, "10 accepted") {
		t.Fatalf("first import: %s", out)
	}
	writeFile(t, dir, "export.csv", rows("friday"))
	os.Chtimes(file, mt, mt)
	if out, _ := runCmd(t, "import", file, "--db", db, "--quiet"); !strings.Contains(out, "10 accepted") {
		t.Fatalf("another file under the same name and times: %s", out)
	}
}

func TestHelpAndBadFlags(t *testing.T) {
	if _, err := runCmd(t, "serve", "-h"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	if _, err := runCmd(t, "serve", "--no-such-flag"); exitCode(err) != 2 {
		t.Fatalf("unknown flag: exit %d (%v), want 2", exitCode(err), err)
	}
}
