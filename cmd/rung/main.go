// Command rung runs Rung: the server, the demo, and the tools to manage a
// program (validate, apply, import, simulate, back up). It is wiring only;
// the work happens in internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

const usage = `rung — points, badges, tiers and leaderboards for partner programs

Usage:
  rung serve     [--db rung.db] [--addr 127.0.0.1:8080] [--ingest nats://...]   the server and API
  rung demo      [--addr 127.0.0.1:8080]                    a realistic demo on a throw-away database
  rung program validate FILE                                check a program file
  rung program apply FILE [--db] [--effective-from T]       apply it as a new version
  rung import FILE [--db]                                   import CSV or NDJSON events (resumable)
  rung registrations import FILE [--partner ID] [--csv]      register leads and deals from CSV (per-row results)
  rung apikey create --scope ingest|read|admin [--name N]   a new API key (printed on the last line)
  rung rebuild   [--db]                                     recompute all state from the log and time it
  rung backup FILE [--db]                                   a consistent copy of a SQLite database
  rung copy --from SRC --to DST                             copy every fact into an empty database, and verify
  rung credentials rotate-key [--db]                        a new signing key for badge credentials (prints its id)
  rung user add --email E --role admin|manager [--partners p1,p2]   a console account (password from stdin, or generated)
  rung user link --member ID                                a one-time portal sign-in link for a partner member
  rung user role --member ID --role member|partner_admin    let a member see their whole company
  rung simulate --program FILE [--from T] [--to T] [--csv out.csv] [--db]   a draft against history: who gains, loses, changes tier
  rung tiers review --quarter Q [--dry-run] [--json] [--db]  review partner tiers for a quarter (publishes unless a dry run)

The database is --db or RUNG_DB: a SQLite path (default rung.db) or a postgres:// URL.
The listen address is --addr or RUNG_ADDR (default 127.0.0.1:8080); RUNG_URL is how browsers
reach it, for sign-in links and as the issuer (did:web) of badge credentials (default http://ADDR).
Badge credentials name --issuer-name or RUNG_ISSUER_NAME as issuer (default the program's name).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if path := os.Getenv("RUNG_CPUPROFILE"); path != "" {
		// For measuring: RUNG_CPUPROFILE=cpu.prof rung rebuild
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	limitMemory()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	if path := os.Getenv("RUNG_MEMPROFILE"); path != "" {
		// For measuring: RUNG_MEMPROFILE=mem.prof rung rebuild writes what
		// the command allocated (go tool pprof -sample_index=alloc_space).
		if f, err := os.Create(path); err == nil {
			runtime.GC() // the profile holds what was allocated up to the last collection
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return // the flag package printed the help
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rung:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode maps an error to the process exit status: 2 for bad input, 1
// for everything else.
func exitCode(err error) int {
	switch rung.ErrorCode(err) {
	case rung.EINVALID, rung.ENOTFOUND:
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return rung.Errorf(rung.EINVALID, "no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "program":
		return cmdProgram(ctx, rest, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, stdout, stderr)
	case "apikey":
		return cmdAPIKey(ctx, rest, stdout, stderr)
	case "rebuild":
		return cmdRebuild(ctx, rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "copy":
		return cmdCopy(ctx, rest, stdout, stderr)
	case "registrations":
		return cmdRegistrations(ctx, rest, stdout, stderr)
	case "credentials":
		return cmdCredentials(ctx, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, os.Stdin, stdout, stderr)
	case "simulate":
		return cmdSimulate(ctx, rest, stdout, stderr)
	case "tiers":
		return cmdTiers(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return rung.Errorf(rung.EINVALID, "unknown command %q", cmd)
}

// env returns the environment variable or a default.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// flags makes a flag set that prints errors and usage to stderr.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rung "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags that may come before or after positional arguments
// (`rung import FILE --db x` and `rung import --db x FILE` both work).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			// The flag package printed the problem and the usage.
			return nil, rung.Errorf(rung.EINVALID, "%v", err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// openStore opens the database named by dsn.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return postgres.Open(ctx, dsn)
	}
	return sqlite.Open(ctx, dsn)
}

// openService opens the store and loads the state.
func openService(ctx context.Context, dsn string, log *slog.Logger) (*service.Service, store.Store, error) {
	st, err := openStore(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	prepareHeap()
	svc, err := service.Open(ctx, st, service.Options{Logger: log})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return svc, st, nil
}

// redact hides the password of a database URL for printing.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			cred := rest[:at]
			if c := strings.Index(cred, ":"); c >= 0 {
				return dsn[:i+3] + cred[:c] + ":****" + rest[at:]
			}
		}
	}
	return dsn
}
