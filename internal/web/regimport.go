package web

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/registration"
)

// regImportData is the outcome of a CSV upload in the portal.
type regImportData struct {
	Rows                                  []regImportRow
	Created, Existing, Duplicate, Refused int
	// Download is the results as a CSV data URL, to save with the
	// browser's download.
	Download template.URL
	NoFile   bool   // the form came without a file
	Error    string // the file as a whole could not be read
}

// regImportRow is a row's result with its outcome in the viewer's words.
type regImportRow struct {
	registration.RowResult
	Outcome string
}

func importOutcome(l *Locale, status string) string {
	switch status {
	case "created":
		return l.T("Registered")
	case "existing":
		return l.T("Already registered")
	case "duplicate":
		return l.T("Repeated in the file")
	}
	return l.T("Refused")
}

// importRegistrations takes a CSV file of registrations from the portal:
// every row is checked and submitted on its own for the viewer's partner,
// and the page lists each row's result. A row naming another partner is
// refused; a member who is not the partner's admin registers as itself.
func (h *Handler) importRegistrations(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r)
	d := &portalRegData{Errors: map[string]string{}, Import: &regImportData{}}
	f, _, err := r.FormFile("file")
	if err != nil {
		d.Import.NoFile = true
		h.portalRegistrationsPage(w, r, d, http.StatusBadRequest)
		return
	}
	defer f.Close()
	rows, err := registration.ReadCSV(f)
	if rung.ErrorCode(err) == rung.EINVALID {
		d.Import.Error = requestLocale(r).Err(err)
		h.portalRegistrationsPage(w, r, d, http.StatusBadRequest)
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i := range rows {
		in := &rows[i].Input
		switch {
		case rows[i].Err != "":
		case in.Partner != "" && in.Partner != v.Partner:
			rows[i].Err = "the partner column names another partner: upload only your own registrations (or leave the column out)"
		case !v.PartnerAdmin() && in.Member != "" && in.Member != v.Account.Member:
			rows[i].Err = "the member column names someone else: only your partner's admin registers for others"
		case in.Member == "" && !v.PartnerAdmin():
			in.Member = v.Account.Member
		}
	}
	res, err := h.desk.Import(r.Context(), rows, v.Partner, "member:"+v.Account.Member)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	im := d.Import
	l := newLocale(pickLocale(v.Account.Locale, r), time.UTC)
	for _, x := range res {
		im.Rows = append(im.Rows, regImportRow{x, importOutcome(l, x.Status)})
		switch x.Status {
		case "created":
			im.Created++
		case "existing":
			im.Existing++
		case "duplicate":
			im.Duplicate++
		default:
			im.Refused++
		}
	}
	var buf bytes.Buffer
	registration.WriteResultsCSV(&buf, res)
	// A data URL Rung built from its own results: safe to link.
	im.Download = template.URL("data:text/csv;charset=utf-8," + url.PathEscape(buf.String()))
	h.portalRegistrationsPage(w, r, d, http.StatusOK)
}
