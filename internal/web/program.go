package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
)

// srcLine is one line of a program file with the problems found on it.
type srcLine struct {
	N      int
	Text   string
	Errors []string
}

type programData struct {
	Source        string
	EffectiveFrom string
	Lines         []srcLine // the file with its problems at their lines
	Errors        []rung.Detail
	ErrorCount    int
	Problem       string // a problem with the form itself
	Valid         bool
	Applied       int
	Versions      []rung.ProgramVersion // newest first
	Current       int
}

// program shows the active program, the editor and the version history.
func (h *Handler) program(w http.ResponseWriter, r *http.Request) {
	d := &programData{}
	if err := h.loadVersions(r, d); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(d.Versions) > 0 {
		d.Source = d.Versions[0].Source
	}
	if v, _ := strconv.Atoi(r.URL.Query().Get("applied")); v > 0 {
		d.Applied = v
	}
	h.render(w, http.StatusOK, "program", h.newPage(w, r, "Program", "program", d))
}

func (h *Handler) loadVersions(r *http.Request, d *programData) error {
	vs, err := h.st.Programs(r.Context())
	if err != nil {
		return err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		d.Versions = append(d.Versions, vs[i])
	}
	if len(vs) > 0 {
		d.Current = vs[len(vs)-1].Version
	}
	return nil
}

// postProgram validates (action=validate) or applies (action=apply) a
// program from the editor or an uploaded file. Problems are shown at
// their lines, with the text kept.
func (h *Handler) postProgram(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	d := &programData{Source: r.PostForm.Get("source"), EffectiveFrom: strings.TrimSpace(r.PostForm.Get("effective_from"))}
	if r.MultipartForm != nil {
		if fh := r.MultipartForm.File["file"]; len(fh) > 0 && fh[0].Size > 0 {
			f, err := fh[0].Open()
			if err == nil {
				var b strings.Builder
				buf := make([]byte, 32<<10)
				for {
					n, err := f.Read(buf)
					b.Write(buf[:n])
					if err != nil {
						break
					}
				}
				f.Close()
				d.Source = b.String()
			}
		}
	}
	d.Source = strings.ReplaceAll(d.Source, "\r\n", "\n")
	if err := h.loadVersions(r, d); err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.newPage(w, r, "Program", "program", d)
	var eff time.Time
	if d.EffectiveFrom != "" {
		var err error
		if eff, err = time.Parse(time.RFC3339, d.EffectiveFrom); err != nil {
			if eff, err = time.ParseInLocation("2006-01-02", d.EffectiveFrom, p.L.loc); err != nil {
				d.Problem = p.L.T("Effective from must be a date such as 2026-12-01 or a time such as 2026-12-01T00:00:00Z.")
				h.render(w, http.StatusBadRequest, "program", p)
				return
			}
		}
	}
	if strings.TrimSpace(d.Source) == "" {
		d.Problem = p.L.T("The program is empty: paste it into the editor or choose a file.")
		h.render(w, http.StatusBadRequest, "program", p)
		return
	}
	_, err := service.ValidateProgram([]byte(d.Source))
	if err == nil && r.PostForm.Get("action") == "apply" {
		var ver int
		ver, err = h.svc.ApplyProgram(r.Context(), []byte(d.Source), eff, "user:"+v.Account.ID)
		if err == nil {
			h.stats.refreshSoon()
			redirect(w, r, "/admin/program?applied="+strconv.Itoa(ver))
			return
		}
	}
	if err != nil {
		var re *rung.Error
		if !errors.As(err, &re) || re.Code != rung.EINVALID {
			h.fail(w, r, err)
			return
		}
		details := make([]rung.Detail, len(re.Details))
		for i, pd := range re.Details {
			details[i] = pd
			details[i].Message = p.L.Problem(pd)
		}
		d.Errors, d.ErrorCount = details, len(details)
		if d.ErrorCount == 0 {
			d.Errors, d.ErrorCount = []rung.Detail{{Message: re.Message}}, 1
		}
		d.Lines = annotate(d.Source, details)
		h.render(w, http.StatusUnprocessableEntity, "program", p)
		return
	}
	d.Valid = true
	h.render(w, http.StatusOK, "program", p)
}

// annotate numbers a file's lines and attaches each problem to its line.
func annotate(src string, ds []rung.Detail) []srcLine {
	lines := strings.Split(src, "\n")
	out := make([]srcLine, len(lines))
	for i, l := range lines {
		out[i] = srcLine{N: i + 1, Text: l}
	}
	for _, d := range ds {
		msg := d.Message
		if d.Key != "" {
			msg = d.Key + ": " + msg
		}
		if d.Line >= 1 && d.Line <= len(out) {
			out[d.Line-1].Errors = append(out[d.Line-1].Errors, msg)
		}
	}
	return out
}

type diffData struct {
	From, To int
	Lines    []DiffLine
	Versions []rung.ProgramVersion
	Added    int
	Removed  int
}

// programDiff shows a line diff between two program versions.
func (h *Handler) programDiff(w http.ResponseWriter, r *http.Request) {
	vs, err := h.st.Programs(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := &diffData{}
	d.From, _ = strconv.Atoi(q.Get("from"))
	d.To, _ = strconv.Atoi(q.Get("to"))
	if d.To == 0 && len(vs) > 0 {
		d.To = vs[len(vs)-1].Version
	}
	if d.From == 0 {
		d.From = d.To - 1
	}
	var a, b *rung.ProgramVersion
	for i := range vs {
		if vs[i].Version == d.From {
			a = &vs[i]
		}
		if vs[i].Version == d.To {
			b = &vs[i]
		}
	}
	for i := len(vs) - 1; i >= 0; i-- {
		d.Versions = append(d.Versions, vs[i])
	}
	if b == nil || (a == nil && d.From != 0) {
		h.fail(w, r, errNotFound)
		return
	}
	old := ""
	if a != nil {
		old = a.Source
	}
	d.Lines = Diff(old, b.Source)
	for _, l := range d.Lines {
		switch l.Op {
		case '+':
			d.Added++
		case '-':
			d.Removed++
		}
	}
	h.render(w, http.StatusOK, "diff", h.newPage(w, r, "Program", "program", d))
}
