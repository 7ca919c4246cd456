package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/importer"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

func quietLog(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func cmdProgram(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "validate" && args[0] != "apply") {
		return rung.Errorf(rung.EINVALID, "usage: rung program validate FILE | rung program apply FILE [--db] [--effective-from RFC3339]")
	}
	sub := args[0]
	fs := flags("program "+sub, stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	from := fs.String("effective-from", "", "apply the rules to events from this time (RFC 3339); default now, or all history for the first version")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return rung.Errorf(rung.EINVALID, "give exactly one program file: rung program %s FILE", sub)
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		return rung.Errorf(rung.EINVALID, "cannot read %s: %v", pos[0], err)
	}
	p, err := service.ValidateProgram(src)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if sub == "validate" {
		fmt.Fprintf(stdout, "%s is valid: %q, %d rules, %d metrics, %d leaderboards\n", pos[0], p.Name, len(p.Points.Rules), len(p.Metrics), len(p.Leaderboards))
		return nil
	}
	var eff time.Time
	if *from != "" {
		if eff, err = time.Parse(time.RFC3339, *from); err != nil {
			return rung.Errorf(rung.EINVALID, "--effective-from %q is not an RFC 3339 time", *from)
		}
	}
	svc, st, err := openService(ctx, *db, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	defer svc.Close()
	v, err := svc.ApplyProgram(ctx, src, eff, "cli:"+currentUser())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %s as program version %d\n", pos[0], v)
	return nil
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

func cmdAPIKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return rung.Errorf(rung.EINVALID, "usage: rung apikey create --scope ingest|read|admin [--name NAME] [--db]")
	}
	fs := flags("apikey create", stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	scope := fs.String("scope", "", "ingest, read or admin")
	name := fs.String("name", "", "what the key is for")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	sc, err := rung.ParseScope(*scope)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	prepareHeap()
	svc, err := service.Open(ctx, st, service.Options{Logger: quietLog(stderr)})
	if err != nil {
		return err
	}
	defer svc.Close()
	k, secret, err := svc.CreateAPIKey(ctx, *name, sc, "cli:"+currentUser())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created API key %s with scope %s; it is shown once:\n%s\n", k.ID, k.Scope, secret)
	return nil
}

func cmdRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("rebuild", stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	// Opening the service is the rebuild: it replays the whole log.
	svc, st, err := openService(ctx, *db, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	defer svc.Close()
	n, took := svc.Loaded()
	rate := float64(n) / took.Seconds()
	fmt.Fprintf(stdout, "rebuilt all state from %d log records in %s (%.0f records/s)\n", n, took.Round(time.Millisecond), rate)
	return nil
}

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("backup", stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite database path (RUNG_DB)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return rung.Errorf(rung.EINVALID, "give the file to write: rung backup FILE")
	}
	if strings.Contains(*db, "://") {
		return rung.Errorf(rung.EINVALID, "rung backup copies SQLite databases; for PostgreSQL use pg_dump")
	}
	// Read-only: works beside a running server, which holds the write lock.
	st, err := sqlite.OpenReadOnly(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if err := st.Backup(ctx, pos[0]); err != nil {
		return err
	}
	fi, _ := os.Stat(pos[0])
	var size int64
	if fi != nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes) in %s\n", *db, pos[0], size, time.Since(start).Round(time.Millisecond))
	return nil
}

// cmdImport imports events from a CSV or NDJSON file in batches. It records
// how far it got, so a re-run after an interruption carries on; and since
// events are idempotent, re-importing a file counts nothing twice.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("import", stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	batch := fs.Int("batch", 5000, "events per commit")
	quiet := fs.Bool("quiet", false, "no progress bar")
	src := fs.String("source", "", "the file is an export of hubspot, salesforce, or a csv mapped by the program's sources section (docs/sources.md)")
	object := fs.String("object", "", "with --source: the records' object (deal, Opportunity, ...); guessed from the columns when empty")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return rung.Errorf(rung.EINVALID, "give one file to import: rung import FILE")
	}
	if *src != "" {
		return importSource(ctx, *db, *src, *object, pos[0], stdout, stderr) // import_source.go
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return rung.Errorf(rung.EINVALID, "cannot open %s: %v", pos[0], err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// The cursor belongs to the file's content, not its name or times: a
	// different file copied over the same path starts afresh.
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", pos[0], err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	cursorKey := "import:" + hex.EncodeToString(h.Sum(nil)[:16])
	var first [1]byte
	f.Read(first[:])
	f.Seek(0, io.SeekStart)
	rd, err := importer.NewReader(importer.Detect(pos[0], first[0]), &countingReader{r: f, n: new(int64)})
	if err != nil {
		return err
	}
	svc, st, err := openService(ctx, *db, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	defer svc.Close()
	doneLine := 0
	if v, _ := st.Meta(ctx, cursorKey); v != "" {
		doneLine, _ = strconv.Atoi(v)
	}
	im := &importRun{svc: svc, stdout: stdout, stderr: stderr, size: fi.Size(), quiet: *quiet, start: time.Now()}
	resumeAfter := doneLine
	if doneLine > 0 {
		fmt.Fprintf(stderr, "resuming %s after line %d (imported before)\n", pos[0], doneLine)
	}
	var rows []importer.Row
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if err := im.send(ctx, rows); err != nil {
			return err
		}
		last := rows[len(rows)-1].Line
		rows = rows[:0]
		// The cursor marks the lines done; it stops before the first
		// rejected row, so a re-run after fixing the cause retries it.
		if im.firstRejected > 0 {
			last = im.firstRejected - 1
		}
		if last <= doneLine {
			return nil
		}
		doneLine = last
		return st.SetMeta(ctx, cursorKey, strconv.Itoa(last))
	}
	cr := rd
	for {
		row, err := cr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		if row.Line <= resumeAfter {
			im.skipped++
			continue
		}
		rows = append(rows, row)
		if len(rows) >= *batch {
			if err := flush(); err != nil {
				return err
			}
			im.progress(false)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := flush(); err != nil {
		return err
	}
	im.progress(true)
	fmt.Fprintf(stdout, "imported %s: %d accepted, %d corrected, %d duplicate, %d rejected, %d skipped (done before) in %s\n",
		pos[0], im.counts["accepted"], im.counts["corrected"], im.counts["duplicate"], im.counts["rejected"], im.skipped, time.Since(im.start).Round(time.Millisecond))
	if im.counts["rejected"] > 0 {
		return rung.Errorf(rung.EINVALID, "%d rows were rejected (listed above with their lines); fix them and run the import again — accepted rows are not imported twice", im.counts["rejected"])
	}
	return ctx.Err()
}

type importRun struct {
	svc            *service.Service
	stdout, stderr io.Writer
	size           int64
	quiet          bool
	start          time.Time
	counts         map[string]int
	rows, skipped  int
	errorsShown    int
	firstRejected  int // line of the first rejected row, 0 if none
}

const maxShownErrors = 50

func (im *importRun) send(ctx context.Context, rows []importer.Row) error {
	in := make([]*service.Incoming, len(rows))
	for i, r := range rows {
		in[i] = r.In
	}
	res, err := im.svc.Ingest(ctx, in)
	if err != nil {
		return err
	}
	if im.counts == nil {
		im.counts = map[string]int{}
	}
	for i, r := range res {
		im.counts[r.Status]++
		im.rows++
		if r.Status == "rejected" {
			if im.firstRejected == 0 {
				im.firstRejected = rows[i].Line
			}
			if im.errorsShown < maxShownErrors {
				id := r.ID
				if id == "" {
					id = "(no id)"
				}
				im.clearBar()
				fmt.Fprintf(im.stderr, "line %d: %s: %s\n", rows[i].Line, id, r.Error)
			} else if im.errorsShown == maxShownErrors {
				im.clearBar()
				fmt.Fprintf(im.stderr, "(more rejected rows; only the first %d are listed)\n", maxShownErrors)
			}
			im.errorsShown++
		}
	}
	return nil
}

func (im *importRun) clearBar() {
	if !im.quiet {
		fmt.Fprint(im.stderr, "\r\033[K")
	}
}

// progress draws a progress bar on stderr.
func (im *importRun) progress(final bool) {
	if im.quiet {
		return
	}
	el := time.Since(im.start).Seconds()
	rate := float64(im.rows) / max(el, 0.001)
	frac := 0.0
	if final {
		frac = 1
	} else if im.size > 0 && readBytes > 0 {
		frac = min(1, float64(readBytes)/float64(im.size))
	}
	const width = 30
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	fmt.Fprintf(im.stderr, "\r[%s] %3.0f%% %d rows  %.0f rows/s", bar, frac*100, im.rows, rate)
	if final {
		fmt.Fprintln(im.stderr)
	}
}

// readBytes is how far into the file the import has read (for the bar).
var readBytes int64

type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	readBytes = *c.n
	return n, err
}
