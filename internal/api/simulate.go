package api

import (
	"net/http"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/simulate"
)

// simulateProgram answers POST /api/v1/program/simulate: the YAML of a
// draft program in the body (as PUT /api/v1/program takes it), the period
// in from/to (RFC 3339), the rows' order in sort, at most limit rows of
// each kind, all=true for unchanged rows too, and format=csv (or Accept:
// text/csv) for a CSV download instead of JSON. Nothing is written.
func (h *Handler) simulateProgram(w http.ResponseWriter, r *http.Request) {
	src, err := readYAML(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	o := simulate.Options{Now: h.svc.Now()}
	if o.From, err = timeParam(r, "from"); err != nil {
		writeError(w, err)
		return
	}
	if o.To, err = timeParam(r, "to"); err != nil {
		writeError(w, err)
		return
	}
	limit, err := intParam(r, "limit", 0)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	all := q.Get("all") == "true"
	csv := q.Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv")
	if f := q.Get("format"); f != "" && f != "csv" && f != "json" {
		writeError(w, rung.Errorf(rung.EINVALID, "format=%q: use json (the default) or csv", f))
		return
	}
	rep, err := simulate.Serve(r.Context(), h.svc.Store(), h.svc.Read, src, o)
	if err != nil {
		writeError(w, err)
		return
	}
	sort := q.Get("sort")
	if sort == "" {
		sort = "-lifetime"
	}
	if err := rep.Sort(sort); err != nil {
		writeError(w, err)
		return
	}
	rep.Trim(all, limit)
	if csv {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="simulation.csv"`)
		rep.WriteCSV(w)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
