package registration

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rung-dev/rung"
)

// CSVRow is one row of a registrations file, read but not yet checked.
type CSVRow struct {
	Line  int // in the file, the header being line 1
	Input Input
	Err   string // a problem found while reading the row
}

// csvColumns maps the header names a file may use to the field they fill.
var csvColumns = map[string]string{
	"kind": "kind", "type": "kind",
	"partner": "partner", "partner_id": "partner",
	"member": "member", "member_id": "member",
	"company": "company", "company_name": "company", "company.name": "company", "name": "company",
	"domain": "domain", "company_domain": "domain", "company.domain": "domain", "website": "domain",
	"contact_email": "contact_email", "contact.email": "contact_email", "contact": "contact_email", "email": "contact_email",
	"contact_name": "contact_name", "contact.name": "contact_name",
	"notes": "notes", "amount": "amount", "region": "region", "product": "product", "consent": "consent",
}

// MaxCSVRows is the most rows one file may hold.
const MaxCSVRows = 10000

// ReadCSV reads a registrations file: a header row naming the columns
// (company, domain, contact_email, contact_name, kind, partner, member,
// notes, amount, region, product, consent; unknown columns are refused),
// then one registration per row. A row that cannot be read gets its Err;
// a file that cannot be read at all is an error.
func ReadCSV(r io.Reader) ([]CSVRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, rung.Errorf(rung.EINVALID, "the file is empty: give a header row such as company,domain,contact_email,partner")
	}
	if err != nil {
		return nil, rung.Errorf(rung.EINVALID, "the header row cannot be read: %v", err)
	}
	cols := make([]string, len(head))
	seen := map[string]bool{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		f, ok := csvColumns[h]
		if !ok {
			return nil, rung.Errorf(rung.EINVALID, "column %d, %q, is not known: use company, domain, contact_email, contact_name, kind, partner, member, notes, amount, region, product, consent", i+1, clip(h, 40))
		}
		if seen[f] {
			return nil, rung.Errorf(rung.EINVALID, "column %q appears twice", h)
		}
		seen[f], cols[i] = true, f
	}
	var rows []CSVRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if len(rows) >= MaxCSVRows {
			return nil, rung.Errorf(rung.ETOOLARGE, "the file has more than %d rows; split it", MaxCSVRows)
		}
		row := CSVRow{Input: Input{Channel: "csv"}}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row.Line, row.Err = pe.StartLine, fmt.Sprintf("the row cannot be read: %v", pe.Err)
			rows = append(rows, row)
			if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
				// The reader cannot find the next row reliably after a
				// broken quote: stop here.
				return rows, nil
			}
			continue
		}
		if err != nil {
			return nil, rung.Errorf(rung.EINVALID, "the file cannot be read: %v", err)
		}
		row.Line, _ = cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(cols) {
			row.Err = fmt.Sprintf("the row has %d fields; the header has %d", len(rec), len(cols))
			rows = append(rows, row)
			continue
		}
		in := &row.Input
		for i, v := range rec {
			v = strings.TrimSpace(v)
			switch cols[i] {
			case "kind":
				in.Kind = v
			case "partner":
				in.Partner = v
			case "member":
				in.Member = v
			case "company":
				in.CompanyName = v
			case "domain":
				in.CompanyDomain = v
			case "contact_email":
				in.ContactEmail = v
			case "contact_name":
				in.ContactName = v
			case "notes":
				in.Notes = v
			case "region":
				in.Region = v
			case "product":
				in.Product = v
			case "amount":
				if v != "" {
					f, err := strconv.ParseFloat(v, 64)
					if err != nil {
						row.Err = fmt.Sprintf("amount %q is not a number", clip(v, 40))
					}
					in.Amount = f
				}
			case "consent":
				if v != "" {
					yes := strings.EqualFold(v, "yes") || strings.EqualFold(v, "true") || v == "1" || strings.EqualFold(v, "y")
					in.Consent = &yes
				}
			}
		}
		rows = append(rows, row)
	}
}

// RowResult is the outcome of one row of an import.
type RowResult struct {
	Line   int    `json:"line"`
	Status string `json:"status"` // created | existing | duplicate | rejected
	ID     string `json:"id,omitempty"`
	// Conflict is true when the company is under review because another
	// partner registered it too.
	Conflict bool   `json:"conflict,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Import checks every row, catches rows that repeat an earlier row of the
// file (same partner and company), and submits the rest, each on its own:
// a rejected row stores nothing. partner, when set, fills rows without
// one; by is who imports.
func (d *Desk) Import(ctx context.Context, rows []CSVRow, partner, by string) ([]RowResult, error) {
	out := make([]RowResult, len(rows))
	first := map[string]int{}
	set := d.Settings()
	now := d.svc.Now().UTC()
	for i, row := range rows {
		res := &out[i]
		res.Line = row.Line
		if row.Err != "" {
			res.Status, res.Error = "rejected", row.Err
			continue
		}
		in := row.Input
		if in.Partner == "" {
			in.Partner = partner
		}
		in.Channel, in.By = "csv", by
		r, err := d.check(in, now, set)
		if err != nil {
			res.Status, res.Error = "rejected", errorText(err)
			continue
		}
		key := r.Partner + "\x00" + r.CompanyKey
		if l, ok := first[key]; ok {
			res.Status, res.Error = "duplicate", fmt.Sprintf("the same company for the same partner as line %d", l)
			continue
		}
		first[key] = row.Line
		got, created, err := d.Submit(ctx, in)
		if err != nil && got.ID == "" {
			if rung.ErrorCode(err) == rung.EINTERNAL || rung.ErrorCode(err) == rung.EUNAVAILABLE {
				return out[:i], err
			}
			res.Status, res.Error = "rejected", errorText(err)
			continue
		}
		res.ID, res.Conflict = got.ID, len(got.Conflicts) > 0
		res.Status = "existing"
		if created {
			res.Status = "created"
		}
	}
	return out, nil
}

// errorText is an error's message with its details on one line.
func errorText(err error) string {
	var e *rung.Error
	if !errors.As(err, &e) {
		return rung.ErrorMessage(err)
	}
	if len(e.Details) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.String()
	}
	return strings.Join(parts, "; ")
}

// ErrorText is the one-line message of an error for a channel's reply.
func ErrorText(err error) string { return errorText(err) }

// WriteResultsCSV writes import results as CSV: line, status, id,
// conflict, error.
func WriteResultsCSV(w io.Writer, rs []RowResult) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"line", "status", "id", "conflict", "error"})
	for _, r := range rs {
		cw.Write([]string{strconv.Itoa(r.Line), r.Status, r.ID, strconv.FormatBool(r.Conflict), csvSafe(r.Error)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
