package source

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// hubspotColumns names the HubSpot property behind the column labels of
// HubSpot's exports, so that a mapping written for the webhooks (dealstage)
// reads an export too. Each row keeps its columns under their labels as
// well ("Deal Stage").
var hubspotColumns = map[string]string{
	"Record ID": HubSpotRecordField, "Deal Name": "dealname", "Deal Stage": "dealstage", "Amount": "amount",
	"Close Date": "closedate", "Pipeline": "pipeline", "Deal owner": "hubspot_owner_id", "Deal Owner": "hubspot_owner_id",
	"Create Date": "createdate", "Last Modified Date": "hs_lastmodifieddate", "Deal Type": "dealtype",
	"Company name": "name", "Company Name": "name", "Company Domain Name": "domain", "Website URL": "website",
	"Email": "email", "First Name": "firstname", "Last Name": "lastname", "Job Title": "jobtitle",
	"Contact owner": "hubspot_owner_id", "Company owner": "hubspot_owner_id", "Lifecycle Stage": "lifecyclestage",
}

// salesforceColumns names the Salesforce field behind the column labels of
// Salesforce report exports; Data Loader exports use the API names
// already, which pass unchanged.
var salesforceColumns = map[string]string{
	"Opportunity ID": SalesforceRecordField, "Opportunity Name": "Name", "Stage": "StageName", "Amount": "Amount",
	"Close Date": "CloseDate", "Account Name": "Account.Name", "Account ID": "AccountId", "Opportunity Owner": "Owner.Name",
	"Created Date": "CreatedDate", "Last Modified Date": "LastModifiedDate", "Probability (%)": "Probability",
	"Type": "Type", "Lead Source": "LeadSource", "Lead ID": SalesforceRecordField, "Contact ID": SalesforceRecordField,
	"Email": "Email", "First Name": "FirstName", "Last Name": "LastName", "Company / Account": "Company",
}

// csvObjects guesses a file's object from a column only its exports have.
var csvObjects = map[string][][2]string{
	KindHubSpotCSV: {{"Deal Name", "deal"}, {"Deal Stage", "deal"}, {"Company Domain Name", "company"}, {"Company name", "company"}, {"Email", "contact"}},
	KindSalesforceCSV: {{"Opportunity ID", "Opportunity"}, {"Lead ID", "Lead"}, {"Contact ID", "Contact"}, {"Account ID", "Account"},
		{"StageName", "Opportunity"}},
}

// MaxCSVRows is the most rows one import may hold.
const MaxCSVRows = 100000

// ParseCSV reads an export: HubSpot's (kind hubspot-csv), Salesforce's
// (salesforce-csv) or any CSV with a header row (csv). object names the
// records' object; when empty it is guessed from the columns (Deal Name:
// deal, Opportunity ID: Opportunity, ...). Each row is a full record: its
// id from Record ID, Opportunity ID (or Id), or the id column of a plain
// CSV; its version from Last Modified Date when there is one. Empty cells
// are absent fields.
func ParseCSV(kind, object string, body []byte) ([]Change, error) {
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("the file is not UTF-8 text: export it as CSV in UTF-8")
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the file is empty: expected a header row and a row per record")
	}
	if err != nil {
		return nil, fmt.Errorf("header row: %v", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	var names map[string]string
	idField := "id"
	switch kind {
	case KindHubSpotCSV:
		names, idField = hubspotColumns, HubSpotRecordField
	case KindSalesforceCSV:
		names, idField = salesforceColumns, SalesforceRecordField
	case KindCSV:
	default:
		return nil, fmt.Errorf("unknown CSV kind %q: expected hubspot, salesforce or csv", kind)
	}
	if object == "" {
		object = guessObject(kind, header)
	}
	if object == "" {
		return nil, fmt.Errorf("cannot tell the file's object from its columns: name it (--object deal, ?object=Opportunity)")
	}
	hasID := false
	for _, h := range header {
		if h == idField || names[h] == idField || strings.EqualFold(h, idField) {
			hasID = true
		}
	}
	if !hasID && kind != KindCSV {
		want := map[string]string{KindHubSpotCSV: `"Record ID"`, KindSalesforceCSV: `"Opportunity ID" (or Id)`}[kind]
		return nil, fmt.Errorf("no record id column: the export needs %s so each row's events keep their ids", want)
	}
	var out []Change
	for line := 2; ; line++ {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("row %d: %v", line, err)
		}
		if len(out) == MaxCSVRows {
			return nil, fmt.Errorf("more than %d rows: split the file", MaxCSVRows)
		}
		c := Change{Object: object, Fields: map[string]any{}}
		for i, v := range row {
			if i >= len(header) || header[i] == "" {
				continue
			}
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			c.Fields[header[i]] = v
			if n := names[header[i]]; n != "" {
				c.Fields[n] = v
			}
		}
		if len(c.Fields) == 0 {
			continue // a blank line
		}
		if id, ok := c.field(idField); ok {
			c.Record = text(id)
		}
		for _, f := range []string{"hs_lastmodifieddate", "LastModifiedDate", "last_modified", "updated_at"} {
			if v, ok := c.Fields[f]; ok {
				if t, ok := parseTime(v); ok {
					c.Version = t.UnixMilli()
				}
				break
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func guessObject(kind string, header []string) string {
	for _, g := range csvObjects[kind] {
		for _, h := range header {
			if h == g[0] {
				return g[1]
			}
		}
	}
	return ""
}
