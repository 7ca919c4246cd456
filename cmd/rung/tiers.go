package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/rung-dev/rung"
)

// cmdTiers runs `rung tiers review --quarter Q [--dry-run] [--json]`.
func cmdTiers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "review" {
		return rung.Errorf(rung.EINVALID, "use rung tiers review --quarter 2026-Q4 [--dry-run] [--json] [--db]")
	}
	fs := flags("tiers review", stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	quarter := fs.String("quarter", "", "the fiscal quarter to review, like 2026-Q4")
	dry := fs.Bool("dry-run", false, "compute the decisions without publishing them")
	asJSON := fs.Bool("json", false, "print the review as JSON (SPEC §5) instead of a table")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 || *quarter == "" {
		return rung.Errorf(rung.EINVALID, "use rung tiers review --quarter 2026-Q4 [--dry-run]")
	}
	svc, st, err := openService(ctx, *db, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	defer svc.Close()
	r, err := svc.ReviewTiers(ctx, *quarter, *dry, "cli")
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTNER\tFROM\tTO\tQUALIFIED\tOUTCOME\tEFFECTIVE")
	counts := map[string]int{}
	for _, d := range r.Decisions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Partner, d.From, d.To, d.Qualified, d.Outcome, d.EffectiveAt.Format("2006-01-02"))
		counts[d.Outcome]++
	}
	tw.Flush()
	state := "dry run: nothing published"
	switch {
	case r.Already:
		state = "published before: nothing changed"
	case r.Published:
		state = "published"
	}
	fmt.Fprintf(stderr, "review %s, %s: %d decisions (%d upgrade, %d stay, %d grace, %d downgrade, %d override)\n", r.Quarter, state,
		len(r.Decisions), counts["upgrade"], counts["stay"], counts["grace"], counts["downgrade"], counts["override"])
	return nil
}
