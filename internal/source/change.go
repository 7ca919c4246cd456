// Package source turns what CRMs, LMSs and exports send into Rung events
// (docs/sources.md): HubSpot webhooks, Salesforce Outbound Messages and
// Change Data Capture relayed as JSON, a generic signed JSON webhook, and
// CSV exports of HubSpot and Salesforce. Each payload is parsed into
// Changes; the program's sources section maps each Change to events, which
// go through the same write path as POST /api/v1/events.
package source

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The kinds of delivery, as stored with each one.
const (
	KindHubSpot       = "hubspot"
	KindSalesforce    = "salesforce"     // Outbound Messages (SOAP)
	KindSalesforceCDC = "salesforce-cdc" // Change Data Capture and Platform Events, relayed as JSON
	KindWebhook       = "webhook"
	KindHubSpotCSV    = "hubspot-csv"
	KindSalesforceCSV = "salesforce-csv"
	KindCSV           = "csv"
)

// system returns the sources key of the program whose mappings apply to a
// kind of delivery: CSV exports of HubSpot use the hubspot mappings, so an
// import and the webhooks make the same events.
func system(kind string) string {
	switch kind {
	case KindHubSpot, KindHubSpotCSV:
		return "hubspot"
	case KindSalesforce, KindSalesforceCDC, KindSalesforceCSV:
		return "salesforce"
	case KindWebhook:
		return "webhook"
	}
	return "csv"
}

// Change is one record's change as a source reported it.
type Change struct {
	Object string // deal, Opportunity, course, ...
	Record string // the record's id in its system
	// Version orders the changes of one record: HubSpot's occurredAt,
	// Salesforce's commitNumber or LastModifiedDate (in milliseconds), the
	// webhook's version. 0 when unknown.
	Version int64
	At      time.Time // when the change happened; zero when unknown
	Deleted bool
	// Changed lists the fields that changed; nil means every field in
	// Fields (a full record).
	Changed []string
	Fields  map[string]any
}

// changedField reports whether a field changed.
func (c *Change) changedField(f string) bool {
	if c.Changed == nil {
		_, ok := c.field(f)
		return ok
	}
	for _, g := range c.Changed {
		if g == f || strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}

// field returns a field's value, matching the name exactly and then
// without regard to case (Salesforce's API names are case-insensitive).
func (c *Change) field(f string) (any, bool) {
	if v, ok := c.Fields[f]; ok {
		return v, true
	}
	for k, v := range c.Fields {
		if strings.EqualFold(k, f) {
			return v, true
		}
	}
	return nil, false
}

// text formats a field value as text: numbers in their shortest form.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// plainNumber is a decimal number as CRMs write them, without leading
// zeros that would make it an identifier ("007").
var plainNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`)

// attrValue turns a field value into an event attribute: text that is a
// plain decimal number becomes a number and "true"/"false" a bool, since
// HubSpot, Salesforce XML and CSV send every value as text.
func attrValue(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	switch {
	case s == "true":
		return true
	case s == "false":
		return false
	case plainNumber.MatchString(s) && len(s) < 20:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	}
	return v
}

// timeLayouts are the ways CRMs and their exports write times, tried in
// order; a time without a zone is UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000-0700", // Salesforce's own REST format
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"1/2/2006 3:04 PM", // Salesforce report exports (US locale)
	"1/2/2006",
}

// parseTime reads a field as a time: one of timeLayouts, or milliseconds
// since 1970 (HubSpot's date properties), as a number or as text.
func parseTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case float64:
		return msTime(int64(v))
	case string:
		s := strings.TrimSpace(v)
		if plainNumber.MatchString(s) && len(s) >= 10 && len(s) <= 16 && !strings.Contains(s, ".") {
			n, _ := strconv.ParseInt(s, 10, 64)
			return msTime(n)
		}
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

func msTime(ms int64) (time.Time, bool) {
	if ms <= 0 || ms > 7258118400000 { // 2200-01-01
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

// domainOf returns the host part of an e-mail address or web address, or
// the text itself when it is a bare domain.
func domainOf(s string) string {
	s = strings.TrimSpace(strings.ToLower(s))
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[i+1:]
	}
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			return u.Hostname()
		}
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return s
}
