package simulate

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// WriteCSV writes the report's rows, partners first, one line each, with a
// header: before, after and delta of every column, a rank triple per
// leaderboard, and the badges gained and lost separated by spaces.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"kind", "id", "name", "partner"}
	for _, c := range []string{"lifetime", "balance", "period"} {
		head = append(head, c+"_before", c+"_after", c+"_delta")
	}
	head = append(head, "level_before", "level_after", "level_delta", "tier_before", "tier_after", "tier_delta",
		"badges_gained", "badges_lost", "liability_before", "liability_after", "liability_delta")
	for _, b := range r.Leaderboards {
		head = append(head, "rank_"+b+"_before", "rank_"+b+"_after", "rank_"+b+"_delta")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	itoa := strconv.Itoa
	money := func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	for _, rows := range [][]Row{r.Partners, r.Members} {
		for _, x := range rows {
			rec := []string{x.Kind, cell(x.ID), cell(x.Name), cell(x.Partner)}
			for _, c := range []Change{x.Lifetime, x.Balance, x.Period} {
				rec = append(rec, i64(c.Before), i64(c.After), i64(c.Delta))
			}
			rec = append(rec, cell(x.Level.Before), cell(x.Level.After), itoa(x.Level.Delta))
			if x.Tier != nil {
				rec = append(rec, cell(x.Tier.Before), cell(x.Tier.After), itoa(x.Tier.Delta))
			} else {
				rec = append(rec, "", "", "")
			}
			rec = append(rec, cell(strings.Join(x.BadgesGained, " ")), cell(strings.Join(x.BadgesLost, " ")))
			if x.Liability != nil {
				rec = append(rec, money(x.Liability.Before), money(x.Liability.After), money(x.Liability.Delta))
			} else {
				rec = append(rec, "", "", "")
			}
			for _, b := range r.Leaderboards {
				var p Place
				for _, q := range x.Ranks {
					if q.Leaderboard == b {
						p = q
					}
				}
				rec = append(rec, itoa(p.Before), itoa(p.After), itoa(p.Delta))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a text cell from being read as a formula by a spreadsheet:
// names come from partners' records.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
