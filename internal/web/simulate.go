package web

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/simulate"
)

// simulateRows is how many rows of each kind the page shows; the CSV has
// them all.
const simulateRows = 200

type simulateData struct {
	Source   string
	From, To string // as typed: dates or RFC 3339 times
	Sort     string
	Report   *simulate.Report
	Columns  []simulateColumn
	More     struct{ Partners, Members int } // rows beyond the page
	Problem  string
	Errors   []rung.Detail
	Periodic bool // the draft scores from a date on
}

// simulateColumn is a sortable delta column of the tables.
type simulateColumn struct {
	Key, Label string
	Sorted     string // "", "asc" or "desc"
}

// postSimulate simulates the editor's draft against the recorded history
// (action or format=csv for a download) and shows what it would change,
// with a button that applies it through the editor's path.
func (h *Handler) postSimulate(w http.ResponseWriter, r *http.Request) {
	d := &simulateData{Source: r.PostForm.Get("source"), From: strings.TrimSpace(r.PostForm.Get("from")),
		To: strings.TrimSpace(r.PostForm.Get("to")), Sort: r.PostForm.Get("sort")}
	if r.MultipartForm != nil {
		if fh := r.MultipartForm.File["file"]; len(fh) > 0 && fh[0].Size > 0 {
			if f, err := fh[0].Open(); err == nil {
				b, _ := io.ReadAll(io.LimitReader(f, 4<<20))
				f.Close()
				d.Source = string(b)
			}
		}
	}
	d.Source = strings.ReplaceAll(d.Source, "\r\n", "\n")
	if d.Sort == "" {
		d.Sort = "-lifetime"
	}
	p := h.newPage(w, r, "Simulate a draft", "program", d)
	if strings.TrimSpace(d.Source) == "" {
		d.Problem = p.L.T("The program is empty: paste it into the editor or choose a file.")
		h.render(w, http.StatusBadRequest, "simulate", p)
		return
	}
	o := simulate.Options{Now: h.svc.Now()}
	var err error
	if o.From, err = formTime(d.From, p.L.loc); err != nil {
		d.Problem = p.L.T("From and to must be dates such as 2026-10-01 or times such as 2026-10-01T00:00:00Z.")
		h.render(w, http.StatusBadRequest, "simulate", p)
		return
	}
	if o.To, err = formTime(d.To, p.L.loc); err != nil {
		d.Problem = p.L.T("From and to must be dates such as 2026-10-01 or times such as 2026-10-01T00:00:00Z.")
		h.render(w, http.StatusBadRequest, "simulate", p)
		return
	}
	d.Periodic = !o.From.IsZero()
	rep, err := simulate.Serve(r.Context(), h.st, h.svc.Read, []byte(d.Source), o)
	if err != nil {
		var re *rung.Error
		if !errors.As(err, &re) || (re.Code != rung.EINVALID && re.Code != rung.EUNAVAILABLE) {
			h.fail(w, r, err)
			return
		}
		// The editor shows a draft's problems at their lines.
		if re.Code == rung.EINVALID && len(re.Details) > 0 {
			h.postProgram(w, r)
			return
		}
		d.Problem = p.L.Err(re)
		h.render(w, http.StatusUnprocessableEntity, "simulate", p)
		return
	}
	if err := rep.Sort(d.Sort); err != nil {
		d.Sort = "-lifetime"
		rep.Sort(d.Sort)
	}
	if r.PostForm.Get("format") == "csv" {
		rep.Trim(r.PostForm.Get("all") == "true", 0)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="simulation.csv"`)
		rep.WriteCSV(w)
		return
	}
	rep.Trim(false, 0)
	d.More.Partners, d.More.Members = max(0, len(rep.Partners)-simulateRows), max(0, len(rep.Members)-simulateRows)
	rep.Partners, rep.Members = rep.Partners[:min(len(rep.Partners), simulateRows)], rep.Members[:min(len(rep.Members), simulateRows)]
	d.Report = rep
	for _, c := range []struct{ key, label string }{
		{"lifetime", p.L.T("Lifetime points")}, {"balance", p.L.T("Balance")}, {"period", p.L.T("Points in the period")},
		{"level", p.L.T("Level")}, {"tier", p.L.T("Qualified tier")}, {"badges", p.L.T("Badges")},
	} {
		col := simulateColumn{Key: c.key, Label: c.label}
		switch d.Sort {
		case c.key:
			col.Sorted = "asc"
		case "-" + c.key:
			col.Sorted = "desc"
		}
		d.Columns = append(d.Columns, col)
	}
	h.render(w, http.StatusOK, "simulate", p)
}

// formTime reads a date (midnight in loc) or an RFC 3339 time; "" is zero.
func formTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation(time.DateOnly, s, loc)
}

// Signed formats a change with its sign: +1,200, −300, 0.
func (d *simulateData) Signed(l *Locale, n any) string {
	s := l.Num(n)
	switch {
	case strings.HasPrefix(s, "-"):
		return "−" + s[1:]
	case s != "0":
		return "+" + s
	}
	return s
}

// NextSort is the sort a column header asks for: descending first, then
// ascending.
func (c simulateColumn) NextSort() string {
	if c.Sorted == "desc" {
		return c.Key
	}
	return "-" + c.Key
}

// simulateTable is one of the page's two tables.
type simulateTable struct {
	L       *Locale
	D       *simulateData
	ID      string
	Title   string
	Members bool
	Rows    []simulate.Row
	More    int
}

// Table returns the partners' table, or the members' one.
func (d *simulateData) Table(l *Locale, members bool) simulateTable {
	if members {
		return simulateTable{L: l, D: d, ID: "sim-members", Title: l.T("Members"), Members: true, Rows: d.Report.Members, More: d.More.Members}
	}
	return simulateTable{L: l, D: d, ID: "sim-partners", Title: l.T("Partners"), Rows: d.Report.Partners, More: d.More.Partners}
}
