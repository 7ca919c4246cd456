package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/simulate"
)

// cmdSimulate replays the history under a draft program and prints who
// gains, who loses and who changes tier; nothing is written.
func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("simulate", stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	file := fs.String("program", "", "the draft program file (YAML)")
	from := fs.String("from", "", "the draft scores events from here on: RFC 3339 or YYYY-MM-DD (midnight in the draft's time zone); default all history")
	to := fs.String("to", "", "compare the state at the end of the period, just before this time: RFC 3339 or YYYY-MM-DD; default now")
	csvPath := fs.String("csv", "", "also write every changed member and partner to this CSV file")
	all := fs.Bool("all", false, "with --csv, write unchanged members and partners too")
	sortKey := fs.String("sort", "-lifetime", "order of the CSV rows: "+strings.Join(simulate.SortKeys, ", ")+" or rank:<leaderboard>, - for descending")
	top := fs.Int("top", 10, "how many gainers and losers to print")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *file == "" && len(pos) == 1 {
		*file = pos[0]
	}
	if *file == "" {
		return rung.Errorf(rung.EINVALID, "usage: rung simulate --program draft.yaml [--from T] [--to T] [--db] [--csv out.csv]")
	}
	src, err := os.ReadFile(*file)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "cannot read %s: %v", *file, err)
	}
	p, err := program.Parse(src)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	o := simulate.Options{Now: time.Now(), PointValue: simulate.PointValue}
	if o.From, err = periodTime("--from", *from, p.Calendar.Loc); err != nil {
		return err
	}
	if o.To, err = periodTime("--to", *to, p.Calendar.Loc); err != nil {
		return err
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	prepareHeap()
	h, err := simulate.Load(ctx, st)
	if err != nil {
		return err
	}
	r, err := simulate.Run(ctx, h, src, o)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	if err := r.Sort(*sortKey); err != nil {
		return err
	}
	printSummary(stdout, r, *top)
	if *csvPath != "" {
		r.Trim(*all, 0)
		f, err := os.Create(*csvPath)
		if err != nil {
			return rung.Errorf(rung.EINVALID, "cannot write %s: %v", *csvPath, err)
		}
		if err := r.WriteCSV(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %d partners and %d members to %s\n", len(r.Partners), len(r.Members), *csvPath)
	}
	return nil
}

// periodTime parses an RFC 3339 time or a date (midnight in loc).
func periodTime(flag, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, rung.Errorf(rung.EINVALID, "%s %q is neither an RFC 3339 time (2026-10-01T00:00:00Z) nor a date (2026-10-01)", flag, s)
}

// printSummary prints the totals, the biggest gainers and losers of
// lifetime points, and every change of qualified tier.
func printSummary(w io.Writer, r *simulate.Report, top int) {
	period := "all history"
	if !r.From.IsZero() {
		period = r.From.Format(time.DateOnly) + " to " + r.To.Format(time.DateOnly)
	}
	against := fmt.Sprintf("program v%d", r.Active)
	if r.Active == 0 {
		against = "no program"
	}
	fmt.Fprintf(w, "Simulated %q against %s over %s: %d log records, %d events in the period (%d ms).\n",
		r.Program, against, period, r.Records, r.EventsInPeriod, r.TookMS)
	if r.Empty {
		fmt.Fprintf(w, "%s.\n", r.Message)
		return
	}
	t := r.Totals
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\tactive\tdraft\tchange\t\n")
	line := func(name string, c simulate.Change) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%+d\t\n", name, c.Before, c.After, c.Delta)
	}
	line("points issued in the period", t.PointsIssued)
	line("lifetime points", t.Lifetime)
	line("balance", t.Balance)
	line("badges held", t.BadgesHeld)
	if t.Liability != nil {
		fmt.Fprintf(tw, "reward liability\t%.2f\t%.2f\t%+.2f\t\n", t.Liability.Before, t.Liability.After, t.Liability.Delta)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %d members and %d of %d partners change; members: %d level up, %d level down; partners: %d level up, %d level down, %d qualify for a higher tier, %d for a lower one; %d badges gained, %d lost; %d leaderboard places change.\n",
		t.MembersChanged, t.Members, t.PartnersChanged, t.Partners, t.MembersLevelUp, t.MembersLevelDown,
		t.PartnersLevelUp, t.PartnersLevelDown, t.PartnersTierUp, t.PartnersTierDown, t.BadgesGained, t.BadgesLost, t.RankChanges)
	if t.Zero() {
		fmt.Fprintln(w, "The draft changes nothing.")
		return
	}
	rows := func(title string, rows []simulate.Row, keep func(simulate.Row) bool, n int) {
		var sel []simulate.Row
		for _, x := range rows {
			if keep(x) {
				sel = append(sel, x)
			}
		}
		if len(sel) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, x := range sel {
			if n > 0 && i == n {
				fmt.Fprintf(tw, "  … %d more\n", len(sel)-n)
				break
			}
			level := x.Level.After
			if x.Level.Before != x.Level.After {
				level = x.Level.Before + " → " + x.Level.After
			}
			tier := ""
			if x.Tier != nil {
				tier = x.Tier.After
				if x.Tier.Before != x.Tier.After {
					tier = x.Tier.Before + " → " + x.Tier.After
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%+d\t(%d → %d)\t%s\t%s\t%s\n", x.ID, x.Name, x.Lifetime.Delta, x.Lifetime.Before, x.Lifetime.After, level, tier, badges(x))
		}
		tw.Flush()
	}
	byGain := func(rs []simulate.Row, desc bool) []simulate.Row {
		out := slices.Clone(rs)
		slices.SortStableFunc(out, func(a, b simulate.Row) int {
			if desc {
				return int(sign(b.Lifetime.Delta - a.Lifetime.Delta))
			}
			return int(sign(a.Lifetime.Delta - b.Lifetime.Delta))
		})
		return out
	}
	gain := func(x simulate.Row) bool { return x.Lifetime.Delta > 0 }
	loss := func(x simulate.Row) bool { return x.Lifetime.Delta < 0 }
	rows("Partners who gain", byGain(r.Partners, true), gain, top)
	rows("Partners who lose", byGain(r.Partners, false), loss, top)
	rows("Members who gain", byGain(r.Members, true), gain, top)
	rows("Members who lose", byGain(r.Members, false), loss, top)
	rows("Partners who change qualified tier", r.Partners, func(x simulate.Row) bool { return x.Tier != nil && x.Tier.Before != x.Tier.After }, 0)
}

func sign(n int64) int64 {
	switch {
	case n > 0:
		return 1
	case n < 0:
		return -1
	}
	return 0
}

func badges(x simulate.Row) string {
	var parts []string
	for _, b := range x.BadgesGained {
		parts = append(parts, "+"+b)
	}
	for _, b := range x.BadgesLost {
		parts = append(parts, "-"+b)
	}
	return strings.Join(parts, " ")
}
