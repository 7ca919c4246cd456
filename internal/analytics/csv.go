package analytics

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The CSV forms of the reports: one row per week (engagement, points,
// indicators), per partner (outcomes), per tier move (tiers), or one
// summary row (rewards). The first row names the columns.

func day(t time.Time) string { return t.Format("2006-01-02") }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func optf(f *float64) string {
	if f == nil {
		return ""
	}
	return ftoa(*f)
}

// cell keeps a spreadsheet from reading a text taken from the data (a
// partner's name, an event type) as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeAll(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteCSV writes the engagement report: a row per week with an event
// count per type.
func (r Engagement) WriteCSV(w io.Writer) error {
	types := make([]string, 0, len(r.ByType))
	for _, t := range r.ByType {
		types = append(types, t.Type)
	}
	sort.Strings(types)
	header := []string{"week", "active_partners", "active_members", "share_partners_active"}
	for _, t := range types {
		header = append(header, cell(t))
	}
	rows := [][]string{header}
	for _, wk := range r.Weeks {
		row := []string{day(wk.Start), itoa(int64(wk.ActivePartners)), itoa(int64(wk.ActiveMembers)), ftoa(wk.ShareActive)}
		for _, t := range types {
			row = append(row, itoa(int64(wk.Events[t])))
		}
		rows = append(rows, row)
	}
	return writeAll(w, rows)
}

// WriteCSV writes the points report: a row per week.
func (r Points) WriteCSV(w io.Writer) error {
	rows := [][]string{{"week", "issued", "expired", "redeemed"}}
	for _, wk := range r.Weeks {
		rows = append(rows, []string{day(wk.Start), itoa(wk.Issued), itoa(wk.Expired), itoa(wk.Redeemed)})
	}
	return writeAll(w, rows)
}

// WriteCSV writes the outcomes report: a row per active partner.
func (r Outcomes) WriteCSV(w io.Writer) error {
	rows := [][]string{{"partner", "name", "points", "engagement_points", "revenue", "registrations", "won", "win_rate"}}
	for _, p := range r.Partners {
		rows = append(rows, []string{cell(p.Partner), cell(p.Name), itoa(p.Points), itoa(p.EngagementPoints), ftoa(p.Revenue),
			itoa(int64(p.Registrations)), itoa(int64(p.Won)), optf(p.WinRate)})
	}
	return writeAll(w, rows)
}

// WriteCSV writes the indicators: a row per week.
func (r Indicators) WriteCSV(w io.Writer) error {
	rows := [][]string{{"week", "trainings", "qualified_registrations", "first_meetings", "won"}}
	for _, wk := range r.Weeks {
		rows = append(rows, []string{day(wk.Start), itoa(int64(wk.Trainings)), itoa(int64(wk.Qualified)), itoa(int64(wk.FirstMeetings)), itoa(int64(wk.Won))})
	}
	return writeAll(w, rows)
}

// WriteCSV writes the tier mobility table.
func (r Tiers) WriteCSV(w io.Writer) error {
	rows := [][]string{{"quarter", "from", "to", "partners"}}
	for _, m := range r.Mobility {
		rows = append(rows, []string{cell(m.Quarter), cell(m.From), cell(m.To), itoa(int64(m.Count))})
	}
	return writeAll(w, rows)
}

// WriteCSV writes the rewards report as one row.
func (r Rewards) WriteCSV(w io.Writer) error {
	return writeAll(w, [][]string{
		{"from", "to", "redemptions", "points", "point_value", "cost", "outstanding_points", "liability",
			"redeemers", "redeemers_mean_revenue", "others", "others_mean_revenue"},
		{day(r.From), day(r.To), itoa(int64(r.Redemptions)), itoa(r.Points), ftoa(r.PointValue), ftoa(r.Cost),
			itoa(r.Outstanding), ftoa(r.Liability), itoa(int64(r.Redeemers.N)), ftoa(r.Redeemers.MeanRevenue),
			itoa(int64(r.Others.N)), ftoa(r.Others.MeanRevenue)},
	})
}
