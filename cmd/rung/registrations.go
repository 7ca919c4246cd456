package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/registration"
)

// cmdRegistrations runs `rung registrations import FILE` and `rung
// registrations sweep`.
func cmdRegistrations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "sweep") {
		return rung.Errorf(rung.EINVALID, "use rung registrations import FILE [--partner ID] [--csv] [--db], or rung registrations sweep [--db]")
	}
	fs := flags("registrations "+args[0], stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	partner := fs.String("partner", "", "the partner of rows without a partner column")
	asCSV := fs.Bool("csv", false, "print the per-row results as CSV instead of JSON lines")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if args[0] == "import" && len(pos) != 1 || args[0] == "sweep" && len(pos) != 0 {
		return rung.Errorf(rung.EINVALID, "use rung registrations import FILE, or rung registrations sweep")
	}
	var rows []registration.CSVRow
	if args[0] == "import" {
		f, err := os.Open(pos[0])
		if err != nil {
			return rung.Errorf(rung.EINVALID, "cannot open %s: %v", pos[0], err)
		}
		defer f.Close()
		if rows, err = registration.ReadCSV(f); err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
	}
	svc, st, err := openService(ctx, *db, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	defer svc.Close()
	desk := registration.New(svc, registration.Options{Logger: quietLog(stderr)})
	if args[0] == "sweep" {
		res, err := desk.Sweep(ctx, svc.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "checked %d active registrations: %d expired, %d reviews overdue\n", res.Checked, res.Expired, res.OverdueReviews)
		return nil
	}
	res, err := desk.Import(ctx, rows, *partner, "cli")
	if err != nil {
		return err
	}
	if *asCSV {
		if err := registration.WriteResultsCSV(stdout, res); err != nil {
			return err
		}
	} else {
		enc := json.NewEncoder(stdout)
		for _, r := range res {
			enc.Encode(r)
		}
	}
	counts := map[string]int{}
	for _, r := range res {
		counts[r.Status]++
	}
	fmt.Fprintf(stderr, "%d rows: %d created, %d existing, %d duplicate, %d rejected\n", len(res), counts["created"], counts["existing"], counts["duplicate"], counts["rejected"])
	if counts["rejected"] > 0 {
		return rung.Errorf(rung.EINVALID, "%d rows were rejected; fix them and import the file again (rows already in are recognised)", counts["rejected"])
	}
	return nil
}
